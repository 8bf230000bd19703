// runcvm-vm-start: `--init` mode only. busybox init (VM PID 1) respawns this on the console; it
// starts the workload once (upstream /.runcvm/once) and powers the VM off the second time.
// The workload runs under `runcvm-init --vm` (not PID 1 here: it supervises, records the exit
// status for ctr-exit, and obeys "stop" on the control port) with the saved env/ids/cwd.
import { existsSync, writeFileSync } from 'node:fs'
import { readConfig, readVm, statePath } from '../lib/state.js'
import { planLaunch } from '../lib/vm/launch.js'
import { BIN } from '../lib/vm/bins.js'
import { execve } from '../lib/proc.js'

if (existsSync(statePath('once'))) {
  execve(BIN.poweroff, [BIN.poweroff], {})
}
writeFileSync(statePath('once'), '')
const launch = planLaunch(readConfig(), { runcvmInit: BIN.runcvmInit, exitFile: statePath('exitStatus'), controlPort: readVm().controlPort }, 'vm')
execve(launch.file, launch.argv, Object.fromEntries(launch.env.map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])))
