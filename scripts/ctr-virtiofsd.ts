// runcvm-ctr-virtiofsd (manual use only): serve the container root (/vm) to the VM with
// upstream's options (lib/qemu/virtiofsd.ts), in the foreground. ctr-entrypoint starts virtiofsd
// itself (saves a Node start); this role is kept for running it by hand in a container.
// Log: /run/.virtiofsd.log (container only).
import { openAppendSafe } from '../lib/fsx.js'
import { $ } from '../lib/sh.js'
import { parseSettings } from '../lib/settings.js'
import { buildVirtiofsdArgs } from '../lib/qemu/virtiofsd.js'
import { BIN, VIRTIOFSD_LOG, VIRTIOFSD_SOCKET } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

async function main(): Promise<void> {
  const s = parseSettings(process.env)
  const fd = openAppendSafe(VIRTIOFSD_LOG)
  const args = buildVirtiofsdArgs({ socket: VIRTIOFSD_SOCKET, source: s.RUNCVM_VM_MOUNTPOINT, cache: s.RUNCVM_VIRTIOFSD_CACHE, sysAdmin: s.RUNCVM_SYS_ADMIN })
  process.exitCode = (await $({ stdio: ['ignore', fd, fd], nothrow: true })`${BIN.virtiofsd} ${args}`).exitCode ?? 1
}

runRole(main)
