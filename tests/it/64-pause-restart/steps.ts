// 64-pause-restart: Docker's lifecycle verbs around a running VM behave as with runc.
// - `docker pause` freezes the whole container (QEMU included), `docker unpause` resumes it and
//   the VM keeps working (exec answers). The guest's uptime before and after is noted: it counts
//   the frozen seconds too (the guest clock follows the host's after resume).
// - `docker restart` boots a fresh VM: the workload starts again (a second "start" line in the
//   logs) and exec works.
// - `--restart=on-failure:2` with a workload that exits 3: Docker restarts it twice, then leaves
//   it exited with 3 and RestartCount 2, the same as runc.
import { type Case, describe, fail } from '../harness'
import { execUntil } from '../net'

const LOOP = 'echo start; while :; do sleep 1; done'

async function waitState(ctx: Parameters<Case['test']>[0], c: string, want: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms
  for (;;) {
    const s = (await ctx.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}', c])).stdout.trim()
    if (want.test(s) || Date.now() > deadline) return s
    await new Promise(r => setTimeout(r, 500))
  }
}

export default {
  description: 'docker pause/unpause freeze and resume the VM; docker restart boots it again; --restart=on-failure:2 as with runc',
  needs: ['runcvm'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, uniq, labels, runtime, note } = ctx
    const bad: string[] = []
    const vm = uniq('vm')
    const r = await docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--name', vm, ...labels, 'runcvm-test/bb', 'sh', '-c', LOOP])
    if (r.code !== 0) fail(`docker run -d: ${describe(r)}`)
    const up0 = await execUntil(ctx, vm, 'cut -d" " -f1 /proc/uptime', 120_000)
    if (up0.code !== 0) fail(`exec before pause: ${describe(up0)}`)

    // pause: frozen; unpause: the VM goes on.
    const p = await docker(['pause', vm])
    if (p.code !== 0) bad.push(`docker pause: ${describe(p)}`)
    const paused = (await docker(['inspect', '-f', '{{.State.Status}}', vm])).stdout.trim()
    if (paused !== 'paused') bad.push(`status after pause: ${paused}`)
    await new Promise(res => setTimeout(res, 3000))
    const u = await docker(['unpause', vm])
    if (u.code !== 0) bad.push(`docker unpause: ${describe(u)}`)
    const up1 = await execUntil(ctx, vm, 'cut -d" " -f1 /proc/uptime', 30_000)
    if (up1.code !== 0) bad.push(`exec after unpause: ${describe(up1)}`)
    note(`guest uptime before pause ${up0.stdout.trim()} s, after 3 s paused ${up1.stdout.trim()} s`)

    // restart: a new boot of the same container; the workload runs again.
    const rs = await docker(['restart', vm])
    if (rs.code !== 0) bad.push(`docker restart: ${describe(rs)}`)
    const ex = await execUntil(ctx, vm, 'echo ok', 120_000)
    if (ex.code !== 0 || ex.stdout.trim() !== 'ok') bad.push(`exec after restart: ${describe(ex)}`)
    const logs = await docker(['logs', vm])
    const starts = logs.stdout.split('\n').filter(l => l === 'start').length
    if (starts !== 2) bad.push(`"start" lines in the logs after a restart: ${starts} (want 2): ${describe(logs)}`)
    await docker(['rm', '-f', vm])

    // --restart=on-failure:2 with exit 3, RunCVM next to runc.
    const results: Record<string, string> = {}
    for (const rt of [runtime, 'runc']) {
      const c = uniq(rt === 'runc' ? 'ref' : 'fail')
      const f = await docker(['run', '-d', '--pull=never', `--runtime=${rt}`, '--restart=on-failure:2', '--name', c, ...labels, 'runcvm-test/bb', 'sh', '-c', 'echo run; exit 3'])
      if (f.code !== 0) { bad.push(`docker run --restart=on-failure:2 (${rt}): ${describe(f)}`); continue }
      results[rt] = await waitState(ctx, c, /^exited 3 2$/, 180_000)
      const runs = (await docker(['logs', c])).stdout.split('\n').filter(l => l === 'run').length
      results[rt] += ` runs=${runs}`
      await docker(['rm', '-f', c])
    }
    note(`--restart=on-failure:2, exit 3: ${runtime} "${results[runtime]}", runc "${results.runc}"`)
    if (results[runtime] !== results.runc || results.runc !== 'exited 3 2 runs=3') bad.push(`--restart=on-failure:2: ${runtime} "${results[runtime]}" vs runc "${results.runc}" (want "exited 3 2 runs=3")`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
