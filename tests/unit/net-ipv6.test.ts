// Docker `--ipv6` networks: discovery of the IPv6 addresses, default route and routes (fixtures
// captured from a runc container on two --ipv6 networks, docker 20.10, iproute2 6.1), the
// container-side plan that hands them to the VM, and the VM-side ip batch (RUNCVM_IPV6 on/off).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseIpJson } from '../../lib/net/discover.js'
import { planBridges } from '../../lib/net/plan.js'
import { hotPlanText, vmHotplugWatchScript } from '../../lib/net/hotplug.js'
import { netLines } from '../../lib/vm/net.js'

const fx = (name: string) => readFileSync(join(__dirname, '../fixtures/ip', name), 'utf8')
const captured = () => parseIpJson(fx('ipv6.link.json'), fx('ipv6.addr.json'), fx('ipv6.route.json'), fx('ipv6.route6.json'))
const OPTS = { ip: '/g/ip', xtables: '/g/xtables-nft-multi', precreateTap: true }

const BUSYBOX = ['dist/opt/runcvm/usr/bin/busybox', '/bin/busybox'].find(existsSync)
const sh = (script: string) => execFileSync(BUSYBOX ?? '/bin/sh', [...(BUSYBOX ? ['sh'] : []), '-c', script], { encoding: 'utf8' })

/** The VM's ip batch as netLines builds it, with NICs found by MAC under their container names. */
function vmBatch(ipv6: boolean): string[] {
  const net = captured()
  const fake = 'nic() { case $1 in 52:54:00:1d:42:02) D=ens4 ;; 52:54:00:1d:43:02) D=ens5 ;; *) return 1 ;; esac; }\n'
  const body = netLines(net, '/bin/cat', ipv6).join('\n').replace(/>&9/, '>&2')
    .replace("'/bin/cat' -force -batch - <<RUNCVM_EOF 8>&- 9>&- &", 'cat <<RUNCVM_EOF') + '\nwait'
  return sh(fake + body + '\n').split('\n').filter(l => l !== '')
}

describe('parseIpJson with `ip -json -6 route` (two --ipv6 networks)', () => {
  it('global IPv6 addresses per interface, the IPv6 gateway on the IPv6 default-route interface, no link-local', () => {
    expect(captured()).toEqual({
      v: 1,
      interfaces: [
        { name: 'eth1', mac: '02:42:ac:1d:43:02', mtu: 1500, ip: '172.29.67.2', prefix: 24, ip6: [{ ip: 'fd6c:7a12::2', prefix: 64 }] },
        { name: 'eth0', mac: '02:42:ac:1d:42:02', mtu: 1500, ip: '172.29.66.2', prefix: 24, gateway: '172.29.66.1', ip6: [{ ip: 'fd6c:7a11::2', prefix: 64 }], gateway6: 'fd6c:7a11::1' },
      ],
      routes: [],
    })
  })
  it('without the IPv6 route view: addresses still, no IPv6 gateway; IPv4-only captures gain no IPv6 field', () => {
    const n = parseIpJson(fx('ipv6.link.json'), fx('ipv6.addr.json'), fx('ipv6.route.json'))
    expect(n.interfaces.map(i => [i.ip6?.[0]?.ip, i.gateway6])).toEqual([['fd6c:7a12::2', undefined], ['fd6c:7a11::2', undefined]])
    const v4 = parseIpJson(fx('single.link.json'), fx('single.addr.json'), fx('single.route.json'), '[]')
    expect(v4.interfaces.every(i => !('ip6' in i) && !('gateway6' in i))).toBe(true)
  })
  it('IPv6 routes via a gateway are kept for the VM (after the IPv4 ones)', () => {
    const r6 = JSON.parse(fx('ipv6.route6.json')) as object[]
    r6.push({ dst: 'fd99::/48', gateway: 'fd6c:7a12::1', dev: 'eth1', metric: 1024, flags: [] })
    const n = parseIpJson(fx('ipv6.link.json'), fx('ipv6.addr.json'), fx('ipv6.route.json'), JSON.stringify(r6))
    expect(n.routes).toEqual([{ dst: 'fd99::/48', gateway: 'fd6c:7a12::1', dev: 'eth1' }])
  })
  it('bad IPv6 route output says which view', () => {
    expect(() => parseIpJson(fx('ipv6.link.json'), fx('ipv6.addr.json'), fx('ipv6.route.json'), '{')).toThrow(/ip -json -6 route/)
  })
})

