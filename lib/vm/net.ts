// VM-side network plan (upstream runcvm-vm-init network half): find each NIC by its 52:54:00 MAC,
// give it a temporary name first (eth0 and eth1 may need to swap), then its container name,
// address, broadcast, MTU, and the routes. Pure: commands for the bundled `ip` (run as one
// `ip -batch`, see lib/sh.ts).
import type { Cmd } from '../sh.js'
import type { NetworkState } from '../state.js'
import { guestMac } from '../net/plan.js'

export interface GuestLink { name: string; mac: string }

export function planGuestNet(net: NetworkState, links: readonly GuestLink[], ip: string): { cmds: Cmd[]; missing: string[] } {
  const cmds: Cmd[] = [[ip, 'link', 'set', 'lo', 'up']]
  const missing: string[] = []
  const found = net.interfaces.flatMap(n => {
    const mac = guestMac(n.mac)
    const dev = links.find(l => l.mac.toLowerCase() === mac)
    if (!dev) {
      missing.push(n.name)
      return []
    }
    return [{ n, dev: dev.name }]
  })
  for (const { n, dev } of found) cmds.push([ip, 'link', 'set', 'dev', dev, 'name', `${n.name}-tmp`])
  for (const { n } of found) {
    cmds.push([ip, 'link', 'set', 'dev', `${n.name}-tmp`, 'name', n.name])
    if (n.ip !== undefined) cmds.push([ip, 'addr', 'add', `${n.ip}/${n.prefix ?? 32}`, 'broadcast', '+', 'dev', n.name])
    cmds.push([ip, 'link', 'set', 'dev', n.name, 'up', 'mtu', String(n.mtu)])
    if (n.gateway !== undefined) cmds.push([ip, 'route', 'add', 'default', 'via', n.gateway])
  }
  const names = new Set(found.map(f => f.n.name))
  for (const r of net.routes) {
    if (names.has(r.dev)) cmds.push([ip, 'route', 'add', r.dst, 'via', r.gateway, 'dev', r.dev])
  }
  return { cmds, missing }
}

/**
 * Gratuitous ARP per configured interface so peers (and the Docker bridge) replace the container
 * MAC they cached for this IP with the VM's: busybox `arping -U -c 1`.
 */
export function planGratuitousArp(net: NetworkState, busybox: string): Cmd[] {
  return net.interfaces.filter(n => n.ip !== undefined)
    .map(n => [busybox, 'arping', '-U', '-c', '1', '-w', '1', '-I', n.name, n.ip!])
}
