// runcvm-vm-init: the Node fallback/debug form of the VM's init. The boot path does not start it:
// ctr-qemu writes the VM's init as a busybox sh script, /.runcvm/vm-init.sh (kernel init=), from
// the saved state and the image (lib/vm/init-script.ts), because a cold Node start in the VM costs
// ~2.4 s under TCG (DESIGN §4). This role applies the very same plan when run directly:
//   as VM PID 1 (e.g. RUNCVM_KERNEL_APPEND=init=/.runcvm/guest/scripts/runcvm-vm-init): plans from
//     the state and the image at '/', writes /.runcvm/vm-init.sh and execs busybox sh on it;
//   runcvm-vm-init --plan [ROOT]: prints the script for the image at ROOT (default '/') — debug.
import { buildVmInitScript } from '../lib/vm/init-script.js'
import { readInitInput } from '../lib/vm/init-facts.js'
import { BIN, statePath } from '../lib/paths.js'
import { writeExitStatus, writeVmInit } from '../lib/state.js'
import { RunCvmError } from '../lib/errors.js'
import { execve, runRole } from '../lib/proc.js'

function main(): void {
  if (process.argv[2] === '--plan') {
    const root = (process.argv[3] ?? '/').replace(/\/+$/, '')
    process.stdout.write(buildVmInitScript(readInitInput(root)))
    return
  }
  const script = buildVmInitScript(readInitInput(''))
  const file = statePath('vmInit')
  try {
    writeVmInit(script)
  } catch {
    // /.runcvm not writable yet: run the text directly ("$0" is then not the script: no re-exec).
    return execve(BIN.busybox, [BIN.busybox, 'sh', '-c', script, file], {})
  }
  return execve(BIN.busybox, [BIN.busybox, 'sh', file], {})
}

// PID 1 must not just exit (kernel panic → QEMU exits with no explanation): say why, power off.
// An unexpected error keeps its stack: this is the debugging form of the VM's init.
runRole(main, {
  report: e => `\nRunCVM: Error: VM init failed: ${e instanceof RunCvmError ? e.message : (e as Error)?.stack ?? e}\n`,
  finally: () => {
    if (process.argv[2] === '--plan') return
    try { writeExitStatus(1) } catch { /* nothing more to do */ }
    execve(BIN.busybox, [BIN.busybox, 'poweroff', '-f'], {})
  },
})
