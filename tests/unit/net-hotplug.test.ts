// docker network connect/disconnect on a running VM: the pure planner (which interfaces to hot-add
// or unplug, which root port), the QMP commands, the container and VM command plans, the watcher.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseIpJson } from '../../lib/net/discover.js'
import {
  completeLines, vmHotResults, downLinks, enslavedLinks, HOTPLUG_PLAN_DIR, NETPLUG_QUIET_S, timelineText, VM_HOTPLUG_LOG, hotPlanFile, hotPlanText, netWatchScript, routesVia, vmHotplugWatchScript, planAddContainer, planHotplug, planRemoveContainer, qmpAdd, qmpRemove, type HotState,
} from '../../lib/net/hotplug.js'
import { HOTPLUG_PORTS, hotplugPortArgs } from '../../lib/qemu/args.js'
import type { NetworkState } from '../../lib/state.js'

// `ip -json link/addr/route` in a RunCVM container after boot (eth0 bridged into br-eth0 with
// tap-eth0) and a `docker network connect` that added eth1 (iproute2 6.1 field names).
const link = (extra: object[] = []) => JSON.stringify([
  { ifname: 'lo', link_type: 'loopback', address: '00:00:00:00:00:00', mtu: 65536 },
  { ifname: 'br-eth0', link_type: 'ether', address: '02:42:0a:e7:01:02', mtu: 1500 },
  { ifname: 'tap-eth0', link_type: 'ether', address: '8e:d2:83:f8:f8:39', mtu: 1500, master: 'br-eth0' },
  { ifname: 'eth0', link_type: 'ether', address: '02:42:0a:e7:01:02', mtu: 1500, master: 'br-eth0' },
  ...extra,
])
const ETH1 = { ifname: 'eth1', link_type: 'ether', address: '02:42:0a:e7:02:03', mtu: 1450 }
const addr = JSON.stringify([
  { ifname: 'br-eth0', addr_info: [{ family: 'inet', local: '169.254.1.1', prefixlen: 32 }] },
  ...['eth1', 'eth2', 'eth3'].map(ifname => ({ ifname, addr_info: [{ family: 'inet', local: '10.231.2.3', prefixlen: 24 }] })),
])
const route = JSON.stringify([{ dst: 'default', gateway: '10.231.1.1', dev: 'br-eth0' }, { dst: '10.231.2.0/24', dev: 'eth1', scope: 'link' }])
const BOOT: NetworkState = { v: 1, interfaces: [{ name: 'eth0', mac: '02:42:0a:e7:01:02', mtu: 1500, ip: '10.231.1.2', prefix: 24, gateway: '10.231.1.1' }], routes: [] }
const NIC1 = { name: 'eth1', mac: '02:42:0a:e7:02:03', mtu: 1450, ip: '10.231.2.3', prefix: 24 }
const view = (extra: object[]) => { const l = link(extra); return [parseIpJson(l, addr, route), enslavedLinks(l)] as const }

