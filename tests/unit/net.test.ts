import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cidrOf, intToIp, ipToInt, networkOf } from '../../lib/net/cidr.js'
import { parseIpJson } from '../../lib/net/discover.js'
import { guestMac, planBridges, rewriteResolvConf } from '../../lib/net/plan.js'
import { rpFilterWarning } from '../../lib/net/rp-filter.js'

const fx = (name: string) => readFileSync(join(__dirname, '../fixtures/ip', name), 'utf8')
const captured = (kind: 'single' | 'multi') => parseIpJson(fx(`${kind}.link.json`), fx(`${kind}.addr.json`), fx(`${kind}.route.json`))
const OPTS = { ip: '/g/ip', xtables: '/g/xtables-nft-multi', precreateTap: true }

describe('cidr', () => {
  it.each([
    ['172.17.0.2', 16, '172.17.0.0'],
    ['10.1.2.3', 8, '10.0.0.0'],
    ['192.168.1.130', 25, '192.168.1.128'],
    ['1.2.3.4', 32, '1.2.3.4'],
    ['1.2.3.4', 0, '0.0.0.0'],
  ])('%s/%d', (ip, p, net) => expect(networkOf(ip, p)).toBe(net))
  it('round-trips and rejects junk', () => {
    expect(intToIp(ipToInt('255.0.128.1'))).toBe('255.0.128.1')
    expect(cidrOf('172.31.7.2', 24)).toBe('172.31.7.0/24')
    expect(() => ipToInt('1.2.3')).toThrow()
    expect(() => ipToInt('1.2.3.256')).toThrow()
  })
})

describe('parseIpJson (captured from runc containers, docker 20.10, iproute2 6.1)', () => {
  it('single default network', () => {
    expect(captured('single')).toEqual({
      v: 1,
      interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' }],
      routes: [],
    })
  })
  it('two networks and an extra route', () => {
    const n = captured('multi')
    expect(n.interfaces.map(i => i.name)).toEqual(['eth0', 'eth1'])
    expect(n.interfaces[1]).toEqual({ name: 'eth1', mac: '02:42:ac:1f:07:02', mtu: 1500, ip: '172.31.7.2', prefix: 24 })
    expect(n.routes).toEqual([{ dst: '10.99.0.0/16', gateway: '172.31.7.1', dev: 'eth1' }])
  })
  it('network=none: only lo → no interfaces', () => {
    const lo = JSON.stringify([{ ifname: 'lo', link_type: 'loopback', address: '00:00:00:00:00:00', mtu: 65536 }])
    expect(parseIpJson(lo, lo, '[]').interfaces).toEqual([])
  })
  it('bad output says which view', () => expect(() => parseIpJson('{', '[]', '[]')).toThrow(/ip -json link/))
})

describe('container bridge plan', () => {
  it('golden: single network', async () => {
    const text = planBridges(captured('single'), OPTS).map(c => c.join(' ')).join('\n') + '\n'
    await expect(text).toMatchFileSnapshot('../golden/net-single.cmds')
  })
  it('golden: multi network with VNC redirect', async () => {
    const text = planBridges(captured('multi'), { ...OPTS, vncDisplay: 1 }).map(c => c.join(' ')).join('\n') + '\n'
    await expect(text).toMatchFileSnapshot('../golden/net-multi-vnc.cmds')
  })
  it('only the default interface gets the bridge IP and NAT', () => {
    const cmds = planBridges(captured('multi'), OPTS)
    expect(cmds.filter(c => c.includes('169.254.1.1') && c.includes('addr')).map(c => c.at(-1))).toEqual(['br-eth0'])
  })
  it('without precreated taps there is no tuntap', () => {
    expect(planBridges(captured('single'), { ...OPTS, precreateTap: false }).some(c => c.includes('tuntap'))).toBe(false)
  })
  it('guest MAC and resolv.conf', () => {
    expect(guestMac('02:42:AC:11:00:02')).toBe('52:54:00:11:00:02')
    expect(() => guestMac('02:42')).toThrow()
    expect(rewriteResolvConf('nameserver 127.0.0.11\noptions ndots:0\n')).toBe('nameserver 169.254.169.254\noptions ndots:0\n')
  })
})

describe('rpFilterWarning (max(all, bridge) must not be 1)', () => {
  it.each([
    ['0', { 'br-eth0': '0' }, false],
    ['2', { 'br-eth0': '1' }, false],
    ['0', { 'br-eth0': '2', 'br-eth1': '0' }, false],
    ['1', { 'br-eth0': '0' }, true],
    ['0', { 'br-eth0': '0', 'br-eth1': '1\n' }, true],
    [undefined, {}, false],
  ] as const)('all=%s bridges=%j → warn %s', (all, br, warn) => {
    const w = rpFilterWarning(all, br)
    expect(w !== undefined).toBe(warn)
    if (w) expect(w).toMatch(/^RunCVM: Warning: .*Docker DNS.*net\.ipv4\.conf\.all\.rp_filter=2/)
  })
  it('names the strict bridges only', () => {
    expect(rpFilterWarning('0', { 'br-eth0': '0', 'br-eth1': '1' })).toContain(' on br-eth1 in the container')
  })
})
