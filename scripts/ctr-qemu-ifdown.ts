// runcvm-ctr-qemu-ifdown <tap>: QEMU's tap `downscript=` (upstream): take the tap down.
import { applyCmds } from '../lib/sh.js'
import { BIN } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

runRole(() => applyCmds([[BIN.ip, 'link', 'set', 'dev', process.argv[2] ?? '', 'down']], { keepGoing: true, stdio: 'ignore' }))
