// runcvm-ctr-shutdown: runcvm-init (container PID 1) spawns this on SIGTERM (`docker stop`).
// 1. "stop" on the control port: runcvm-init --vm in the VM stops the workload gracefully
//    (SIGTERM, 8 s, SIGKILL) and powers off; works for any workload.
// 2. system_powerdown on the monitor: ACPI power button, for init systems (systemd) as PID 1.
// 3. If QEMU still runs after STOP_GRACE_MS, `quit` on the monitor, inside Docker's 10 s.
// Differs from upstream: no poweroff/kill over `docker exec` (exec is not needed here).
import { connect } from 'node:net'
import { CONTROL_SOCKET } from '../lib/vm/bins.js'
import { QEMU_MONITOR_SOCKET } from '../lib/paths.js'

/** Docker sends SIGKILL 10 s after SIGTERM by default; the guest gets 8.5 s, QEMU the rest. */
const STOP_GRACE_MS = 8500

function send(path: string, text: string): Promise<void> {
  return new Promise(resolve => {
    const s = connect(path, () => s.end(text))
    s.on('error', () => resolve())
    s.on('close', () => resolve())
    setTimeout(() => { s.destroy(); resolve() }, 1000)
  })
}

await Promise.all([send(CONTROL_SOCKET, 'stop\n'), send(QEMU_MONITOR_SOCKET, 'system_powerdown\n')])
// Parent (runcvm-init) ends us with the container; if QEMU is still there, stop it hard.
setTimeout(() => { void send(QEMU_MONITOR_SOCKET, 'quit\n').then(() => process.exit(0)) }, STOP_GRACE_MS).unref()
await new Promise(r => setTimeout(r, STOP_GRACE_MS + 1500))
