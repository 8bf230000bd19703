// Container-side network plan: each container interface becomes a bridge `br-<if>` holding the
// original interface and a tap `tap-<if>` that QEMU attaches to, so the VM's NIC takes over the
// container's IP on the same L2 segment (upstream runcvm-ctr-entrypoint, "RECONFIGURE CONTAINER
// NETWORK"). Pure: returns argv lists; lib/sh.ts applies them.
import type { Cmd } from '../cmd.js'
import type { NetIfState, NetworkState } from '../state.js'
import { ConfigError } from '../errors.js'
import { QEMU_BRIDGE_IP, RUNCVM_DNS_IP, SSHD_PORT } from '../paths.js'
import { cidrOf } from './cidr.js'
import { NetworkError } from '../errors.js'

export interface BridgePlanOpts {
  /** The bundled `ip` binary. */
  ip: string
  /** The bundled xtables multi-call binary (run as `<xtables> iptables ...`). */
  xtables: string
  /** VNC display number when a VNC server is on (its port is redirected into the VM). */
  vncDisplay?: number
  /**
   * Create the tap here (QEMU then uses script=no) instead of in a QEMU ifup script. Measured
   * here (median of 5, 2-core host at load ~6): a Node role such as runcvm-ctr-qemu-ifup costs
   * ~90 ms per NIC before QEMU can start, an `ip` command < 10 ms, and these run in the one
   * `ip -batch` that builds the bridge anyway.
   */
  precreateTap: boolean
}

export const bridgeName = (ifname: string): string => `br-${ifname}`
export const tapName = (ifname: string): string => `tap-${ifname}`

/** VM MAC: 52:54:00 (QEMU's OUI) + the low 3 bytes of the container MAC, as upstream. */
export function guestMac(mac: string): string {
  const parts = mac.toLowerCase().split(':')
  if (parts.length !== 6) throw new NetworkError(`bad MAC address '${mac}'`)
  return ['52', '54', '00', ...parts.slice(3)].join(':')
}

