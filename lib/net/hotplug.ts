// `docker network connect`/`disconnect` on a running VM. Docker adds (or removes) a veth in the
// container's netns while the VM runs; the watcher started by ctr-entrypoint notices the link
// change and runs runcvm-ctr-netplug, which compares what the container has with what the VM has
// and plans the difference here (pure): a new interface gets the boot-time bridge + tap
// (planBridge), a NIC hot-added over QMP on a free pcie-root-port (lib/qemu/args.ts leaves
// HOTPLUG_PORTS of them), and a guest script that names and addresses it; a vanished one is
// unplugged (device_del, then netdev_del) and its bridge and tap removed.
import type { Cmd } from '../cmd.js'
import { shQuote as sq } from '../cmd.js'
import type { NetIfState, NetworkState } from '../state.js'
import { HOTPLUG_PORTS, hotplugPortId } from '../qemu/args.js'
import { bridgeName, guestMac, planBridge, tapName } from './plan.js'

/** A hot-plugged NIC as recorded in /.runcvm/hotplug.json. */
export interface HotNic { nif: NetIfState; port: number }
export type HotState = Record<string, HotNic>

export const netdevId = (port: number): string => `hpnet${port}`
export const deviceId = (port: number): string => `hpnic${port}`

/** Names of links in `ip -json link` output that are enslaved to a bridge (or anything). */
export function enslavedLinks(linkJson: string): Set<string> {
  const links = JSON.parse(linkJson.trim() || '[]') as { ifname: string; master?: string }[]
  return new Set(links.filter(l => l.master).map(l => l.ifname))
}

export interface HotplugPlan {
  add: HotNic[]
  remove: HotNic[]
  /** Interfaces that could not get a port (all HOTPLUG_PORTS in use). */
  noPort: string[]
}

/**
 * `now`: the container's interfaces as parseIpJson reads them; `enslaved`: names with a master;
 * `boot`: the interfaces the VM got at boot (network.json); `hot`: the ones hot-plugged so far.
 * New: a plain interface (not ours: no br-/tap- name, no master) that neither list knows.
 * Removed: a hot-plugged one whose container interface is gone. Boot-time interfaces are never
 * unplugged (their NICs are on the root bus, which takes no hot-unplug).
 */
export function planHotplug(now: NetworkState, enslaved: Set<string>, boot: NetworkState, hot: HotState, ports = HOTPLUG_PORTS): HotplugPlan {
  const known = new Set([...boot.interfaces.map(n => n.name), ...Object.keys(hot)])
  const present = new Set(now.interfaces.map(n => n.name))
  const remove = Object.values(hot).filter(h => !present.has(h.nif.name))
  const used = new Set(Object.values(hot).filter(h => present.has(h.nif.name)).map(h => h.port))
  const add: HotNic[] = []
  const noPort: string[] = []
  for (const n of now.interfaces) {
    if (known.has(n.name) || enslaved.has(n.name) || /^(br|tap)-/.test(n.name) || n.ip === undefined) continue
    const port = Array.from({ length: ports }, (_, i) => i).find(i => !used.has(i))
    if (port === undefined) { noPort.push(n.name); continue }
    used.add(port)
    // The default route stays where boot put it: no gateway (and so no NAT rules) for a later network.
    const { gateway: _gw, ...nif } = n
    add.push({ nif, port })
  }
  return { add, remove, noPort }
}

/** Container side of an add: the boot-time bridge + tap for this interface. */
export function planAddContainer(h: HotNic, ip: string, xtables: string): Cmd[] {
  return planBridge(h.nif, { ip, xtables, precreateTap: true })
}

/** Container side of a remove: the tap and the bridge (its route goes with it). */
export function planRemoveContainer(h: HotNic, ip: string): Cmd[] {
  return [[ip, 'link', 'del', tapName(h.nif.name)], [ip, 'link', 'del', bridgeName(h.nif.name)]]
}

export interface QmpCommand { execute: string; arguments: Record<string, unknown> }

/** QMP commands that hot-add the NIC for `h` (a tap QEMU opens, a virtio-net on its root port). */
export function qmpAdd(h: HotNic): QmpCommand[] {
  return [
    { execute: 'netdev_add', arguments: { type: 'tap', id: netdevId(h.port), ifname: tapName(h.nif.name), script: 'no', downscript: 'no' } },
    { execute: 'device_add', arguments: { driver: 'virtio-net-pci', id: deviceId(h.port), netdev: netdevId(h.port), mac: guestMac(h.nif.mac), bus: hotplugPortId(h.port), romfile: '' } },
  ]
}

/** QMP commands that unplug it: device_del first (wait for DEVICE_DELETED), then netdev_del. */
export function qmpRemove(h: HotNic): { device: QmpCommand; netdev: QmpCommand } {
  return {
    device: { execute: 'device_del', arguments: { id: deviceId(h.port) } },
    netdev: { execute: 'netdev_del', arguments: { id: netdevId(h.port) } },
  }
}

/**
 * busybox sh script run in the VM as root (through the `docker exec` path; every program is named
 * by its package path, nothing of the image runs) after device_add: wait up to `waitS`
 * for the NIC with the 52:54:00 MAC, name it as in the container, address and raise it.
 * Exit 3 when the NIC never appeared.
 */
export function guestAddScript(n: NetIfState, ip: string, busybox: string, waitS = 10): string {
  const mac = guestMac(n.mac)
  const bb = sq(busybox)
  return [
    `i=0; D=`,
    `while [ -z "$D" ]; do`,
    `  for d in /sys/class/net/*; do [ "$(${bb} cat "$d/address" 2>/dev/null)" = ${sq(mac)} ] && D=\${d##*/}; done`,
    `  [ -n "$D" ] && break; i=$((i+1)); [ $i -gt ${waitS * 20} ] && exit 3; ${bb} sleep 0.05`,
    `done`,
    `[ "$D" = ${sq(n.name)} ] || ${sq(ip)} link set dev "$D" name ${sq(n.name)} || exit 4`,
    ...(n.ip !== undefined ? [`${sq(ip)} addr add ${sq(`${n.ip}/${n.prefix ?? 32}`)} broadcast + dev ${sq(n.name)} || exit 5`] : []),
    // Docker's IPv6 addresses, as at boot (lib/vm/net.ts), when the guest kernel has IPv6.
    ...(n.ip6 ?? []).map(a => `[ ! -e /proc/net/if_inet6 ] || ${sq(ip)} addr add ${sq(`${a.ip}/${a.prefix}`)} dev ${sq(n.name)} nodad || exit 5`),
    `${sq(ip)} link set dev ${sq(n.name)} up mtu ${n.mtu} || exit 6`,
  ].join('\n')
}

/**
 * The container's link watcher, a busybox sh line (resident: `ip monitor` + one sh, no Node):
 * after each burst of link changes (quiet for 0.3 s) one runcvm-ctr-netplug pass. Our own
 * bridge/tap changes wake it again; that pass finds nothing to do.
 */
export function netWatchScript(ip: string, netplug: string): string {
  return `${sq(ip)} monitor link | while read -r l; do while read -r -t 0.3 l; do :; done; ${sq(netplug)}; done`
}
