// KVM-stuck watchdog (beyond upstream). When KVM cannot emulate an instruction (e.g. on kvm-pvm,
// DESIGN §4) QEMU reports "KVM internal error" and *pauses* the guest: the container would hang
// forever. ctr-qemu starts `runcvm-ctr-qemu --watchdog <qemu pid>` detached before execve'ing
// QEMU (KVM only); it polls `query-status` over QMP and, on a dead state, explains and quits QEMU.
import { connect, type Socket } from 'node:net'
import { writeFileSync } from 'node:fs'

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

export interface WatchdogOpts { pid: number; qmp: string; exitStatusFile: string; intervalMs?: number }

export function runWatchdog(o: WatchdogOpts): void {
  const interval = o.intervalMs ?? 1000
  let sock: Socket | undefined
  let buf = ''
  const retry = () => { sock?.destroy(); sock = undefined; if (alive(o.pid)) setTimeout(start, 200); else process.exit(0) }
  const start = () => {
    const s = connect(o.qmp)
    sock = s
    s.setEncoding('utf8')
    s.on('error', retry)
    s.on('close', () => { if (alive(o.pid)) setTimeout(start, 200); else process.exit(0) })
    s.on('connect', () => {
      s.write('{"execute":"qmp_capabilities"}\n')
      const poll = setInterval(() => {
        if (!alive(o.pid)) process.exit(0)
        s.write('{"execute":"query-status"}\n')
      }, interval)
      s.on('close', () => clearInterval(poll))
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
        if (status === undefined) continue
        const verdict = watchdogVerdict(status)
        if (verdict === undefined) continue
        if (verdict) {
          process.stderr.write(`\nRunCVM: Error: ${verdict} (QEMU status '${status}').\n`)
          try { writeFileSync(o.exitStatusFile, '1\n') } catch { /* best effort */ }
        }
        s.write('{"execute":"quit"}\n')
        setTimeout(() => { try { process.kill(o.pid, 'SIGKILL') } catch { /* gone */ } process.exit(0) }, 2000)
      }
    })
  }
  start()
}