/** Commands that attach the tap for `n` to its bridge (used by precreate and by ctr-qemu-ifup). */
export function planTapUp(ip: string, n: NetIfState, tapExists: boolean): Cmd[] {
  const tap = tapName(n.name)
  return [
    ...(tapExists ? [] : [[ip, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']]),
    ...noLinkLocal(ip, n, tap),
    [ip, 'link', 'set', 'dev', tap, 'up', 'mtu', String(n.mtu), 'master', bridgeName(n.name)],
  ]
}

/**
 * An interface with Docker IPv6 addresses hands them to the VM as it hands its IPv4 address: the
 * flush takes them from the veth, and the veth, its bridge and its tap get no IPv6 address of
 * their own (addrgenmode none: no link-local address, hence no DAD probe or router solicitation
 * from the container side; Docker itself leaves `default.disable_ipv6=1` in the namespace, this
 * holds without it). The VM keeps its own link-local address (from its 52:54:00 MAC).
 */
function noLinkLocal(ip: string, n: NetIfState, dev: string): Cmd[] {
  return n.ip6?.length ? [[ip, 'link', 'set', 'dev', dev, 'addrgenmode', 'none']] : []
}

function iptables(o: BridgePlanOpts, ...args: string[]): Cmd {
  return [o.xtables, 'iptables', '-t', 'nat', ...args]
}

/**
 * Bridge one interface. The primary interface (the default-route one; without a default route,
 * the first) also gets the link-local bridge IP and the NAT rules: the container itself needs an
 * address there to reach the VM (`docker exec`'s ssh) and to answer its DNS.
 */
export function planBridge(n: NetIfState, o: BridgePlanOpts, primary = n.gateway !== undefined): Cmd[] {
  const br = bridgeName(n.name)
  const ip = o.ip
  const cmds: Cmd[] = [
    [ip, 'addr', 'flush', 'dev', n.name],
    ...noLinkLocal(ip, n, n.name),
    // The flush leaves the IPv6 default route (IPv6 keeps gateway routes without an address).
    ...(n.gateway6 !== undefined ? [[ip, 'route', 'del', 'default', 'via', n.gateway6, 'dev', n.name]] : []),
    // forward_delay 0: forward at once (no STP learning delay); ageing 0: the bridge never learns,
    // it floods, so the VM's frames reach the veth whatever MAC they carry.
    // See https://bugs.launchpad.net/neutron/+bug/1738659
    [ip, 'link', 'add', br, 'type', 'bridge', 'forward_delay', '0', 'ageing', '0'],
    ...noLinkLocal(ip, n, br),
    [ip, 'link', 'set', 'dev', n.name, 'master', br],
    [ip, 'link', 'set', 'dev', n.name, 'up'],
    ...(o.precreateTap ? planTapUp(ip, n, false) : []),
    [ip, 'link', 'set', 'dev', br, 'up'],
  ]
  // The flush took the connected route with the address; put it back via the bridge so the
  // container itself (dnsmasq, dbclient) still reaches the network.
  if (n.ip !== undefined && n.prefix !== undefined) cmds.push([ip, 'route', 'add', cidrOf(n.ip, n.prefix), 'dev', br])
  if (primary) {
    // A private address so the bridge can receive traffic; it never leaves the container.
    cmds.push([ip, 'addr', 'add', QEMU_BRIDGE_IP, 'dev', br])
    if (n.gateway !== undefined) cmds.push([ip, 'route', 'add', 'default', 'via', n.gateway, 'dev', br])
    // Without a default route the VM has no gateway to send RUNCVM_DNS_IP traffic to: it reaches
    // it on-link instead (lib/vm/net.ts), so the bridge answers for that address itself.
    else cmds.push([ip, 'addr', 'add', RUNCVM_DNS_IP, 'dev', br])
    // DNS requests from the VM to RUNCVM_DNS_IP are answered by dnsmasq in the container.
    cmds.push(iptables(o, '-A', 'PREROUTING', '-d', `${RUNCVM_DNS_IP}/32`, '-p', 'udp', '-m', 'udp', '--dport', '53', '-j', 'REDIRECT'))
    if (o.vncDisplay !== undefined) {
      cmds.push(iptables(o, '-A', 'PREROUTING', '-p', 'tcp', '-m', 'tcp', '--dport', String(5900 + o.vncDisplay), '-j', 'REDIRECT'))
    }
    if (n.ip !== undefined) {
      // dnsmasq's replies and forwarded queries leave from the bridge IP: make them look as if
      // they came from the container IP so the VM (and Docker's DNS) accept them.
      for (const port of ['--sport', '--dport']) {
        cmds.push(iptables(o, '-A', 'POSTROUTING', '-o', br, '-s', `${QEMU_BRIDGE_IP}/32`, '-p', 'udp', '-m', 'udp', port, '53', '-j', 'SNAT', '--to-source', n.ip))
      }
    }
    // `docker exec` connects from the container to the VM's sshd; present it as RUNCVM_DNS_IP.
    cmds.push(iptables(o, '-A', 'POSTROUTING', '-o', br, '-s', `${QEMU_BRIDGE_IP}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(SSHD_PORT), '-j', 'SNAT', '--to-source', RUNCVM_DNS_IP))
  }
  return cmds
}

/**
 * Every interface, in Docker's order. Differs from runcvm-ctr-entrypoint: upstream set up the
 * bridge IP only next to a default route, so a container without one (Docker `--internal`
 * networks, CNI bridges without isDefaultGateway, e.g. under containerd) could not be exec'd into:
 * dbclient had no address to reach the VM from. The first interface is then the primary one.
 */
export function planBridges(net: NetworkState, o: BridgePlanOpts): Cmd[] {
  const hasGateway = net.interfaces.some(n => n.gateway !== undefined)
  return net.interfaces.flatMap((n, i) => planBridge(n, o, hasGateway ? n.gateway !== undefined : i === 0))
}

/** The VM's copy of resolv.conf: Docker's embedded DNS (127.0.0.11) becomes RUNCVM_DNS_IP. */
export function rewriteResolvConf(text: string): string {
  return text.replace(/127\.0\.0\.11/g, RUNCVM_DNS_IP)
}

/**
 * Refuse a network namespace another RunCVM container already took over: its interfaces are
 * enslaved to our bridges (`br-<if>`, `tap-<if>` exist next to `<if>`). That happens when
 * containers share one network namespace (a Kubernetes pod's containers join the pause
 * container's, `ctr run --with-ns network:...`, podman pods): the first VM owns the addresses and
 * a second bridging would fail half-way. Pure; throws ConfigError.
 */
export function checkNetnsUnclaimed(net: NetworkState): void {
  const names = new Set(net.interfaces.map(n => n.name))
  const taken = net.interfaces.filter(n => names.has(bridgeName(n.name)) || names.has(tapName(n.name))).map(n => n.name)
  if (!taken.length) return
  throw new ConfigError(
    `the container's network namespace is already used by another RunCVM VM (${taken.map(t => `${t} is bridged to ${bridgeName(t)}`).join(', ')}); ` +
    'each RunCVM container gives its VM the network interfaces of its own namespace, so containers sharing one ' +
    '(Kubernetes pods, ctr --with-ns, podman pods) cannot each be a VM: give each VM its own network namespace')
}