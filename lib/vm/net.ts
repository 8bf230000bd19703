// VM-side network plan (upstream runcvm-vm-init network half): find each NIC by its 52:54:00 MAC,
// give it a temporary name first (eth0 and eth1 may need to swap), then its container name,
// addresses (IPv4, and Docker's IPv6 ones unless the guest kernel has IPv6 off), broadcast, MTU,
// and the routes. Pure. The boot path uses netLines(): busybox sh lines of
// the VM's init script (lib/vm/init-script.ts), which finds the NICs by MAC in the VM and feeds one
// `ip -batch`.
import { batchWord, shQuote as sq } from '../cmd.js'
import type { NetworkState } from '../state.js'
import { RUNCVM_DNS_IP } from '../paths.js'
import { guestMac } from '../net/plan.js'

/**
 * NICs by MAC, as busybox sh lines for the VM's init: each interface's 52:54:00 MAC is looked up in
 * /sys/class/net by the script (N<i> = the kernel's name, empty when missing), and one
 * `ip -force -batch` gets the renames (via <name>-tmp: eth0 and eth1 may swap), addresses, MTU,
 * default route and the routes of found interfaces.
 */
export function netLines(net: NetworkState, ip: string, ipv6 = true): string[] {
  const out: string[] = ['M=', `B=${sq('link set lo up\n')}`]
  net.interfaces.forEach((n, i) => {
    out.push(`N${i}=; if nic ${sq(guestMac(n.mac))}; then N${i}=$D; B=$B${sq('link set dev ')}"$D"${sq(` name ${batchWord(`${n.name}-tmp`)}\n`)}; else M="$M\${M:+, }"${sq(n.name)}; fi`)
  })
  net.interfaces.forEach((n, i) => {
    const lines = [
      `link set dev ${batchWord(`${n.name}-tmp`)} name ${batchWord(n.name)}`,
      ...(n.ip !== undefined ? [`addr add ${batchWord(`${n.ip}/${n.prefix ?? 32}`)} broadcast + dev ${batchWord(n.name)}`] : []),
      // nodad as Docker adds them: the container side gave them up before QEMU started, and a
      // tentative address would fail the workload's first bind or connect for ~1-2 s.
      ...(ipv6 ? (n.ip6 ?? []).map(a => `addr add ${batchWord(`${a.ip}/${a.prefix}`)} dev ${batchWord(n.name)} nodad`) : []),
      `link set dev ${batchWord(n.name)} up mtu ${n.mtu}`,
      ...(n.gateway !== undefined ? [`route add default via ${batchWord(n.gateway)}`] : []),
      ...(ipv6 && n.gateway6 !== undefined ? [`route add default via ${batchWord(n.gateway6)} dev ${batchWord(n.name)}`] : []),
    ]
    out.push(`[ -z "$N${i}" ] || B=$B${sq(lines.join('\n') + '\n')}`)
  })
  // No default route at all (Docker --internal networks, CNI bridges without a gateway): the
  // container side answers at RUNCVM_DNS_IP on the first bridge (DNS, and the source of
  // `docker exec`'s ssh connection); reach it on-link through the first NIC.
  const first = net.interfaces[0]
  if (first && !net.interfaces.some(n => n.gateway !== undefined)) {
    out.push(`[ -z "$N0" ] || B=$B${sq(`route add ${RUNCVM_DNS_IP}/32 dev ${batchWord(first.name)}\n`)}`)
  }
  for (const r of net.routes) {
    const i = net.interfaces.findIndex(n => n.name === r.dev)
    if (i < 0 || (!ipv6 && r.dst.includes(':'))) continue
    out.push(`[ -z "$N${i}" ] || B=$B${sq(`route add ${batchWord(r.dst)} via ${batchWord(r.gateway)} dev ${batchWord(r.dev)}\n`)}`)
  }
  out.push(`[ -z "$M" ] || echo "RunCVM: Warning: no VM NIC for $M" >&9`)
  // In the background (one exec of a dynamic binary, ~0.2-0.3 s under TCG) while the mounts run.
  out.push(`${sq(ip)} -force -batch - <<RUNCVM_EOF 8>&- 9>&- &`, '$B', 'RUNCVM_EOF', 'NP=$!')
  return out
}
