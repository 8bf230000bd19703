// What container PID 1 (native runcvm-init) watches besides QEMU. Pure.
//
// - virtiofsd for the container root and for the package: the VM cannot live without either
//   (its / or /.runcvm/guest goes dead). `--watch PID=NAME`: if one dies while QEMU runs,
//   runcvm-init prints `RunCVM: Error: NAME (pid N) died: ...; stopped the VM` after killing QEMU, and
//   the container exits 1 (instead of staying "running" with a VM cut off from its disk).
// - dnsmasq (the VM's DNS forwarder): not essential, so it is restarted when it dies
//   (`--respawn PIDFILE=ARGV`, with a one-line warning in RunCVM's warnings log, as every RunCVM
//   warning: `--warnings-log`, `--container-id`), rather than ending the container.
import { CTR_WARNINGS_LOG, DNSMASQ_PID } from './paths.js'
import { ConfigError } from './errors.js'

/** Names used in the error line; tests match them. */
export const ROOT_VIRTIOFSD_NAME = 'virtiofsd for the container root'
export const PKG_VIRTIOFSD_NAME = 'virtiofsd for the RunCVM package'

export function supervisionArgs(o: { rootPid?: number; pkgPid?: number; dns?: readonly string[]; containerId?: string }): string[] {
  const args: string[] = ['--warnings-log', CTR_WARNINGS_LOG, ...(o.containerId ? ['--container-id', o.containerId] : [])]
  if (o.rootPid) args.push('--watch', `${o.rootPid}=${ROOT_VIRTIOFSD_NAME}`)
  if (o.pkgPid) args.push('--watch', `${o.pkgPid}=${PKG_VIRTIOFSD_NAME}`)
  if (o.dns) {
    // runcvm-init splits the command on single spaces, without quoting: refuse what it would mangle.
    if (o.dns.some(a => a === '' || /\s/.test(a))) throw new ConfigError(`dnsmasq argv cannot be respawned: ${JSON.stringify(o.dns)}`)
    args.push('--respawn', `${DNSMASQ_PID}=${o.dns.join(' ')}`)
  }
  return args
}