describe('planHotplug', () => {
  it('a connected interface is added on the first free port; boot interfaces, bridges and taps are not', () => {
    const [now, ens] = view([ETH1])
    expect(planHotplug(now, ens, BOOT, {})).toEqual({ add: [{ nif: NIC1, port: 0 }], remove: [], noPort: [] })
  })
  it('nothing to do when the interface is already hot-plugged (and enslaved by our bridge)', () => {
    const [now, ens] = view([{ ...ETH1, master: 'br-eth1' }, { ifname: 'br-eth1', address: ETH1.address, mtu: 1450 }])
    expect(planHotplug(now, ens, BOOT, { eth1: { nif: NIC1, port: 0 } })).toEqual({ add: [], remove: [], noPort: [] })
  })
  it('a hot-plugged interface whose container side vanished is removed; its port is free again', () => {
    const [now, ens] = view([{ ...ETH1, ifname: 'eth2' }])
    const hot: HotState = { eth1: { nif: NIC1, port: 0 } }
    const p = planHotplug(now, ens, BOOT, hot)
    expect(p.remove).toEqual([{ nif: NIC1, port: 0 }])
    expect(p.add).toEqual([{ nif: { ...NIC1, name: 'eth2' }, port: 0 }])
  })
  it('a boot interface that vanished is never unplugged; a new one with no IPv4 is left alone', () => {
    const l = JSON.stringify([{ ifname: 'lo', link_type: 'loopback' }, ETH1])
    expect(planHotplug(parseIpJson(l, '[]', '[]'), enslavedLinks(l), BOOT, {})).toEqual({ add: [], remove: [], noPort: [] })
  })
  it('ports in use are skipped; with every port taken the interface is reported, not added', () => {
    const [now, ens] = view([ETH1, { ...ETH1, ifname: 'eth3' }])
    const hot: HotState = { eth2: { nif: { ...NIC1, name: 'eth2' }, port: 0 } }
    const [n2, ens2] = view([{ ...ETH1, ifname: 'eth2', master: 'br-eth2' }, ETH1, { ...ETH1, ifname: 'eth3' }])
    const p = planHotplug(n2, ens2, BOOT, hot, 2)
    expect(p.add.map(h => [h.nif.name, h.port])).toEqual([['eth1', 1]])
    expect(p.noPort).toEqual(['eth3'])
    expect(planHotplug(now, ens, BOOT, {}, 0).noPort).toEqual(['eth1', 'eth3'])
  })
  it('a new interface that is not up yet waits (Docker raises it after giving it its addresses)', () => {
    const l = link([{ ...ETH1, flags: ['BROADCAST', 'MULTICAST'] }, { ifname: 'eth2', flags: ['BROADCAST', 'UP', 'LOWER_UP'] }])
    expect([...downLinks(l)]).toEqual(['lo', 'br-eth0', 'tap-eth0', 'eth0', 'eth1'])
    expect(planHotplug(parseIpJson(l, addr, route), enslavedLinks(l), BOOT, {}, 2, downLinks(l)).add.map(h => h.nif.name)).toEqual(['eth2'])
    const up = link([{ ...ETH1, flags: ['BROADCAST', 'MULTICAST', 'UP'] }])
    expect(planHotplug(parseIpJson(up, addr, route), enslavedLinks(up), BOOT, {}, 2, downLinks(up)).add).toEqual([{ nif: NIC1, port: 0 }])
  })
  it('the default route is never moved to a connected network (no gateway, so no NAT rules)', () => {
    const r = JSON.stringify([{ dst: 'default', gateway: '10.231.2.1', dev: 'eth1' }])
    const l = link([ETH1])
    const p = planHotplug(parseIpJson(l, addr, r), enslavedLinks(l), BOOT, {})
    expect(p.add[0].nif).not.toHaveProperty('gateway')
    expect(planAddContainer(p.add[0], '/g/ip', '/g/x').some(c => c.includes('iptables'))).toBe(false)
  })
})

