// runcvm-ctr-exit <qemu status> [signal=N]: runcvm-init execs this when QEMU ends (signal=N: QEMU
// was killed by signal N); the container exits with
// the workload's code (lib/vm/exit-code.ts has the order of sources).
import { runRole } from '../lib/proc.js'
import { readAppExitCode, readExitStatus } from '../lib/state.js'
import { deriveExitCode, qemuSignalError } from '../lib/vm/exit-code.js'
import { constants } from 'node:os'
import { hostTimer } from '../lib/vm/timing.js'

function main(): void {
  const arg = process.argv[2]
  const qemuStatus = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : undefined
  hostTimer(process.env.RUNCVM_BOOT_TIMING === '1')('ctr-exit')
  // Re-enable terminal line wrap (the kernel/SeaBIOS can leave it off); tput smam equivalent.
  // See https://github.com/cirosantilli/linux-kernel-module-cheat/issues/110
  if (process.stdout.isTTY) process.stdout.write('\x1b[?7h')
  const sig = /^signal=(\d+)$/.exec(process.argv[3] ?? '')?.[1]
  const facts = { appCode: readAppExitCode(), exitStatus: readExitStatus(), qemuStatus, ...(sig ? { qemuSignal: Number(sig) } : {}) }
  // QEMU's death by a signal is reported here (not thrown): the container still ends with the
  // code deriveExitCode gives (128+N), as for any process killed by N.
  const name = Object.entries(constants.signals).find(([, n]) => n === facts.qemuSignal)?.[0]
  const error = qemuSignalError(facts, name)
  if (error) process.stderr.write(`${error}\n`)
  process.exitCode = deriveExitCode(facts)
}

runRole(main)
