// runcvm-ctr-qemu-ifdown <tap> (manual use only): QEMU's tap `downscript=` as upstream had it:
// take the tap down. ctr-entrypoint pre-creates the taps and QEMU runs with downscript=no.
import { applyCmds } from '../lib/sh.js'
import { BIN } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

runRole(() => applyCmds([[BIN.ip, 'link', 'set', 'dev', process.argv[2] ?? '', 'down']], { keepGoing: true, stdio: 'ignore' }))