describe('hot-plug commands', () => {
  const h = { nif: NIC1, port: 1 }
  it('QMP: tap netdev on the pre-made tap, virtio-net with the guest MAC on root port hp<N>; unplug device then netdev', () => {
    expect(qmpAdd(h)).toEqual([
      { execute: 'netdev_add', arguments: { type: 'tap', id: 'hpnet1', ifname: 'tap-eth1', script: 'no', downscript: 'no' } },
      { execute: 'device_add', arguments: { driver: 'virtio-net-pci', id: 'hpnic1', netdev: 'hpnet1', mac: '52:54:00:e7:02:03', bus: 'hp1', romfile: '' } },
    ])
    expect(qmpRemove(h)).toEqual({ device: { execute: 'device_del', arguments: { id: 'hpnic1' } }, netdev: { execute: 'netdev_del', arguments: { id: 'hpnet1' } } })
  })
  it('container: the boot-time bridge plan for the interface; removal deletes tap and bridge', () => {
    expect(planAddContainer(h, '/g/ip', '/g/x')).toEqual([
      ['/g/ip', 'addr', 'flush', 'dev', 'eth1'],
      ['/g/ip', 'link', 'add', 'br-eth1', 'type', 'bridge', 'forward_delay', '0', 'ageing', '0'],
      ['/g/ip', 'link', 'set', 'dev', 'eth1', 'master', 'br-eth1'],
      ['/g/ip', 'link', 'set', 'dev', 'eth1', 'up'],
      ['/g/ip', 'tuntap', 'add', 'dev', 'tap-eth1', 'mode', 'tap'],
      ['/g/ip', 'link', 'set', 'dev', 'tap-eth1', 'up', 'mtu', '1450', 'master', 'br-eth1'],
      ['/g/ip', 'link', 'set', 'dev', 'br-eth1', 'up'],
      ['/g/ip', 'route', 'add', '10.231.2.0/24', 'dev', 'br-eth1'],
    ])
    expect(planRemoveContainer(h, '/g/ip')).toEqual([['/g/ip', 'link', 'del', 'tap-eth1'], ['/g/ip', 'link', 'del', 'br-eth1']])
  })
  it('watcher: ip monitor link, a 0.02 s quiet period, then one netplug pass given the burst\'s start and end (host uptime)', () => {
    expect(NETPLUG_QUIET_S).toBe('0.02')
    expect(netWatchScript('/g/ip', '/g/runcvm-ctr-netplug')).toBe(
      `'/g/ip' monitor link | while read -r l; do read -r t _ </proc/uptime; while read -r -t 0.02 l; do :; done; read -r u _ </proc/uptime; '/g/runcvm-ctr-netplug' "$t" "$u"; done`)
  })
  it('timeline: ms after the link event for each mark; none without valid watcher times', () => {
    expect(timelineText('eth1', '100.25', '100.27', [['exec', 100_270], ['main', 100_431.4], ['qmp', 100_612]]))
      .toBe('timeline eth1: link event at 100.25 s; +ms quiet 20, exec 20, main 181, qmp 362')
    expect(timelineText('eth1', undefined, undefined, [['main', 1]])).toBeUndefined()
    expect(timelineText('eth1', '1; rm', '2', [])).toBeUndefined()
  })
  it('every VM gets HOTPLUG_PORTS empty pcie-root-ports with distinct chassis numbers', () => {
    expect(HOTPLUG_PORTS).toBe(4)
    expect(hotplugPortArgs()).toEqual([0, 1, 2, 3].flatMap(i => ['-device', `pcie-root-port,id=hp${i},bus=pcie.0,chassis=${i + 1}`]))
    expect(hotplugPortArgs(2)).toEqual(['-device', 'pcie-root-port,id=hp0,bus=pcie.0,chassis=1', '-device', 'pcie-root-port,id=hp1,bus=pcie.0,chassis=2'])
  })
})

describe('the VM watcher\'s log, read back by netplug', () => {
  it('results by name after the lines already there; malformed lines and a partial last line ignored', () => {
    const before = '5.68 5.73 eth1 rc=0\n'
    const text = before + '9.10 9.40 eth1 rc=1\n../x rc=0\n9.50 9.61 eth2 rc=0 extra\n9.70 9.80 eth3 rc=0\n9.90 9.95 eth4 rc='
    expect(completeLines(before)).toBe(1)
    expect([...vmHotResults(text, completeLines(before))]).toEqual([['eth1', { seen: '9.10', done: '9.40', rc: 1 }], ['eth3', { seen: '9.70', done: '9.80', rc: 0 }]])
    expect(vmHotResults(text).get('eth1')).toEqual({ seen: '9.10', done: '9.40', rc: 1 })
    expect(vmHotResults('').size).toBe(0)
  })
})

