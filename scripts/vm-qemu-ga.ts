// runcvm-vm-qemu-ga: run the QEMU guest agent on its virtio-serial port (upstream). vm-init
// starts qemu-ga directly (no extra Node process); this role serves the --init inittab and manual use.
import { existsSync, readdirSync } from 'node:fs'
import { BIN } from '../lib/vm/bins.js'
import { execve } from '../lib/proc.js'

const named = '/dev/virtio-ports/org.qemu.guest_agent.0'
const opts = ['--retry-path', '--statedir', '/.runcvm']
if (existsSync(named)) {
  execve(BIN.qemuGa, [BIN.qemuGa, ...opts], {})
} else {
  const vport = readdirSync('/dev').find(d => d.startsWith('vport'))
  if (vport) execve(BIN.qemuGa, [BIN.qemuGa, ...opts, '-p', `/dev/${vport}`], {})
}
