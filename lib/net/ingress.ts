// Swarm's routing mesh for a VM task. Docker's ingress load balancer sends a published port's
// connections to the task's address on the ingress network with the PUBLISHED port, and a NAT rule
// in the task's network namespace turns it into the target port:
//   -A PREROUTING -d 10.0.0.4/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80
// In a RunCVM container that address belongs to the VM and the container side only bridges its
// frames. Worse, with br_netfilter loaded (Docker loads it) bridged frames still cross the
// namespace's nat table, and REDIRECT drops a packet whose incoming interface (the bridge) has no
// IPv4 address: the mesh timed out. So the container side reads these rules before it builds its
// bridges (parseIngressRedirects), moves them out of its namespace (ruleArgs, with -D) and the VM's
// init installs them in the VM (ingressRestore), where the packets are routed. Pure.
import type { NetworkState, PortRedirect } from '../state.js'

export type { PortRedirect }

const PORT = /^[0-9]{1,5}$/

const port = (s: string): number | undefined => {
  if (!PORT.test(s)) return undefined
  const n = Number(s)
  return n >= 1 && n <= 65535 ? n : undefined
}

/**
 * The REDIRECT rules of `iptables -t nat -S PREROUTING` output whose destination is one of the
 * VM's addresses (`vmIps`), exactly in Docker's shape; every other line (our own rules, rules with
 * other matches or targets) is ignored.
 */
export function parseIngressRedirects(save: string, vmIps: readonly string[]): PortRedirect[] {
  const out: PortRedirect[] = []
  for (const line of save.split('\n')) {
    // -A PREROUTING -d IP/32 -p P -m P --dport N -j REDIRECT --to-ports M
    const w = line.trim().split(/\s+/)
    if (w.length !== 14 || w[0] !== '-A' || w[1] !== 'PREROUTING' || w[2] !== '-d' || w[4] !== '-p' || w[6] !== '-m'
      || w[8] !== '--dport' || w[10] !== '-j' || w[11] !== 'REDIRECT' || w[12] !== '--to-ports') continue
    const [ip, len, ...rest] = w[3]!.split('/')
    const proto = w[5]
    // One of the VM's own addresses (from the kernel's listing): no other form of address passes.
    if (rest.length || len !== '32' || !vmIps.includes(ip!)) continue
    if ((proto !== 'tcp' && proto !== 'udp') || w[7] !== proto) continue
    const dport = port(w[9]!)
    const toPort = port(w[13]!)
    if (dport === undefined || toPort === undefined) continue
    if (!out.some(r => r.ip === ip && r.proto === proto && r.dport === dport)) out.push({ ip: ip!, proto, dport, toPort })
  }
  return out
}

/** The rule's words after `-A`/`-D` (as iptables -S prints them). */
export const ruleArgs = (r: PortRedirect): string[] =>
  ['PREROUTING', '-d', `${r.ip}/32`, '-p', r.proto, '-m', r.proto, '--dport', String(r.dport), '-j', 'REDIRECT', '--to-ports', String(r.toPort)]

/** The VM's IPv4 addresses: the only destinations whose redirects move into the VM. */
export const vmIpv4s = (net: NetworkState): string[] => net.interfaces.flatMap(n => (n.ip === undefined ? [] : [n.ip]))

/**
 * `iptables-restore --noflush` input for the VM: the same redirects in the VM's nat table, so the
 * mesh's connections reach the workload's target port (empty string when there are none).
 */
export function ingressRestore(redirects: readonly PortRedirect[] | undefined): string {
  if (!redirects?.length) return ''
  const rules = redirects.map(r => ['-A', ...ruleArgs(r)].join(' '))
  return ['*nat', ...rules, 'COMMIT', ''].join('\n')
}
