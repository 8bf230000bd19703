// 44-ipv6-guest: IPv6 is on in the guest kernel by default (upstream booted every VM with
// ipv6.disable=1), so programs that listen on [::] start as they do under runc, and RUNCVM_IPV6
// turns it off again:
//
// - default: ::1 on lo, a link-local address on eth0, a server bound to [::]:8080 answers on
//   127.0.0.1 (dual-stack) and on [::1]. runc reference: the same [::] bind and IPv4 answer
//   (Docker disables IPv6 in a runc container's namespace on a network without IPv6, so runc has
//   no ::1 to compare with);
// - RUNCVM_IPV6=off: no IPv6 in the kernel (no /proc/net/if_inet6), the [::] bind fails;
// - RUNCVM_IPV6=maybe: refused at create, naming the option and the accepted values.
import { type Case, describe, fail } from '../harness'

/** Start httpd on [::]:8080 and fetch over IPv4 once it answers (up to ~10 s: no fixed sleep to lose under load). */
const SERVE = '(httpd -f -p "[::]:8080" -h /etc 2>&1 &); i=0; until wget -qO- http://127.0.0.1:8080/group 2>/dev/null | head -1 | grep .; do i=$((i+1)); [ $i -lt 40 ] || break; sleep 0.25; done'
/** httpd in the foreground: without IPv6 it fails at once with its bind error; timeout ends it if it listens. */
const BIND_ONLY = 'timeout 20 httpd -f -p "[::]:8080" -h /etc 2>&1'
/**
 * eth0's link-local address, waited for up to ~10 s: the kernel adds it once the NIC has carrier,
 * which virtio-net reports a moment after `ip link set up` (seen missing right after a 3 s boot on
 * an idle host); under runc too it is still tentative when the workload starts.
 */
const LINK_LOCAL = 'i=0; until ip -6 -o addr show dev eth0 | grep -q "fe80::"; do i=$((i+1)); [ $i -lt 40 ] || break; sleep 0.25; done; ip -6 -o addr show dev eth0 | grep -c "fe80::"'

export default {
  description: 'IPv6 on in the guest: ::1, link-local, [::] bind answers on IPv4 and ::1; RUNCVM_IPV6=off disables it; bad value refused',
  needs: ['runcvm'],
  timeoutMs: 240_000,
  async test({ runcvm, runc }) {
    const bad: string[] = []
    const ref = await runc(['runcvm-test/bb', 'sh', '-c', SERVE])
    const on = await runcvm(['runcvm-test/bb', 'sh', '-c',
      `${SERVE}; wget -qO- "http://[::1]:8080/group" | head -1; ip -6 -o addr show dev lo | grep -c "::1/128"; ${LINK_LOCAL}`])
    if (ref.stdout !== 'root:x:0:\n') bad.push(`runc reference: ${describe(ref)}`)
    if (on.code !== 0 || on.stdout !== `${ref.stdout}root:x:0:\n1\n1\n`) bad.push(`default (IPv6 on): ${describe(on)}`)
    const off = await runcvm(['-e', 'RUNCVM_IPV6=off', 'runcvm-test/bb', 'sh', '-c', `[ -e /proc/net/if_inet6 ] && echo has-ipv6; ${BIND_ONLY}`])
    if (off.stdout.includes('has-ipv6') || !/Address family not supported/.test(off.stdout)) bad.push(`RUNCVM_IPV6=off: ${describe(off)}`)
    const wrong = await runcvm(['-e', 'RUNCVM_IPV6=maybe', 'runcvm-test/bb', 'true'])
    if (wrong.code === 0 || !wrong.stderr.includes("RunCVM: Error: RUNCVM_IPV6 'maybe' invalid, must be one of: on, off")) bad.push(`RUNCVM_IPV6=maybe: ${describe(wrong)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
