// docker network connect/disconnect on a running VM: the pure planner (which interfaces to hot-add
// or unplug, which root port), the QMP commands, the container and VM command plans, the watcher.
import { describe, expect, it } from 'vitest'
import { parseIpJson } from '../../lib/net/discover.js'
import {
  enslavedLinks, guestAddScript, netWatchScript, planAddContainer, planHotplug, planRemoveContainer, qmpAdd, qmpRemove, type HotState,
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
  it('VM script: finds the NIC by its 52:54:00 MAC with package binaries only, renames, addresses, raises', () => {
    const s = guestAddScript(NIC1, '/g/ip', '/g/busybox', 2)
    expect(s).toContain(`"$('/g/busybox' cat "$d/address" 2>/dev/null)" = '52:54:00:e7:02:03'`)
    expect(s).toContain('[ $i -gt 40 ] && exit 3')
    expect(s).toContain(`'/g/ip' link set dev "$D" name 'eth1' || exit 4`)
    expect(s).toContain(`'/g/ip' addr add '10.231.2.3/24' broadcast + dev 'eth1' || exit 5`)
    expect(s).toContain(`'/g/ip' link set dev 'eth1' up mtu 1450 || exit 6`)
    // Every program is a package binary: each cat/sleep is busybox's, each ip command the package's.
    expect(s.match(/\b(cat|sleep) /g)!.length).toBe(s.match(/'\/g\/busybox' (cat|sleep) /g)!.length)
    expect(s.match(/\b(link|addr) (set|add) /g)!.length).toBe(s.match(/'\/g\/ip' (link|addr) (set|add) /g)!.length)
  })
  it('watcher: ip monitor link, a 0.3 s quiet period, then one netplug pass', () => {
    expect(netWatchScript('/g/ip', '/g/runcvm-ctr-netplug')).toBe(
      `'/g/ip' monitor link | while read -r l; do while read -r -t 0.3 l; do :; done; '/g/runcvm-ctr-netplug'; done`)
  })
  it('every VM gets HOTPLUG_PORTS empty pcie-root-ports with distinct chassis numbers', () => {
    expect(HOTPLUG_PORTS).toBe(2)
    expect(hotplugPortArgs()).toEqual(['-device', 'pcie-root-port,id=hp0,bus=pcie.0,chassis=1', '-device', 'pcie-root-port,id=hp1,bus=pcie.0,chassis=2'])
  })
})
