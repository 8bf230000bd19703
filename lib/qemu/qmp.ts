// KVM-stuck watchdog (beyond upstream). When KVM cannot emulate an instruction (e.g. on kvm-pvm,
// a paravirtual KVM module that cannot run a stock kernel) QEMU reports "KVM internal error" and *pauses* the guest: the container would hang
// forever. ctr-qemu starts `runcvm-ctr-qemu --watchdog <qemu pid>` detached before execve'ing
// QEMU (KVM only); it polls `query-status` over QMP and, on a dead state, explains and quits QEMU.
import { connect, type Socket } from 'node:net'
import { existsSync } from 'node:fs'
import { writeExitStatus } from '../state.js'

/** QMP run states that mean the guest will never continue by itself. */
const DEAD_STATES: Readonly<Record<string, string>> = {
  'internal-error': 'the VM stopped after a KVM internal error: this host\'s KVM cannot run the guest. Use RUNCVM_ACCEL=tcg (or auto)',
  'guest-panicked': 'the VM\'s kernel panicked',
}

/** Pure: the message for a QMP status, '' for a state we should just leave, undefined = fine. */
export function watchdogVerdict(status: string): string | undefined {
  return DEAD_STATES[status]
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }

export interface WatchdogOpts {
  pid: number
  qmp: string
  intervalMs?: number
  /**
   * Written by vm-init as soon as it runs. On kvm-pvm with `-cpu host,pmu=off` QEMU does not
   * always pause: measured here, the guest spins with status "running" and prints nothing. So
   * no such file after bootTimeoutMs (a KVM boot takes ~1 s) also fails the container.
   */
  bootedFile: string
  bootTimeoutMs: number
}

export function runWatchdog(o: WatchdogOpts): void {
  const interval = o.intervalMs ?? 1000
  const fail = (msg: string) => {
    process.stderr.write(`\nRunCVM: Error: ${msg}\n`)
    try { writeExitStatus(1) } catch { /* best effort */ }
    // quit over the human monitor is not available here; SIGTERM makes QEMU exit cleanly.
    try { process.kill(o.pid, 'SIGTERM') } catch { /* gone */ }
    setTimeout(() => { try { process.kill(o.pid, 'SIGKILL') } catch { /* gone */ } process.exit(0) }, 2000)
  }
  setTimeout(() => {
    if (alive(o.pid) && !existsSync(o.bootedFile)) {
      fail(`the VM did not start within ${o.bootTimeoutMs / 1000} s under KVM: this host's KVM cannot run the guest (e.g. kvm-pvm). Use RUNCVM_ACCEL=tcg (or auto).`)
    }
  }, o.bootTimeoutMs)
  // One connection at a time: every failure path funnels into `again` exactly once.
  const schedule = () => { if (!alive(o.pid)) process.exit(0); setTimeout(start, 250) }
  const start = () => {
    const s: Socket = connect(o.qmp)
    let buf = ''
    let poll: NodeJS.Timeout | undefined
    let done = false
    const again = () => {
      if (done) return
      done = true
      clearInterval(poll)
      s.destroy()
      schedule()
    }
    s.setEncoding('utf8')
    s.on('error', again)
    s.on('close', again)
    s.on('connect', () => {
      s.write('{"execute":"qmp_capabilities"}\n')
      poll = setInterval(() => {
        if (!alive(o.pid)) process.exit(0)
        s.write('{"execute":"query-status"}\n')
      }, interval)
    })
    s.on('data', (d: string) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        let msg: { return?: { status?: string } }
        try { msg = JSON.parse(line) } catch { continue }
        const status = msg.return?.status
        const verdict = status === undefined ? undefined : watchdogVerdict(status)
        if (verdict === undefined) continue
        done = true
        clearInterval(poll)
        fail(`${verdict} (QEMU status '${status}').`)
        return
      }
    })
  }
  start()
}
