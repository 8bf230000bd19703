// Container network discovery: parse `ip -json link/addr/route` output into typed interfaces and
// routes (pure), plus readNetwork(), the one edge that runs the bundled `ip`.
//
// Upstream runcvm-ctr-entrypoint reads the same three views through jq. We take every non-lo
// interface, its first IPv4 address, its global IPv6 addresses (Docker `--ipv6` networks), MAC and
// MTU; the IPv4 and IPv6 default routes name the gateway interfaces; non-link, non-default routes
// are kept for the VM to restore. `ip -json route` lists IPv4 only: IPv6 routes are a fourth view.
import { NetworkError } from '../errors.js'
import { $ } from '../sh.js'
import type { NetIfState, RouteState, NetworkState } from '../state.js'

interface IpAddrInfo { family?: string; local?: string; prefixlen?: number; scope?: string }
interface IpLink { ifname: string; address?: string; mtu?: number; link_type?: string; addr_info?: IpAddrInfo[] }
interface IpRoute { dst: string; gateway?: string; dev?: string; scope?: string; prefsrc?: string; protocol?: string }

function parseArray<T>(what: string, text: string): T[] {
  let v: unknown
  try {
    v = JSON.parse(text.trim() === '' ? '[]' : text)
  } catch (e) {
    throw new NetworkError(`cannot parse \`ip -json ${what}\` output: ${(e as Error).message}`)
  }
  if (!Array.isArray(v)) throw new NetworkError(`\`ip -json ${what}\` output is not an array`)
  return v as T[]
}

/** Routes the VM restores: with a gateway, not the default one, not link-scope. */
const extraRoutes = (routes: IpRoute[]): RouteState[] => routes
  .filter(r => r.dst !== 'default' && r.scope !== 'link' && r.gateway && r.dev)
  .map(r => ({ dst: r.dst, gateway: r.gateway!, dev: r.dev!, ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}) }))

/**
 * Build the network state from the `ip -json` outputs (`route6`: `ip -json -6 route`, '' when
 * not read). Interfaces keep `ip link` order (Docker attaches networks in that order, and the VM
 * recreates the same names).
 */
export function parseIpJson(linkText: string, addrText: string, routeText: string, route6Text = ''): NetworkState {
  const links = parseArray<IpLink>('link', linkText)
  const addrs = parseArray<IpLink>('addr', addrText)
  const routes = parseArray<IpRoute>('route', routeText)
  const routes6 = parseArray<IpRoute>('-6 route', route6Text)
  const def = routes.find(r => r.dst === 'default')
  const def6 = routes6.find(r => r.dst === 'default')
  const interfaces: NetIfState[] = []
  for (const l of links) {
    if (l.ifname === 'lo' || l.link_type === 'loopback') continue
    const a = addrs.find(x => x.ifname === l.ifname)
    const inet = a?.addr_info?.find(i => i.family === 'inet' && i.local)
    const nif: NetIfState = { name: l.ifname, mac: (l.address ?? '').toLowerCase(), mtu: l.mtu ?? 1500 }
    if (inet?.local !== undefined) {
      nif.ip = inet.local
      nif.prefix = inet.prefixlen ?? 32
    }
    if (def?.dev === l.ifname && def.gateway) nif.gateway = def.gateway
    // Docker's addresses only: link-local ones are per side (each derives its own from its MAC).
    const inet6 = (a?.addr_info ?? []).filter(i => i.family === 'inet6' && i.local && i.scope === 'global')
    if (inet6.length) nif.ip6 = inet6.map(i => ({ ip: i.local!, prefix: i.prefixlen ?? 128 }))
    if (def6?.dev === l.ifname && def6.gateway) nif.gateway6 = def6.gateway
    interfaces.push(nif)
  }
  return { v: 1, interfaces, routes: [...extraRoutes(routes), ...extraRoutes(routes6)] }
}

/**
 * Run `ip -json link|addr|route show` and `ip -json -6 route show` with the given ip binary (in
 * parallel) and parse the result. Without IPv6 in the host kernel the last one fails: no IPv6 routes.
 */
export async function readNetwork(ipBin: string): Promise<NetworkState> {
  const show = async (...what: string[]) => {
    const r = await $({ quiet: true, nothrow: what[0] === '-6' })`${ipBin} -json ${what} show`
    return r.exitCode === 0 ? r.stdout : ''
  }
  const [link, addr, route, route6] = await Promise.all([show('link'), show('addr'), show('route'), show('-6', 'route')])
  return parseIpJson(link, addr, route, route6)
}
