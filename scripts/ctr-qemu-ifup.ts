// runcvm-ctr-qemu-ifup <tap> (manual use only): QEMU's tap `script=` as upstream had it.
// ctr-entrypoint pre-creates and enslaves the taps (QEMU then uses script=no, see
// lib/net/plan.ts), so this is only for a tap configured by hand: bring it up with the
// interface's MTU on its bridge.
import { readNetwork } from '../lib/state.js'
import { planTapUp } from '../lib/net/plan.js'
import { applyCmds } from '../lib/sh.js'
import { BIN } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

async function main(): Promise<void> {
  const tap = process.argv[2] ?? ''
  const ifname = tap.replace(/^tap-/, '')
  const n = readNetwork().interfaces.find(i => i.name === ifname) ?? { name: ifname, mac: '', mtu: 1500 }
  await applyCmds(planTapUp(BIN.ip, n, true), { keepGoing: true })
}

runRole(main)