describe('container side: the IPv6 addresses go to the VM', () => {
  it('golden: two --ipv6 networks', async () => {
    const text = planBridges(captured(), OPTS).map(c => c.join(' ')).join('\n') + '\n'
    await expect(text).toMatchFileSnapshot('../golden/net-ipv6.cmds')
  })
  it('veth, bridge and tap get no link-local address; the IPv6 default route leaves the container', () => {
    const cmds = planBridges(captured(), OPTS).map(c => c.join(' '))
    for (const d of ['eth0', 'br-eth0', 'tap-eth0', 'eth1', 'br-eth1', 'tap-eth1']) expect(cmds).toContain(`/g/ip link set dev ${d} addrgenmode none`)
    expect(cmds).toContain('/g/ip route del default via fd6c:7a11::1 dev eth0')
    // addrgenmode none before the link comes up (an up link derives its link-local address at once).
    expect(cmds.indexOf('/g/ip link set dev br-eth0 addrgenmode none')).toBeLessThan(cmds.indexOf('/g/ip link set dev br-eth0 up'))
    expect(cmds.indexOf('/g/ip link set dev tap-eth0 addrgenmode none')).toBeLessThan(cmds.findIndex(c => c.startsWith('/g/ip link set dev tap-eth0 up')))
  })
})

describe('VM side: ip batch', () => {
  it('IPv6 on: Docker\'s addresses (nodad) on the matching NIC and the IPv6 default route', () => {
    const b = vmBatch(true)
    expect(b).toContain('addr add fd6c:7a11::2/64 dev eth0 nodad')
    expect(b).toContain('addr add fd6c:7a12::2/64 dev eth1 nodad')
    expect(b).toContain('route add default via fd6c:7a11::1 dev eth0')
    // the default route needs the link up (the gateway is reached through its prefix route)
    expect(b.indexOf('route add default via fd6c:7a11::1 dev eth0')).toBeGreaterThan(b.indexOf('link set dev eth0 up mtu 1500'))
  })
  it('RUNCVM_IPV6=off: no IPv6 line at all (the guest kernel has no IPv6); IPv4 unchanged', () => {
    const on = vmBatch(true)
    const off = vmBatch(false)
    expect(off.filter(l => l.includes(':'))).toEqual([])
    expect(off).toEqual(on.filter(l => !/fd6c/.test(l)))
  })
  it('IPv6 routes are skipped with IPv6 off', () => {
    const net = captured()
    net.routes.push({ dst: 'fd99::/48', gateway: 'fd6c:7a12::1', dev: 'eth1' }, { dst: '10.9.0.0/16', gateway: '172.29.67.1', dev: 'eth1' })
    const text = (on: boolean) => netLines(net, '/g/ip', on).join('\n')
    expect(text(true)).toContain('route add fd99::/48 via fd6c:7a12::1 dev eth1')
    expect(text(false)).not.toContain('fd99::')
    expect(text(false)).toContain('route add 10.9.0.0/16 via 172.29.67.1 dev eth1')
  })
  it('hot-plug: a connected --ipv6 network gets its addresses when the guest has IPv6', () => {
    const eth1 = captured().interfaces[0]
    expect(hotPlanText({ nif: eth1, port: 0 })).toContain('addr6 fd6c:7a12::2/64\n')
    expect(vmHotplugWatchScript('/g/ip', '/g/busybox')).toContain('addr6) [ ! -e /proc/net/if_inet6 ] || B="${B}addr add $a1 dev $n nodad$NL"')
  })
})
