// runcvm-vm-qemu-ga (manual use only): run the QEMU guest agent on its virtio-serial port, as
// upstream's role did. The VM's init script starts qemu-ga itself (no Node process in the VM), in
// both the normal and the --init mode; this role is kept for starting it by hand in a VM.
import { existsSync, readdirSync } from 'node:fs'
import { BIN, GUEST_AGENT_PORT, STATE_DIR, VIRTIO_PORTS_DIR } from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'

function main(): void {
  const named = `${VIRTIO_PORTS_DIR}/${GUEST_AGENT_PORT}`
  const opts = ['--retry-path', '--statedir', STATE_DIR]
  if (existsSync(named)) return execve(BIN.qemuGa, [BIN.qemuGa, ...opts], {})
  const vport = readdirSync('/dev').find(d => d.startsWith('vport'))
  if (vport) execve(BIN.qemuGa, [BIN.qemuGa, ...opts, '-p', `/dev/${vport}`], {})
}

runRole(main)
