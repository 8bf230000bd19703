// VM-side network plan (upstream runcvm-vm-init network half): find each NIC by its 52:54:00 MAC,
// give it a temporary name first (eth0 and eth1 may need to swap), then its container name,
// address, broadcast, MTU, and the routes. Pure. The boot path uses netLines(): busybox sh lines of
// the VM's init script (lib/vm/init-script.ts), which finds the NICs by MAC in the VM and feeds one
// `ip -batch`. planGuestNet() is the same plan as Cmd[] for a known link list (tests, tools).
import { batchWord, type Cmd } from '../sh.js'
import { shQuote as sq } from '../exec/codec.js'
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

/**
 * NICs by MAC, as busybox sh lines for the VM's init (the planGuestNet rules): each interface's 52:54:00 MAC is looked up in
 * /sys/class/net by the script (N<i> = the kernel's name, empty when missing), and one
 * `ip -force -batch` gets the renames (via <name>-tmp: eth0 and eth1 may swap), addresses, MTU,
 * default route and the routes of found interfaces.
 */
export function netLines(net: NetworkState, ip: string): string[] {
  const out: string[] = ['M=', `B=${sq('link set lo up\n')}`]
  net.interfaces.forEach((n, i) => {
    out.push(`N${i}=; if nic ${sq(guestMac(n.mac))}; then N${i}=$D; B=$B${sq('link set dev ')}"$D"${sq(` name ${batchWord(`${n.name}-tmp`)}\n`)}; else M="$M\${M:+, }"${sq(n.name)}; fi`)
  })
  net.interfaces.forEach((n, i) => {
    const lines = [
      `link set dev ${batchWord(`${n.name}-tmp`)} name ${batchWord(n.name)}`,
      ...(n.ip !== undefined ? [`addr add ${batchWord(`${n.ip}/${n.prefix ?? 32}`)} broadcast + dev ${batchWord(n.name)}`] : []),
      `link set dev ${batchWord(n.name)} up mtu ${n.mtu}`,
      ...(n.gateway !== undefined ? [`route add default via ${batchWord(n.gateway)}`] : []),
    ]
    out.push(`[ -z "$N${i}" ] || B=$B${sq(lines.join('\n') + '\n')}`)
  })
  for (const r of net.routes) {
    const i = net.interfaces.findIndex(n => n.name === r.dev)
    if (i < 0) continue
    out.push(`[ -z "$N${i}" ] || B=$B${sq(`route add ${batchWord(r.dst)} via ${batchWord(r.gateway)} dev ${batchWord(r.dev)}\n`)}`)
  }
  out.push(`[ -z "$M" ] || echo "RunCVM: Warning: no VM NIC for $M" >&9`)
  // In the background (one exec of a dynamic binary, ~0.2-0.3 s under TCG) while the mounts run.
  out.push(`${sq(ip)} -force -batch - <<RUNCVM_EOF 8>&- 9>&- &`, '$B', 'RUNCVM_EOF', 'NP=$!')
  return out
}
