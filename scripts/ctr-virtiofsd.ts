// runcvm-ctr-virtiofsd: serve the container root (/vm) to the VM (upstream options, see
// lib/qemu/virtiofsd.ts). ctr-entrypoint starts virtiofsd directly (saves a Node start); this
// role is for manual use and compatibility. Log: /run/.virtiofsd.log (container only).
import { openSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { parseSettings } from '../lib/settings.js'
import { buildVirtiofsdArgs } from '../lib/qemu/virtiofsd.js'
import { BIN, VIRTIOFSD_LOG, VIRTIOFSD_SOCKET } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

function main(): void {
  const s = parseSettings(process.env)
  const fd = openSync(VIRTIOFSD_LOG, 'a')
  const args = buildVirtiofsdArgs({ socket: VIRTIOFSD_SOCKET, source: s.RUNCVM_VM_MOUNTPOINT, cache: s.RUNCVM_VIRTIOFSD_CACHE, sysAdmin: s.RUNCVM_SYS_ADMIN })
  process.exitCode = spawnSync(BIN.virtiofsd, args, { stdio: ['ignore', fd, fd] }).status ?? 1
}

runRole(main)
