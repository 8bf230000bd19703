// RUNCVM_BOOT_TIMING=1: `<phase> <seconds>` lines in /.runcvm/timing.log. Container roles log the
// host wall clock (epoch seconds), vm-init the guest uptime (the two clocks differ: compare
// within a side, and use the container lines for the end-to-end picture).
import { readFileSync } from 'node:fs'
import { appendTiming } from '../state.js'

export function hostTimer(enabled: boolean): (phase: string) => void {
  return enabled ? phase => appendTiming(phase, Date.now() / 1000) : () => {}
}

export function guestTimer(enabled: boolean): (phase: string) => void {
  return enabled ? phase => {
    let up = NaN
    try { up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) } catch { /* no /proc yet */ }
    appendTiming(`vm:${phase}`, up)
  } : () => {}
}
