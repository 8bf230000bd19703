// IPv4 prefix/netmask arithmetic (behaviour of upstream runcvm-ip-functions). Pure.
// Works on unsigned 32-bit integers; `>>> 0` keeps JavaScript's bit operators unsigned.
import { NetworkError } from '../errors.js'

/** Dotted quad → unsigned 32-bit integer. Throws on anything that is not a.b.c.d with 0-255 parts. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.')
  if (parts.length !== 4 || parts.some(p => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new NetworkError(`not an IPv4 address: '${ip}'`)
  }
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0)
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map(s => (n >>> s) & 0xff).join('.')
}

/** Prefix length (0-32) → mask as an integer (24 → 0xffffff00). */
export function prefixToMaskInt(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new NetworkError(`bad prefix length: ${prefix}`)
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

/** Network address of ip/prefix (172.17.0.2, 16 → 172.17.0.0). */
export function networkOf(ip: string, prefix: number): string {
  return intToIp((ipToInt(ip) & prefixToMaskInt(prefix)) >>> 0)
}

/** `network/prefix` string for a route (upstream ip_prefix_to_network + "/prefix"). */
export const cidrOf = (ip: string, prefix: number): string => `${networkOf(ip, prefix)}/${prefix}`
