// runcvm-ctr-exit <qemu status>: runcvm-init execs this when QEMU ends; the container exits with
// the workload's code (lib/vm/exit-code.ts has the order of sources).
import { runRole } from '../lib/proc.js'
import { readAppExitCode, readExitStatus } from '../lib/state.js'
import { deriveExitCode } from '../lib/vm/exit-code.js'
import { hostTimer } from '../lib/vm/timing.js'

function main(): void {
  const arg = process.argv[2]
  const qemuStatus = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : undefined
  hostTimer(process.env.RUNCVM_BOOT_TIMING === '1')('ctr-exit')
  // Re-enable terminal line wrap (the kernel/SeaBIOS can leave it off); tput smam equivalent.
  // See https://github.com/cirosantilli/linux-kernel-module-cheat/issues/110
  if (process.stdout.isTTY) process.stdout.write('\x1b[?7h')
  process.exitCode = deriveExitCode({ appCode: readAppExitCode(), exitStatus: readExitStatus(), qemuStatus })
}

runRole(main)
