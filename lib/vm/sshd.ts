// dropbear in the VM, for `docker exec` (port of the dropbear part of runcvm-vm-init).
//
// Keys. At boot the VM creates, in /.runcvm/dropbear (the container's 0700 tmpfs, seen by the VM
// through virtiofs): an ed25519 client key pair (`key`, read by dbclient in the container) and an
// ed25519 host key. The public half goes to `authorized_keys`, which our patched dropbear reads
// instead of ~/.ssh (patches/dropbear). Nothing else in the image can log in: password logins are
// off (-s), forwarding is off (-j -k and the key options). ed25519 because RSA-2048 key generation
// costs seconds under TCG (upstream generated RSA), and a pre-made host key because `-R` would
// make the first exec pay for it.
//
// Reachability. dropbear listens on the VM's own addresses only. The container reaches them over
// its bridge (dbclient connects from 169.254.1.1, SNAT'd to 169.254.169.254 by the boot chain's
// rule). Peers on the Docker network reach the VM's address too, through eth0 → br-<if> →
// tap-<if>: planSshdGuard() drops bridged (forwarded) TCP to port 22222 in the *container's*
// netns (nft bridge family via ebtables-nft, which needs neither br_netfilter nor the guest's
// netfilter). The container's netns also forwards IPv4, so a peer that sends to the bridge's own
// MAC (e.g. a route to the VM's IP via 169.254.1.1, which the bridge answers ARP for) is *routed*
// to the VM, past the bridge's FORWARD hook: an iptables FORWARD rule drops routed TCP to the
// VM's addresses on port 22222 as well. Only traffic the container itself originates (dbclient:
// OUTPUT, never FORWARD) gets through, so the rule needs no source exception (which a peer could
// spoof).
//
// Readiness. dropbear writes its pid file only after its listening sockets are bound
// (svr-main.c: listensockets() precedes the pidfile), so the pid file IS the readiness marker:
// ctr-exec waits for it instead of upstream's fixed 2 s sleep. /.runcvm is fresh for every
// container start, so a stale marker cannot exist at boot.
//
// Supervision. The start-up script does not exec dropbear: it runs it in a loop, so a dropbear
// that dies (kill -9, a crash) is started again RESTART_DELAY_S later and `docker exec` works
// again by itself. The marker is removed as soon as dropbear has ended (dropbear -F leaves it
// behind when killed), so ctr-exec waits for the new one instead of connecting to nothing;
// ctr-exec also checks the port answers before it hands over to dbclient.
// Differs from upstream: upstream started dropbear once; after it died no exec worked again.
import { BIN, SSHD_AUTHORIZED_KEYS, SSHD_DIR, SSHD_HOST_KEY, SSHD_KEY, SSHD_PORT, SSHD_READY } from '../paths.js'
import { shQuote, type Cmd } from '../cmd.js'
import type { NetworkState } from '../state.js'

/** Options on our one key: a command session and nothing else. */
export const KEY_OPTIONS = 'no-port-forwarding,no-agent-forwarding,no-X11-forwarding'

export const planKeygen = (): Cmd[] => [
  [BIN.dropbearkey, '-t', 'ed25519', '-f', SSHD_KEY],
  [BIN.dropbearkey, '-t', 'ed25519', '-f', SSHD_HOST_KEY],
]

/** Addresses to listen on: every VM interface address (never 0.0.0.0). */
export function sshdAddresses(net: NetworkState): string[] {
  return net.interfaces.map(i => i.ip).filter((ip): ip is string => !!ip)
}

export function buildDropbearArgs(net: NetworkState): string[] {
  const addrs = sshdAddresses(net)
  return [
    BIN.dropbear,
    '-F', // foreground: vm-init detaches it itself
    '-E', // log to stderr (which vm-init points at /dev/null)
    '-s', // no password logins: key only
    '-j', '-k', // no local/remote port forwarding
    '-r', SSHD_HOST_KEY,
    '-P', SSHD_READY,
    ...(addrs.length ? addrs : ['127.0.0.1']).flatMap(a => ['-p', `${a}:${SSHD_PORT}`]),
  ]
}

/**
 * Container-side rules (run in the container's netns, before QEMU starts) that keep peers on the
 * Docker network away from the VM's sshd: drop any *bridged* IPv4 TCP to port 22222 (ebtables),
 * and any *routed* (forwarded) TCP to the VM's addresses on that port (iptables filter FORWARD).
 * The container's own connection is locally originated (OUTPUT), so it is unaffected.
 */
export function planSshdGuard(net: NetworkState, xtablesNftMulti: string = BIN.xtables): Cmd[] {
  // 0x0800, not "IPv4": the name needs /etc/ethertypes, which images may lack. Needs
  // XTABLES_LIBDIR=<guest>/usr/lib/xtables (libebt_ip.so, libxt_tcp.so), as the boot chain's
  // iptables calls do.
  const port = String(SSHD_PORT)
  return [
    [xtablesNftMulti, 'ebtables', '-A', 'FORWARD', '-p', '0x0800', '--ip-proto', 'tcp', '--ip-dport', port, '-j', 'DROP'],
    ...sshdAddresses(net).map((ip): Cmd =>
      [xtablesNftMulti, 'iptables', '-t', 'filter', '-A', 'FORWARD', '-d', `${ip}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', port, '-j', 'DROP']),
  ]
}

/** Seconds between a dropbear's end and its restart (bounds the loop if it cannot start at all). */
export const RESTART_DELAY_S = 0.3

/**
 * The whole start-up as one busybox sh script, run in the background so the workload's boot does
 * not wait for key generation: both keys in parallel, authorized_keys from the client key's
 * public half, then dropbear (which writes SSHD_READY once it listens) in a restart loop. umask
 * 077: the key files and authorized_keys are root-only; dropbear itself runs with runc's exec umask
 * (0022), which `docker exec` commands inherit.
 */
export function buildSshdScript(net: NetworkState, busybox: string = BIN.busybox): string {
  const [client, host] = planKeygen()
  const q = (c: Cmd) => c.map(shQuote).join(' ')
  const bb = shQuote(busybox)
  return [
    'umask 077',
    `${bb} mkdir -p ${shQuote(SSHD_DIR)}`,
    `${bb} rm -f ${[SSHD_KEY, SSHD_HOST_KEY, SSHD_READY, SSHD_AUTHORIZED_KEYS].map(shQuote).join(' ')}`,
    `${q(host)} >/dev/null 2>&1 &`,
    `pub=$(${q(client)} 2>/dev/null | ${bb} grep '^ssh-' | ${bb} cut -d' ' -f1,2) || exit 1`,
    'wait',
    `[ -n "$pub" ] || exit 1`,
    `printf '%s %s runcvm-exec\\n' ${shQuote(KEY_OPTIONS)} "$pub" >${shQuote(SSHD_AUTHORIZED_KEYS)}`,
    // Exec'd commands inherit dropbear's umask: runc's exec gives 0022.
    'umask 022',
    'while :; do',
    `  ${q(buildDropbearArgs(net))} >/dev/null 2>&1 </dev/null`,
    `  ${bb} rm -f ${shQuote(SSHD_READY)}`,
    `  ${bb} sleep ${RESTART_DELAY_S}`,
    'done',
  ].join('\n') + '\n'
}