describe('VM plan file and watcher', () => {
  const h = { nif: NIC1, port: 0 }
  const routes = [{ dst: '10.99.0.0/16', gateway: '10.231.2.1', dev: 'eth1' }, { dst: '10.98.0.0/16', gateway: '10.231.1.1', dev: 'eth0' }]
  it('plan: one file per guest MAC in /.runcvm/hotplug; name, address, MTU and the routes through the interface', () => {
    expect(HOTPLUG_PLAN_DIR).toBe('/.runcvm/hotplug')
    expect(hotPlanFile(NIC1.mac)).toBe('/.runcvm/hotplug/525400e70203')
    expect(hotPlanText(h, routes)).toBe('nic eth1 10.231.2.3/24 1450\nroute 10.99.0.0/16 10.231.2.1\n')
    expect(hotPlanText({ nif: { name: 'eth1', mac: NIC1.mac, mtu: 1500 }, port: 0 })).toBe('nic eth1 - 1500\n')
    const net: NetworkState = { v: 1, interfaces: [], routes }
    expect(routesVia(net, 'eth1')).toEqual([routes[0]])
  })
  it('plan: a value that is not one plain word is refused (it would split into more ip arguments)', () => {
    expect(() => hotPlanText({ nif: { ...NIC1, name: 'eth1 name x' }, port: 0 })).toThrow(/not a plain word/)
    expect(() => hotPlanText(h, [{ dst: '10.0.0.0/8\nroute', gateway: '1.2.3.4', dev: 'eth1' }])).toThrow(/not a plain word/)
  })

  // The watcher for real (busybox sh) on a fake /sys/class/net, with a fake ip (`monitor` prints
  // two link events; `-batch -` logs that it started, then its input when it has any: the spare
  // one started ahead gets EOF, no input, when the watcher ends) and a fake busybox (mktemp and
  // mkfifo run for real; arping is logged). `fifo`: whether the FIFO's base directory exists.
  const BUSYBOX = 'dist/opt/runcvm/usr/bin/busybox'
  const runWatcher = (nics: { name: string; index: number; mac: string }[], plans: Record<string, string>, arp = false, fifo = true) => {
    const d = mkdtempSync(join(tmpdir(), 'runcvm-hp-'))
    try {
      for (const n of nics) {
        mkdirSync(join(d, 'sys', n.name), { recursive: true })
        writeFileSync(join(d, 'sys', n.name, 'ifindex'), `${n.index}\n`)
        writeFileSync(join(d, 'sys', n.name, 'address'), `${n.mac}\n`)
      }
      mkdirSync(join(d, 'plan'))
      if (fifo) mkdirSync(join(d, 'dev'))
      for (const [mac, text] of Object.entries(plans)) writeFileSync(hotPlanFile(mac, join(d, 'plan')), text)
      const fake = (name: string, body: string) => { writeFileSync(join(d, name), `#!${BUSYBOX_ABS} sh\n${body}\n`); chmodSync(join(d, name), 0o755); return join(d, name) }
      const ip = fake('ip', `case "$1" in monitor) echo 1: eth2; echo 1: eth2 ;; -force) case $(${BUSYBOX_ABS} readlink /proc/$$/fd/0) in pipe:*) echo pipe ;; *) echo fifo ;; esac >>${d}/starts.log; i=$(${BUSYBOX_ABS} cat); [ -z "$i" ] || printf 'batch %s\\n%s\\n' "$*" "$i" >>${d}/ip.log ;; esac`)
      const bb = fake('bb', `case "$1" in mktemp|mkfifo|usleep) exec ${BUSYBOX_ABS} "$@" ;; esac; echo "$*" >>${d}/arping.log`)
      execFileSync(BUSYBOX_ABS, ['sh', '-c', vmHotplugWatchScript(ip, bb, join(d, 'plan'), join(d, 'sys'), join(d, 'vm.log'), join(d, 'dev'))], { timeout: 10_000 })
      for (let i = 0; i < 100 && arp && !existsSync(join(d, 'arping.log')); i++) execFileSync('sleep', ['0.02'])
      const read = (f: string) => existsSync(join(d, f)) ? readFileSync(join(d, f), 'utf8') : ''
      return { ip: read('ip.log'), arping: read('arping.log'), log: read('vm.log'), starts: read('starts.log') }
    } finally { rmSync(d, { recursive: true, force: true }) }
  }
  const BUSYBOX_ABS = join(process.cwd(), BUSYBOX)
  const NICS = [{ name: 'lo', index: 1, mac: '00:00:00:00:00:00' }, { name: 'eth0', index: 2, mac: '52:54:00:e7:01:02' }, { name: 'eth2', index: 7, mac: '52:54:00:e7:02:03' }]
  const BATCH = 'batch -force -batch -\nlink set dev eth2 name eth1\naddr add 10.231.2.3/24 broadcast + dev eth1\nlink set dev eth1 up mtu 1450\nroute add 10.99.0.0/16 via 10.231.2.1 dev eth1\n'
  it.skipIf(!existsSync(BUSYBOX))('watcher: the NIC with a plan is renamed, addressed, raised and routed once (three passes) by the ip started ahead; others untouched', () => {
    const r = runWatcher(NICS, { [NIC1.mac]: hotPlanText(h, routes) }, true)
    expect(r.ip).toBe(BATCH)
    expect(r.arping).toBe('arping -U -c 1 -w 1 -I eth1 10.231.2.3\n')
    expect(r.log).toMatch(/^\d+\.\d\d \d+\.\d\d eth1 rc=0\n$/)
    // Both read the FIFO, none a pipe from a start after the NIC appeared: one used, one spare.
    expect(r.starts).toBe('fifo\nfifo\n')
  }, 20_000)
  it.skipIf(!existsSync(BUSYBOX))('watcher: without the FIFO directory the batch goes to an ip started then; same result', () => {
    const r = runWatcher(NICS, { [NIC1.mac]: hotPlanText(h, routes) }, true, false)
    expect(r.ip).toBe(BATCH)
    expect(r.starts).toBe('pipe\n')
    expect(r.log).toMatch(/ eth1 rc=0\n$/)
  }, 20_000)
  it.skipIf(!existsSync(BUSYBOX))('watcher: no plan file, nothing configured; no address, no arping', () => {
    expect(runWatcher(NICS, {})).toMatchObject({ ip: '', arping: '', log: '' })
    const r = runWatcher(NICS, { [NIC1.mac]: 'nic eth2 - 1500\n' })
    expect(r.ip).toBe('batch -force -batch -\nlink set dev eth2 up mtu 1500\n')
  }, 20_000)
  it.skipIf(!existsSync(BUSYBOX))('watcher: IPv6 addresses and routes only when the VM kernel has IPv6', () => {
    const text = hotPlanText(h, [...routes, { dst: 'fd00:99::/64', gateway: 'fd00:2::1', dev: 'eth1' }])
    expect(text).toContain('route6 fd00:99::/64 fd00:2::1\n')
    expect(vmHotplugWatchScript('/g/ip', '/g/busybox')).toContain('route6) [ ! -e /proc/net/if_inet6 ] || B="${B}route add $a1 via $a2 dev $n$NL"')
    const r = runWatcher(NICS, { [NIC1.mac]: text })
    expect(r.ip.includes('route add fd00:99::/64 via fd00:2::1 dev eth1\n')).toBe(existsSync('/proc/net/if_inet6'))
  }, 20_000)
  it('watcher: ip monitor link feeds the passes; package ip and busybox only', () => {
    const s = vmHotplugWatchScript('/g/ip', '/g/busybox')
    expect(s.endsWith(`'/g/ip' monitor link | { ipb; hp; while read -r l; do hp; done; }`)).toBe(true)
    expect(s).toContain(`'/g/busybox' mktemp -d '/dev/.runcvm-hotplug.XXXXXX'`)
    expect(s).toContain(`>>'${VM_HOTPLUG_LOG}'`)
    expect(s).toContain(`f='/.runcvm/hotplug'/$1$2$3$4$5$6`)
    expect(s).toContain(`'/g/busybox' arping -U`)
  })
})
