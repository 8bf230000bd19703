// RUNCVM_BOOT_TIMING=1: `<phase> <seconds>` lines in /.runcvm/timing.log. Container roles log the
// host wall clock (epoch seconds), the VM's init script the guest uptime (lib/state.ts STATE_SH;
// the two clocks differ: compare within a side, and use the container lines end to end).
import { appendTiming } from '../state.js'

export function hostTimer(enabled: boolean): (phase: string) => void {
  return enabled ? phase => appendTiming(phase, Date.now() / 1000) : () => {}
}
