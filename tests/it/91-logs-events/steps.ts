// 91-logs-events: Docker's log drivers and events see a RunCVM container as they see a runc one.
// For json-file, local and journald (skipped, with the reason, when dockerd cannot use it: no
// journal on this host), a detached run of the same workload under both runtimes gives the same
// `docker logs` stdout and stderr (raw, no RunCVM warning: those go to the host log) and exit
// code; `docker logs --timestamps` lines are ordered; `docker events` for the container shows the
// same lifecycle (create, attach-less start, die with the exit code, destroy) as runc's.
// Errors that stop the container do reach stderr: QEMU killed by SIGBUS (as when its guest RAM file
// sat on a too small /dev/shm under Podman) ends the container with 135 and a RunCVM error line,
// not with a made-up code (it was 68: 135 read as qemu-exit's 2N-1) and no word.
import { type Case, type Ctx, describe, eq, ok } from '../harness'

const WORK = ['sh', '-c', 'echo out1; echo err1 >&2; printf "no newline"; echo; echo err2 >&2; exit 3']

async function runWith(ctx: Ctx, runtime: string, driver: string) {
  const name = ctx.uniq(driver)
  const since = Math.floor(Date.now() / 1000) - 1
  const d = await ctx.docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, `--log-driver=${driver}`, '--name', name, ...ctx.labels, 'runcvm-test/bb', ...WORK])
  if (d.code !== 0) return { name, error: describe(d) }
  const w = await ctx.docker(['wait', name], { timeoutMs: 120_000 })
  const logs = await ctx.docker(['logs', name])
  const ts = await ctx.docker(['logs', '--timestamps', name])
  await ctx.docker(['rm', name])
  const until = Math.floor(Date.now() / 1000) + 1
  const ev = await ctx.docker(['events', '--since', String(since), '--until', String(until), '--filter', `container=${name}`, '--format', '{{.Action}} {{index .Actor.Attributes "exitCode"}}'])
  return { name, code: w.stdout.trim(), stdout: logs.stdout, stderr: logs.stderr, ts: ts.stdout + ts.stderr, events: ev.stdout.trim().split('\n').map(l => l.trim()) }
}

export default {
  description: 'docker logs (json-file, local, journald if available) and docker events equal to runc',
  timeoutMs: 400_000,
  async test(ctx) {
    const journald = await ctx.docker(['run', '--rm', '--pull=never', '--log-driver=journald', ...ctx.labels, 'runcvm-test/bb', 'true'])
    const drivers = ['json-file', 'local', ...(journald.code === 0 ? ['journald'] : [])]
    if (journald.code !== 0) ctx.note(`journald not compared: ${journald.stderr.split('\n').find(l => l.includes('journald'))?.trim() ?? journald.stderr.trim()}`)
    for (const driver of drivers) {
      const [vm, ref] = await Promise.all([runWith(ctx, ctx.runtime, driver), runWith(ctx, 'runc', driver)])
      ok(!('error' in vm) && !('error' in ref), `${driver}: ${'error' in vm ? vm.error : ''} ${'error' in ref ? ref.error : ''}`)
      if ('error' in vm || 'error' in ref) return
      eq(ref.stdout, 'out1\nno newline\n', `${driver}: runc reference stdout`)
      eq(vm.code, ref.code, `${driver}: exit code`)
      eq(vm.stdout, ref.stdout, `${driver}: docker logs stdout`)
      eq(vm.stderr, ref.stderr, `${driver}: docker logs stderr`)
      const stamps = vm.ts.split('\n').filter(Boolean).map(l => l.split(' ')[0])
      ok(stamps.length === 4 && stamps.every(s => !Number.isNaN(Date.parse(s))), `${driver}: timestamped lines: ${vm.ts}`)
      eq(vm.events.join(', '), ref.events.join(', '), `${driver}: docker events`)
      ctx.note(`${driver}: events ${vm.events.join(', ')}`)
    }
    if (!ctx.isVm) return
    const name = ctx.uniq('sigbus')
    const d = await ctx.docker(['run', '-d', '--pull=never', `--runtime=${ctx.runtime}`, '--name', name, ...ctx.labels, 'runcvm-test/bb', 'sleep', '600'])
    eq(d.code, 0, `run -d: ${describe(d)}`)
    let qemu: string | undefined
    for (let i = 0; i < 240 && !qemu; i++) {
      qemu = (await ctx.docker(['top', name, '-eo', 'pid,comm'])).stdout.split('\n').find(l => l.includes('qemu-system'))?.trim().split(/\s+/)[0]
      if (!qemu) await new Promise(r => setTimeout(r, 250))
    }
    ok(!!qemu, 'QEMU is running')
    process.kill(Number(qemu), 'SIGBUS')
    const w = await ctx.docker(['wait', name], { timeoutMs: 60_000 })
    eq(w.stdout.trim(), '135', 'exit code when QEMU dies of SIGBUS')
    const logs = await ctx.docker(['logs', name])
    eq(logs.stdout, '', 'no stdout')
    ok(/^RunCVM: Error: QEMU was killed by signal 7 \(SIGBUS\)/m.test(logs.stderr), `the error is on stderr: ${describe(logs)}`)
  },
} satisfies Case
