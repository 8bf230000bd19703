// Container network discovery: parse `ip -json link/addr/route` output into typed interfaces and
// routes (pure), plus readNetwork(), the one edge that runs the bundled `ip`.
//
// Upstream runcvm-ctr-entrypoint reads the same three views through jq. We take every non-lo
// interface (multi-network is the networking issue, the shape is ready for it), its first IPv4
// address, MAC and MTU; the default route names the gateway interface; non-link, non-default
// routes are kept for the VM to restore.
import { NetworkError } from '../errors.js'
import { $ } from '../sh.js'
import type { NetIfState, RouteState, NetworkState } from '../state.js'

interface IpAddrInfo { family?: string; local?: string; prefixlen?: number }
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

/**
 * Build the network state from the three `ip -json` outputs. Interfaces keep `ip link` order
 * (Docker attaches networks in that order, and the VM recreates the same names).
 */
export function parseIpJson(linkText: string, addrText: string, routeText: string): NetworkState {
  const links = parseArray<IpLink>('link', linkText)
  const addrs = parseArray<IpLink>('addr', addrText)
  const routes = parseArray<IpRoute>('route', routeText)
  const def = routes.find(r => r.dst === 'default')
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
    interfaces.push(nif)
  }
  const extra: RouteState[] = routes
    .filter(r => r.dst !== 'default' && r.scope !== 'link' && r.gateway && r.dev)
    .map(r => ({ dst: r.dst, gateway: r.gateway!, dev: r.dev!, ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}) }))
  return { v: 1, interfaces, routes: extra }
}

/** Run `ip -json link|addr|route show` with the given ip binary (in parallel) and parse the result. */
export async function readNetwork(ipBin: string): Promise<NetworkState> {
  const show = async (what: string) => (await $({ quiet: true })`${ipBin} -json ${what} show`).stdout
  const [link, addr, route] = await Promise.all([show('link'), show('addr'), show('route')])
  return parseIpJson(link, addr, route)
}
