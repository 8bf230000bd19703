// `docker network connect`/`disconnect` on a running VM. Docker adds (or removes) a veth in the
// container's netns while the VM runs; the watcher started by ctr-entrypoint notices the link
// change and runs runcvm-ctr-netplug, which compares what the container has with what the VM has
// and plans the difference here (pure): a new interface gets the boot-time bridge + tap
// (planBridge), a plan file for the VM (hotPlanText: name, address, MTU, routes) and a NIC
// hot-added over QMP on a free pcie-root-port (lib/qemu/args.ts leaves HOTPLUG_PORTS of them); the
// VM's watcher (vmHotplugWatchScript, started by the VM's init) configures the NIC as soon as the
// kernel announces it. A vanished one is unplugged (device_del, then netdev_del), its plan file,
// bridge and tap removed.
import type { Cmd } from '../cmd.js'
import { shQuote as sq } from '../cmd.js'
import type { NetIfState, NetworkState, RouteState } from '../state.js'
import { STATE_DIR } from '../paths.js'
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

/**
 * Names of links in `ip -json link` output that are not up. Docker raises a connected interface
 * after it has given it its addresses, so one that is still down is not complete yet.
 */
export function downLinks(linkJson: string): Set<string> {
  const links = JSON.parse(linkJson.trim() || '[]') as { ifname: string; flags?: string[] }[]
  return new Set(links.filter(l => !(l.flags ?? []).includes('UP')).map(l => l.ifname))
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
 * unplugged (their NICs are on the root bus, which takes no hot-unplug). `down`: links not up yet
 * (downLinks): a new one among them waits for the pass its `link set up` wakes, so that a pass
 * run in the middle of Docker's connect never plans an interface without all its addresses.
 */
export function planHotplug(now: NetworkState, enslaved: Set<string>, boot: NetworkState, hot: HotState, ports = HOTPLUG_PORTS, down: ReadonlySet<string> = new Set()): HotplugPlan {
  const known = new Set([...boot.interfaces.map(n => n.name), ...Object.keys(hot)])
  const present = new Set(now.interfaces.map(n => n.name))
  const remove = Object.values(hot).filter(h => !present.has(h.nif.name))
  const used = new Set(Object.values(hot).filter(h => present.has(h.nif.name)).map(h => h.port))
  const add: HotNic[] = []
  const noPort: string[] = []
  for (const n of now.interfaces) {
    if (known.has(n.name) || enslaved.has(n.name) || /^(br|tap)-/.test(n.name) || n.ip === undefined || down.has(n.name)) continue
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
 * The VM's part of a hot-add is data, not a script: one file per NIC in HOTPLUG_PLAN_DIR, named by
 * the NIC's guest MAC (12 hex digits), written by the container side before `device_add`. The
 * directory is in /.runcvm, a mode-700 tmpfs: in the container and in the VM only root reads or
 * writes it, so a workload user in the VM cannot forge a plan. The VM-side watcher
 * (vmHotplugWatchScript) reads it when the NIC appears.
 */
export const HOTPLUG_PLAN_DIR = `${STATE_DIR}/hotplug`
export const hotPlanFile = (mac: string, dir = HOTPLUG_PLAN_DIR): string => `${dir}/${guestMac(mac).replace(/:/g, '')}`

/** A word the VM's `ip -batch` takes as one argument: no blanks, quotes, `#` or shell characters. */
const BATCH_WORD = /^[A-Za-z0-9_.:/@%-]+$/

/** The container's routes through `name` (gateway routes, not the link route), for the plan. */
export const routesVia = (net: NetworkState, name: string): RouteState[] => net.routes.filter(r => r.dev === name)

/**
 * The plan file's text: `nic NAME CIDR|- MTU`, one `addr6 CIDR` per IPv6 address, then one
 * `route DST GATEWAY` (IPv4) or `route6 DST GATEWAY` (IPv6: the VM skips it when its kernel has
 * IPv6 off, as it skips addr6) per route through it.
 * Throws when a value is not a plain word (it could split into more than one `ip` argument).
 */
export function hotPlanText(h: HotNic, routes: readonly RouteState[] = []): string {
  const n = h.nif
  const lines = [['nic', n.name, n.ip !== undefined ? `${n.ip}/${n.prefix ?? 32}` : '-', String(n.mtu)]]
  for (const a of n.ip6 ?? []) lines.push(['addr6', `${a.ip}/${a.prefix}`])
  for (const r of routes) if (r.dev === n.name) lines.push([r.dst.includes(':') || r.gateway.includes(':') ? 'route6' : 'route', r.dst, r.gateway])
  for (const w of lines.flat()) if (!BATCH_WORD.test(w)) throw new Error(`not a plain word in the hot-plug plan for ${JSON.stringify(n.name)}: ${JSON.stringify(w)}`)
  return lines.map(l => l.join(' ') + '\n').join('')
}

/** The VM-side watcher's log (VM root appends; one line per NIC it configured). */
export const VM_HOTPLUG_LOG = `${STATE_DIR}/hotplug-vm.log`

/**
 * The VM-side watcher (busybox sh, started in the background by the VM's init, root): `ip monitor
 * link` blocks until a link changes (no polling, nothing runs while idle), then one pass over
 * /sys/class/net with shell builtins: a NIC not seen before (by ifindex) whose MAC has a plan file
 * in `dir` is renamed to its container name, addressed, raised with its MTU and given its routes
 * in one `ip -force -batch`, and announced by a gratuitous ARP. Each NIC is configured once: the
 * VM's root may take it down afterwards. Also one pass at start (a NIC plugged during the boot).
 * Each configured NIC gets one line in `log`: `SEEN DONE NAME rc=N`, the VM's uptime (s) when the
 * link event woke the pass and when `ip -batch` returned, and its exit code (0: all applied).
 *
 * The `ip -batch` that configures the next NIC is started ahead and waits on a FIFO in a fresh
 * root-only directory under `fifoBase` (the VM's /dev): starting iproute2's dynamic binary costs
 * 0.3-0.6 s under TCG on a loaded host, paid while idle instead of after the NIC appears. The
 * watcher opens the FIFO read-write as fd 3 first (that open never blocks, so no signal can
 * interrupt it), then starts `ip` on its read end without fd 3, so the watcher's close is its
 * EOF. For a NIC it writes the batch to fd 3, makes sure `ip` has opened the FIFO (a NIC right
 * after the previous one may beat it: then it naps 10 ms at a time, the only wait, never while
 * idle), closes fd 3, takes `ip`'s exit code and starts the next one. Without that directory, or
 * when the waiting `ip` is gone or killed, the batch goes to an `ip` started then, as before.
 * `sys`: the sysfs net directory (fake trees in the unit tests, with `fifoBase` and `log` in a
 * temporary directory).
 */
export function vmHotplugWatchScript(ip: string, busybox: string, dir = HOTPLUG_PLAN_DIR, sys = '/sys/class/net', log = VM_HOTPLUG_LOG, fifoBase = '/dev'): string {
  return [
    "NL='",
    "'",
    'S=; P=',
    `D=$(${sq(busybox)} mktemp -d ${sq(`${fifoBase}/.runcvm-hotplug.XXXXXX`)}) && ${sq(busybox)} mkfifo -m 600 "$D/b" || D=`,
    `ipb() { [ -z "$D" ] || [ -n "$P" ] || ! command exec 3<>"$D/b" || { ${sq(ip)} -force -batch - <"$D/b" 3>&- & P=$!; }; }`,
    'hp() {',
    '  read -r T _ </proc/uptime',
    `  for d in ${sq(sys)}/*; do`,
    '    x=; read -r x <"$d/ifindex" || continue',
    '    case " $S " in *" $x "*) continue ;; esac',
    '    a=; read -r a <"$d/address" || continue',
    '    o=$IFS; IFS=:; set -- $a; IFS=$o',
    `    f=${sq(dir)}/$1$2$3$4$5$6`,
    '    [ $# = 6 ] && [ -f "$f" ] || continue',
    '    S="$S $x"; n=${d##*/}; B=; A=',
    '    while read -r k a1 a2 a3 _; do',
    '      case $k in',
    '        nic) [ "$n" = "$a1" ] || B="${B}link set dev $n name $a1$NL"; n=$a1',
    '          [ "$a2" = - ] || { B="${B}addr add $a2 broadcast + dev $n$NL"; A=${a2%/*}; }',
    '          B="${B}link set dev $n up mtu $a3$NL" ;;',
    '        addr6) [ ! -e /proc/net/if_inet6 ] || B="${B}addr add $a1 dev $n nodad$NL" ;;',
    '        route) B="${B}route add $a1 via $a2 dev $n$NL" ;;',
    '        route6) [ ! -e /proc/net/if_inet6 ] || B="${B}route add $a1 via $a2 dev $n$NL" ;;',
    '      esac',
    '    done <"$f"',
    '    r=',
    '    if [ -n "$P" ] && printf %s "$B" >&3; then',
    `      while ! [ /proc/$P/fd/0 -ef "$D/b" ] && kill -0 $P 2>/dev/null; do ${sq(busybox)} usleep 10000; done`,
    '      exec 3>&-; wait $P; r=$?',
    '    fi',
    '    exec 3>&-; P=',
    `    [ -n "$r" ] && [ "$r" -lt 128 ] || { printf %s "$B" | ${sq(ip)} -force -batch -; r=$?; }`,
    '    read -r U _ </proc/uptime',
    `    [ -z "$A" ] || ${sq(busybox)} arping -U -c 1 -w 1 -I "$n" "$A" </dev/null >/dev/null 2>&1 &`,
    `    echo "$T $U $n rc=$r" >>${sq(log)}`,
    '    ipb',
    '  done',
    '}',
    `${sq(ip)} monitor link | { ipb; hp; while read -r l; do hp; done; }`,
  ].join('\n')
}

/**
 * Seconds of quiet (no further link change) the container's watcher waits for before a netplug
 * pass. Docker's connect is a burst of link changes (veth moved in, renamed, addressed, raised,
 * its routes added) within a few ms; netplug's Node start alone takes longer, so its `ip` reads
 * see the end of the burst. A pass that starts earlier finds the interface down or unnamed and
 * plans nothing (planHotplug waits for `up`); the next change wakes another pass. So the quiet
 * only coalesces changes already queued (it was 0.3 s, all of it on the connect → reachable path).
 */
export const NETPLUG_QUIET_S = '0.02'

/**
 * The container's link watcher, a busybox sh line (resident: `ip monitor` + one sh, no Node):
 * after each burst of link changes (quiet for `quiet` s) one runcvm-ctr-netplug pass, given the
 * host's uptime (s, from /proc/uptime) at the burst's first change and at its end (netplug logs
 * its timeline from them). Our own bridge/tap changes wake it again; that pass finds nothing to do.
 */
export function netWatchScript(ip: string, netplug: string, quiet = NETPLUG_QUIET_S): string {
  return `${sq(ip)} monitor link | while read -r l; do read -r t _ </proc/uptime; while read -r -t ${quiet} l; do :; done; read -r u _ </proc/uptime; ${sq(netplug)} "$t" "$u"; done`
}

const UPTIME = /^\d{1,12}(\.\d{1,9})?$/

/**
 * netplug's timeline line for the log: `timeline NAME: link event at T s; +ms quiet Q, exec E,
 * main M, ...` — each mark in ms after the burst's first link change (`event`, host uptime in s as
 * the watcher read it). `marks`: [label, host monotonic ms] in order (the quiet period's end, the
 * Node process's exec, netplug's main, the plan written, bridge + tap, QMP returned). Undefined
 * when the watcher gave no valid times (netplug run by hand).
 */
export function timelineText(name: string, event: string | undefined, quietEnd: string | undefined, marks: readonly (readonly [string, number])[]): string | undefined {
  if (!event || !quietEnd || !UPTIME.test(event) || !UPTIME.test(quietEnd)) return undefined
  const t0 = Number(event) * 1000
  const all: (readonly [string, number])[] = [['quiet', Number(quietEnd) * 1000], ...marks]
  return `timeline ${name}: link event at ${event} s; +ms ${all.map(([k, v]) => `${k} ${Math.round(v - t0)}`).join(', ')}`
}

/** One line of the VM watcher's log (VM_HOTPLUG_LOG). */
export interface VmHotResult { seen: string; done: string; rc: number }

/**
 * The VM's results in its watcher's log text, by NIC name, from the lines after the first `skip`
 * complete ones (the log grows by one line per NIC for the VM's life; a name comes back with each
 * connect). The log is written by the VM's root: lines that are not `UPTIME UPTIME NAME rc=N` are
 * ignored, and the last one for a name wins.
 */
export function vmHotResults(text: string, skip = 0): Map<string, VmHotResult> {
  const out = new Map<string, VmHotResult>()
  const lines = text.split('\n')
  lines.pop() // the part after the last newline: not a complete line yet
  for (const l of lines.slice(skip)) {
    const m = /^(\d{1,12}\.\d{1,9}) (\d{1,12}\.\d{1,9}) ([A-Za-z0-9_.@-]{1,15}) rc=(\d{1,3})$/.exec(l)
    if (m) out.set(m[3], { seen: m[1], done: m[2], rc: Number(m[4]) })
  }
  return out
}

/** Complete lines in `text` (what vmHotResults's `skip` counts). */
export const completeLines = (text: string): number => text.split('\n').length - 1
