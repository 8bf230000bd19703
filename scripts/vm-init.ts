// runcvm-vm-init (fallback and debugging only): the Node form of the VM's init. The boot path
// does not start it: ctr-qemu writes the VM's init as a busybox sh script, /.runcvm/vm-init.sh
// (kernel init=), because a cold Node start in the VM costs ~2.4 s under TCG. This role plans the
// very same script (lib/vm/boot-plan.ts, from the state ctr-qemu saved and the image at '/'):
//   as VM PID 1 (e.g. RUNCVM_KERNEL_APPEND=init=/.runcvm/guest/scripts/runcvm-vm-init): writes
//     /.runcvm/vm-init.sh and execs busybox sh on it;
//   runcvm-vm-init --plan [ROOT]: prints the script for the image at ROOT (default '/') — debug.
import { RunCvmError } from '../lib/errors.js'
import { BIN, statePath } from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { parseSettings } from '../lib/settings.js'
import { readConfig, readFstab, readNetwork, readVm, writeExitStatus, writeVmInit } from '../lib/state.js'
import { planVmBoot, probesFromState } from '../lib/vm/boot-plan.js'
import { readImageFacts } from '../lib/vm/init-facts.js'

/** The init script ctr-qemu planned, planned again from its saved decisions and the image at `root`. */
function initScript(root: string): string {
  const cfg = readConfig()
  const s = parseSettings(cfg.settingsEnv)
  const probes = probesFromState(readVm(), readFstab(), s.RUNCVM_DISKS, readNetwork(), readImageFacts(root, cfg.args, cfg.env))
  return planVmBoot(cfg, s, probes).initScript
}

function main(): void {
  if (process.argv[2] === '--plan') {
    const root = (process.argv[3] ?? '/').replace(/\/+$/, '')
    process.stdout.write(initScript(root))
    return
  }
  const script = initScript('')
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
