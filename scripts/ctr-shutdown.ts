// runcvm-ctr-shutdown: runcvm-init (container PID 1) spawns this on SIGTERM or SIGRTMIN+3
// (`docker stop`; the latter is systemd images' STOPSIGNAL).
// 1. "stop" on the control port: runcvm-init --vm in the VM stops the workload gracefully
//    (SIGTERM, then as long as it takes: no kill timer in the VM) and powers off; an init as VM PID 1 (systemd, busybox init) gets its
//    poweroff signal from runcvm-init's stop listener instead.
// 2. system_powerdown on the monitor: ACPI power button, for other inits.
// Then it waits: the guest powers off in its own time, and Docker's SIGKILL after `docker stop -t`
// (default 10 s) ends the container if it has not.
// Differs from upstream: no poweroff/kill over `docker exec` (exec is not needed here).
import { connect } from 'node:net'
import { CONTROL_SOCKET, QEMU_MONITOR_SOCKET } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

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
// could drop the line. So this process lives until the container ends (QEMU's exit ends it).
//
// No `quit` of QEMU after a fixed time (as upstream, which had none either): a guest that shuts
// down cleanly but slowly (systemd stopping mariadb and dockerd under TCG: 6-9 s) gets all the
// time `docker stop -t` allows.
async function main(): Promise<void> {
  const ctl = connect(CONTROL_SOCKET, () => ctl.write('stop\n'))
  ctl.on('error', () => {})
  await send(QEMU_MONITOR_SOCKET, 'system_powerdown\n')
  await new Promise(() => {})
}

runRole(main)
