// 62-kill-signals: `docker kill -s HUP|USR1|INT` reaches the workload in the VM (a shell trapping
// them prints a marker for each), never QEMU (which ends on SIGHUP/SIGINT): the VM keeps running
// and answers `docker exec` afterwards. The container side's runcvm-init relays each signal as a
// "signal N" line on the VM's control port; runcvm-init --vm sends it to the workload.
import { type Case, describe, fail, ok, sleep, startDetached } from '../harness'

const WORKLOAD = 'for s in HUP USR1 INT; do trap "echo got-$s" $s; done; echo ready; while :; do sleep 1 & wait; done'
const SIGNALS = ['HUP', 'USR1', 'INT']

export default {
  description: '`docker kill -s HUP|USR1|INT` reaches the workload in the VM (markers), the VM keeps running (exec works)',
  needs: ['runcvm'],
  timeoutMs: 150_000,
  async test(ctx) {
    const name = ctx.uniq()
    await startDetached(ctx, ctx.runtime, name, ['runcvm-test/bb', 'sh', '-c', WORKLOAD])
    await ctx.waitForLog(name, /ready/, 120_000)
    for (const s of SIGNALS) {
      const k = await ctx.docker(['kill', '-s', s, name])
      ok(k.code === 0, `docker kill -s ${s}: ${describe(k)}`)
    }
    let logs = ''
    for (let i = 0; i < 40 && !SIGNALS.every(s => logs.includes(`got-${s}`)); i++) {
      await sleep(500)
      logs = (await ctx.docker(['logs', name])).stdout
    }
    const bad: string[] = []
    for (const s of SIGNALS) if (!logs.includes(`got-${s}`)) bad.push(`SIG${s} did not reach the workload (logs: ${JSON.stringify(logs)})`)
    const st = (await ctx.docker(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim()
    if (st !== 'running') bad.push(`container ${st} after the signals (QEMU got one?)`)
    else {
      const e = await ctx.docker(['exec', name, 'echo', 'alive'])
      if (e.stdout.trim() !== 'alive') bad.push(`docker exec after the signals: ${describe(e)}`)
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
