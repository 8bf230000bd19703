// runcvm-ctr-shutdown: runcvm-init (container PID 1) spawns this on SIGTERM (`docker stop`).
// 1. "stop" on the control port: runcvm-init --vm in the VM stops the workload gracefully
//    (SIGTERM, 8 s, SIGKILL) and powers off; works for any workload.
// 2. system_powerdown on the monitor: ACPI power button, for init systems (systemd) as PID 1.
// 3. If QEMU still runs after STOP_GRACE_MS, `quit` on the monitor, inside Docker's 10 s.
// Differs from upstream: no poweroff/kill over `docker exec` (exec is not needed here).
import { connect } from 'node:net'
import { readExitStatus, writeExitStatus } from '../lib/state.js'
import { CONTROL_SOCKET, QEMU_MONITOR_SOCKET } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

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

// The control connection stays open: the guest side of a virtio-serial port sees the host
// disconnected (POLLHUP) whenever no client is connected, and runcvm-init --vm reopens it about
// once a second; QEMU delivers the buffered line once it does. Closing right after writing
// could drop the line.
async function main(): Promise<void> {
  const ctl = connect(CONTROL_SOCKET, () => ctl.write('stop\n'))
  ctl.on('error', () => {})
  await send(QEMU_MONITOR_SOCKET, 'system_powerdown\n')
  // Parent (runcvm-init) ends us with the container; if QEMU is still there, stop it hard. The
  // workload did not finish: report it as killed (137), as runc does when docker stop times out.
  setTimeout(() => {
    if (readExitStatus() === undefined) try { writeExitStatus(137) } catch { /* best effort */ }
    void send(QEMU_MONITOR_SOCKET, 'quit\n').then(() => process.exit(0))
  }, STOP_GRACE_MS).unref()
  await new Promise(r => setTimeout(r, STOP_GRACE_MS + 1500))
}

runRole(main)
