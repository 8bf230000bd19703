// 05-stop: `docker stop` of a running VM powers it down cleanly, well inside Docker's 10 s grace
// period, and leaves no process behind.
//
// Expected exit code: 143 (128+SIGTERM), i.e. what runc gives when `sleep` itself receives the
// SIGTERM (runc with --init, where tini forwards it). Plain runc with `sleep` as PID 1 is NOT the
// reference: PID 1 ignores SIGTERM, Docker waits the full 10 s and SIGKILLs → 137; a VM's workload
// is never PID 1 of the guest, so it gets the signal and should die of it. 0 (a clean ACPI power-off
// that loses the workload's status) and 137 (Docker had to SIGKILL) both fail.
import { type Case, describe, eq, fail, ok, timed } from '../harness'

const STOP_LIMIT_S = 10

export default {
  description: 'docker stop < 10 s, container exits 143 like a SIGTERM-ed sleep under runc --init, no leftovers',
  async test({ docker, uniq, labels, runtime, pid1Like, waitForLog, note }) {
    const sleeper = ['runcvm-test/bb', 'sh', '-c', 'echo booted; exec sleep 1000']

    // runc reference: the exit code of a SIGTERM-stopped sleep.
    const refName = uniq('ref')
    const ref = await docker(['run', '-d', '--pull=never', '--runtime=runc', '--init', '--name', refName, ...labels, ...sleeper])
    ok(ref.code === 0, `runc reference run: ${describe(ref)}`)
    await waitForLog(refName, /booted/, 20_000)
    await docker(['stop', refName])
    const refCode = Number((await docker(['inspect', '-f', '{{.State.ExitCode}}', refName])).stdout.trim())

    const name = uniq()
    const r = await docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, ...pid1Like, '--name', name, ...labels, ...sleeper])
    ok(r.code === 0, `docker run -d: ${describe(r)}`)
    await waitForLog(name, /booted/, 90_000)
    const pids = (await docker(['top', name, '-eo', 'pid'])).stdout.split('\n').slice(1).map(s => s.trim()).filter(Boolean)
    const [stop, ms] = await timed(() => docker(['stop', name]))
    ok(stop.code === 0, `docker stop: ${describe(stop)}`)
    const secs = ms / 1000
    note(`docker stop took ${secs.toFixed(2)} s (limit ${STOP_LIMIT_S} s); host pids before stop: ${pids.length}`)
    const st = (await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}', name])).stdout.trim()
    note(`state after stop: ${st} (runc --init reference exit code ${refCode})`)
    eq(refCode, 143, 'runc --init reference exit code')
    const [status, code] = st.split(' ')
    eq(status, 'exited', 'container status after stop')
    const bad: string[] = []
    if (secs >= STOP_LIMIT_S) bad.push(`docker stop took ${secs.toFixed(2)} s (>= ${STOP_LIMIT_S} s: Docker probably had to SIGKILL)`)
    if (Number(code) !== refCode) bad.push(`exit code ${code}, runc gives ${refCode} for a SIGTERM-stopped sleep`)
    const alive = pids.filter(p => { try { process.kill(Number(p), 0); return true } catch { return false } })
    if (alive.length) bad.push(`processes left behind after stop: ${alive.join(' ')}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
