// runcvm-vm-start (manual use only): upstream's `--init` console job in Node. The VM's init
// writes the equivalent busybox script, /.runcvm/vm-start.sh (buildVmStartScript), and busybox
// init runs that on the console instead, saving a Node start. Run by hand in an --init VM, this
// starts the workload once (upstream /.runcvm/once) under `runcvm-init --vm` (not PID 1 here: it
// supervises, records the exit status for ctr-exit, obeys "stop" on the control port) with the
// saved env/ids/cwd, and powers the VM off when the workload ends.
// Differs from upstream (respawn → second vm-start → poweroff): a busybox shell waits for the
// workload and powers off itself, so the VM never pays for a second Node start (~1-3 s under TCG).
import { markOnce, readConfig, readVm } from '../lib/state.js'
import { launchPaths, planLaunch } from '../lib/vm/launch.js'
import { BIN } from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { envOf } from '../lib/settings.js'

function main(): never {
  if (markOnce()) return execve(BIN.busybox, [BIN.busybox, 'poweroff', '-f'], {})
  const launch = planLaunch(readConfig(), launchPaths(readVm()), 'vm')
  // argv passes through "$@" untouched; poweroff -f: the workload and its group are already gone.
  const script = `"$0" "$@"; exec ${BIN.busybox} poweroff -f`
  return execve(BIN.busybox, [BIN.busybox, 'sh', '-c', script, ...launch.argv], envOf(launch.env))
}

runRole(main)
