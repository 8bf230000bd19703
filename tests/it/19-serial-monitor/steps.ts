// 19-serial-monitor: with RUNCVM_DISPLAY_MODE=serial and `-it`, the QEMU monitor shares the
// terminal with the console, its escape key is Ctrl-T (-echr 20, as upstream): Ctrl-T c switches
// a `docker attach`ed terminal to the monitor ("info status" answers) and back, and Docker's
// detach keys (^P^Q) then leave the VM running. VM-only (runc has no QEMU monitor); the client's
// terminal is a pty from script(1).
import { $ } from 'zx/core'
import { type Case, fail, startDetached } from '../harness'

export default {
  description: 'serial mode -it: Ctrl-T c reaches the QEMU monitor through docker attach, ^P^Q detaches, the VM keeps running',
  needs: ['runcvm', 'script'],
  timeoutMs: 180_000,
  async test(ctx) {
    const { docker, uniq, runtime, waitForLog, note } = ctx
    const ser = uniq('serial')
    await startDetached(ctx, runtime, ser, ['-i', '-t', '-e', 'RUNCVM_DISPLAY_MODE=serial', 'runcvm-test/bb',
      'sh', '-c', 'echo ready; while :; do sleep 1; done'])
    await waitForLog(ser, /ready/, 120_000)
    const keys = [[1000, '\x14c'], [700, 'info status\r'], [1500, '\x14c'], [700, '\x10\x11']] as const
    const p = $({ nothrow: true, quiet: true, timeout: 60_000 })`script -qec ${`docker attach ${ser}`} /dev/null`
    for (const [ms, k] of keys) { await new Promise(r => setTimeout(r, ms)); p.stdin.write(k) }
    await new Promise(r => setTimeout(r, 1500))
    p.stdin.end()
    const m = await p
    const still = await docker(['inspect', '-f', '{{.State.Running}}', ser])
    if (!m.stdout.includes('VM status: running') || still.stdout.trim() !== 'true') {
      fail(`serial monitor escape: ${JSON.stringify(m.stdout.slice(-300))}; running=${still.stdout.trim()}`)
    }
    note('serial: Ctrl-T c reached the QEMU monitor ("VM status: running"), ^P^Q detached, VM still running')
  },
} satisfies Case
