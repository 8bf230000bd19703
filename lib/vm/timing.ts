// RUNCVM_BOOT_TIMING=1: `<phase> <seconds>` lines in /.runcvm/timing.log. Container roles log the
// host wall clock (epoch seconds), vm-init the guest uptime (the two clocks differ: compare
// within a side, and use the container lines for the end-to-end picture).
import { readFileSync } from 'node:fs'
import { appendTiming } from '../state.js'

export function hostTimer(enabled: boolean): (phase: string) => void {
  return enabled ? phase => appendTiming(phase, Date.now() / 1000) : () => {}
}

/**
 * Guest uptime marks. `started` (process.hrtime at the very top of vm-init, before /proc is
 * mounted) is logged as `vm:<firstPhase>` back-dated from the first real reading.
 */
export function guestTimer(enabled: boolean, started?: bigint, firstPhase = 'node-ready'): (phase: string) => void {
  if (!enabled) return () => {}
  const uptime = () => { try { return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) } catch { return NaN } }
  if (started !== undefined) appendTiming(`vm:${firstPhase}`, uptime() - Number(process.hrtime.bigint() - started) / 1e9)
  return phase => appendTiming(`vm:${phase}`, uptime())
}
