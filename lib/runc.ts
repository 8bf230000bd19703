// Find the real runc to hand over to.
//
// Upstream hard-codes /usr/bin/runc, which breaks where Debian/Ubuntu's docker.io installs it at
// /usr/sbin/runc (upstream issue #20). Order:
// 1. RUNCVM_RUNC in the runtime's own environment, i.e. dockerd's: set it with a systemd drop-in
//    (`Environment=RUNCVM_RUNC=/path/to/runc` under [Service] of docker.service) or however
//    dockerd is started. When set it must point at an executable; there is no silent fallback.
// 2. /usr/bin/runc, /usr/sbin/runc, /usr/local/bin/runc, /usr/local/sbin/runc.
// 3. `runc` on PATH.
import { accessSync, constants, statSync } from 'node:fs'
import { RunCvmError } from './errors.js'

export const RUNC_CANDIDATES: readonly string[] = ['/usr/bin/runc', '/usr/sbin/runc', '/usr/local/bin/runc', '/usr/local/sbin/runc']

export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false
    accessSync(p, constants.X_OK)
    return true
  } catch { return false }
}

export function findRunc(
  env: { RUNCVM_RUNC?: string; PATH?: string },
  isExec: (p: string) => boolean = isExecutableFile,
): string {
  const explicit = env.RUNCVM_RUNC
  if (explicit) {
    if (isExec(explicit)) return explicit
    throw new RunCvmError(`RUNCVM_RUNC '${explicit}' is not an executable file`,
      { hint: 'Set RUNCVM_RUNC in dockerd\'s environment to the path of runc, or unset it to search the usual paths' })
  }
  for (const p of RUNC_CANDIDATES) if (isExec(p)) return p
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && isExec(`${dir}/runc`)) return `${dir}/runc`
  }
  throw new RunCvmError(`runc not found (looked in ${RUNC_CANDIDATES.join(', ')} and PATH)`,
    { hint: 'Install runc, or set RUNCVM_RUNC=/path/to/runc in dockerd\'s environment' })
}
