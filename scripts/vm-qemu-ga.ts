// runcvm-vm-qemu-ga: run the QEMU guest agent on its virtio-serial port (upstream). vm-init
// starts qemu-ga directly (no extra Node process); this role serves the --init inittab and manual use.
import { existsSync, readdirSync } from 'node:fs'
import { BIN, GUEST_AGENT_PORT, STATE_DIR, VIRTIO_PORTS_DIR } from '../lib/paths.js'
import { execve } from '../lib/proc.js'

const named = `${VIRTIO_PORTS_DIR}/${GUEST_AGENT_PORT}`
const opts = ['--retry-path', '--statedir', STATE_DIR]
if (existsSync(named)) {
  execve(BIN.qemuGa, [BIN.qemuGa, ...opts], {})
} else {
  const vport = readdirSync('/dev').find(d => d.startsWith('vport'))
  if (vport) execve(BIN.qemuGa, [BIN.qemuGa, ...opts, '-p', `/dev/${vport}`], {})
}
