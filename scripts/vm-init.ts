// runcvm-vm-init: the Node fallback/debug form of the VM's init. The boot path does not start it:
// ctr-qemu writes the VM's init as a busybox sh script, /.runcvm/vm-init.sh (kernel init=), from
// the saved state and the image (lib/vm/init-script.ts), because a cold Node start in the VM costs
// ~2.4 s under TCG (DESIGN §4). This role applies the very same plan when run directly:
//   as VM PID 1 (e.g. RUNCVM_KERNEL_APPEND=init=/.runcvm/guest/scripts/runcvm-vm-init): plans from
//     the state and the image at '/', writes /.runcvm/vm-init.sh and execs busybox sh on it;
//   runcvm-vm-init --plan [ROOT]: prints the script for the image at ROOT (default '/') — debug.
import { chmodSync, writeFileSync } from 'node:fs'
import { buildVmInitScript } from '../lib/vm/init-script.js'
import { readInitInput } from '../lib/vm/init-facts.js'
import { BIN, statePath } from '../lib/paths.js'
import { execve } from '../lib/proc.js'

function main(): never {
  if (process.argv[2] === '--plan') {
    const root = (process.argv[3] ?? '/').replace(/\/+$/, '')
    process.stdout.write(buildVmInitScript(readInitInput(root)))
    process.exit(0)
  }
  const script = buildVmInitScript(readInitInput(''))
  const file = statePath('vmInit')
  try {
    writeFileSync(file, script)
    chmodSync(file, 0o755)
  } catch {
    // /.runcvm not writable yet: run the text directly ("$0" is then not the script: no re-exec).
    return execve(BIN.busybox, [BIN.busybox, 'sh', '-c', script, file], {})
  }
  return execve(BIN.busybox, [BIN.busybox, 'sh', file], {})
}

try {
  main()
} catch (e) {
  // PID 1 must not just exit (kernel panic → QEMU exits with no explanation): say why, power off.
  process.stderr.write(`\nRunCVM: Error: VM init failed: ${(e as Error)?.stack ?? e}\n`)
  try { writeFileSync(statePath('exitStatus'), '1\n') } catch { /* nothing more to do */ }
  execve(BIN.busybox, [BIN.busybox, 'poweroff', '-f'], {})
}
