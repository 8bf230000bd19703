// 80-faults: kill -9 each part of a running VM container and check the outcome. Three VMs boot at
// once on one test network:
//   A  the VM's exec server gone for good (dropbear and its restart loop killed in the VM): an exec
//      fails with one `RunCVM: Error:` line and status 126 within seconds; then QEMU is killed:
//      the container exits within 5 s, non-zero, with `RunCVM: Error: QEMU (pid N) died: ...`;
//   B  virtiofsd for the container root killed: exit 1 within 5 s, one line naming it;
//   C  dnsmasq killed: restarted (warning line), names resolve in the VM again; dropbear killed:
//      the next exec works (restarted in the VM); then virtiofsd for the package killed: exit 1
//      within 5 s, one line naming it.
// (The workload killed by a signal, status 128+N, is 04-exit-codes.)
// After each exit, no host process of the container is left. The parts are found on the host as
// children of the container's PID 1 (runcvm-init), by their command line.
import { readFileSync, readdirSync } from 'node:fs'
import { type Case, type Ctx, describe, fail, ok, sleep, startDetached } from '../harness'
import { createNet } from '../net'
import { HOST_WARNINGS_LOG } from '../../../lib/paths'

const EXIT_LIMIT_MS = 5_000
const BOOT_MS = 240_000

const cmdline = (pid: number): string => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') } catch { return '' } }
const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

/** Host pids of a process and all its descendants. */
function tree(pid: number): number[] {
  const out = [pid]
  for (const t of (() => { try { return readdirSync(`/proc/${pid}/task`) } catch { return [] } })()) {
    let kids = ''
    try { kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8') } catch { /* gone */ }
    for (const k of kids.split(' ').filter(Boolean)) out.push(...tree(Number(k)))
  }
  return out
}

async function pid1(ctx: Ctx, name: string): Promise<number> {
  const r = await ctx.docker(['inspect', '-f', '{{.State.Pid}}', name])
  const pid = Number(r.stdout.trim())
  ok(pid > 0, `host pid of ${name}: ${describe(r)}`)
  return pid
}

/** The child of the container's PID 1 whose command line contains `needle`. */
async function part(ctx: Ctx, name: string, needle: string): Promise<number> {
  const p1 = await pid1(ctx, name)
  const hit = tree(p1).slice(1).find(p => cmdline(p).includes(needle))
  if (!hit) fail(`${name}: no process with '${needle}' under PID 1 ${p1}: ${tree(p1).map(p => cmdline(p).slice(0, 60)).join(' | ')}`)
  return hit
}

async function execOk(ctx: Ctx, name: string, args: string[], what: string): Promise<string> {
  const r = await ctx.docker(['exec', name, ...args], { timeoutMs: 60_000 })
  if (r.code !== 0) fail(`${what}: docker exec ${args.join(' ')}: ${describe(r)}`)
  return r.stdout
}

/** Poll until the container is no longer running; returns ms since `t0` and its exit code. */
async function waitExit(ctx: Ctx, name: string, t0: number, limitMs = 30_000): Promise<{ ms: number; code: number }> {
  for (;;) {
    const r = await ctx.docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', name])
    const [running, code] = r.stdout.trim().split(' ')
    if (running === 'false') return { ms: Date.now() - t0, code: Number(code) }
    if (Date.now() - t0 > limitMs) fail(`${name} still running ${limitMs} ms after the kill`)
    await sleep(100)
  }
}

const logs = async (ctx: Ctx, name: string): Promise<string> => {
  const r = await ctx.docker(['logs', name])
  return r.stdout + r.stderr
}

/** Kill `victim`, then: exit within the limit, `code` as expected, `line` in the logs, nothing left. */
async function killEnds(ctx: Ctx, name: string, victim: number, o: { code: (c: number) => boolean; codeWhat: string; line?: RegExp }, bad: string[]): Promise<void> {
  const pids = tree(await pid1(ctx, name))
  const t0 = Date.now()
  process.kill(victim, 'SIGKILL')
  const { ms, code } = await waitExit(ctx, name, t0)
  ctx.note(`${name}: exited ${ms} ms after the kill, code ${code}`)
  if (ms > EXIT_LIMIT_MS) bad.push(`${name}: exited ${ms} ms after the kill (limit ${EXIT_LIMIT_MS})`)
  if (!o.code(code)) bad.push(`${name}: exit code ${code}, want ${o.codeWhat}`)
  const text = await logs(ctx, name)
  // QEMU may have left half a line of its own (killed mid-write): the error is looked for in a line.
  const errors = text.split('\n').filter(l => l.includes('RunCVM: Error:'))
  if (o.line) {
    if (errors.length !== 1 || !o.line.test(errors[0])) bad.push(`${name}: want one RunCVM: Error line matching ${o.line}, logs:\n${text}`)
  } else if (errors.length) bad.push(`${name}: unexpected error lines:\n${errors.join('\n')}`)
  const left = pids.filter(alive)
  if (left.length) bad.push(`${name}: host processes left: ${left.map(p => `${p} ${cmdline(p).slice(0, 60)}`).join('; ')}`)
}

export default {
  description: 'kill -9 of QEMU, either virtiofsd, dnsmasq, dropbear (and its restart loop): exit < 5 s with one RunCVM: Error line, or recovery; nothing left',
  needs: ['runcvm'],
  timeoutMs: 420_000,
  async test(ctx) {
    const { runtime, uniq } = ctx
    const net = await createNet(ctx, 'flt')
    const [a, b, d] = ['qemu', 'root', 'misc'].map(t => uniq(t))
    const workload = ['runcvm-test/bb', 'sh', '-c', 'echo booted; exec sleep 1000']
    await Promise.all([a, b, d].map(n => startDetached(ctx, runtime, n, ['--network', net.name, ...workload])))
    // Booted and exec-ready (the exec server is what several steps use).
    await Promise.all([a, b, d].map(async n => {
      await ctx.waitForLog(n, /booted/, BOOT_MS)
      await execOk(ctx, n, ['true'], `${n} first exec`)
    }))
    const bad: string[] = []

    // B: virtiofsd for the root.
    await Promise.all([
      part(ctx, b, '--socket-path=/run/.virtiofs.sock').then(v => killEnds(ctx, b, v, { code: c => c === 1, codeWhat: '1', line: /RunCVM: Error: virtiofsd for the container root \(pid \d+\) died: killed by signal 9/ }, bad)),
      (async () => {
        // A: the exec server gone for good (restart loop first, then dropbear; the pattern is
        // split so this command's own command line does not match it).
        await execOk(ctx, a, ['sh', '-c', 'u=umask; for p in /proc/[0-9]*; do case "$(tr "\\0" " " <$p/cmdline 2>/dev/null)" in *"sh -c $u 077"*) kill -9 ${p#/proc/};; esac; done; kill -9 $(cat /.runcvm/dropbear/dropbear.pid)'], `${a} kill dropbear for good`)
        const t0 = Date.now()
        const r = await ctx.docker(['exec', a, 'echo', 'unreachable'], { timeoutMs: 60_000 })
        const ms = Date.now() - t0
        ctx.note(`${a}: exec without exec server: status ${r.code} after ${ms} ms`)
        if (r.code !== 126 || !/^RunCVM: Error: the VM's exec server \(dropbear on [\d.]+:22222\) did not answer/.test(r.stderr) || r.stderr.trim().split('\n').length !== 1 || r.stdout !== '') {
          bad.push(`${a}: exec without exec server: want status 126 and one RunCVM: Error line, got ${describe(r)}`)
        }
        if (ms > 20_000) bad.push(`${a}: exec without exec server took ${ms} ms`)
        await killEnds(ctx, a, await part(ctx, a, 'qemu-system'), { code: c => c === 137, codeWhat: '137', line: /RunCVM: Error: QEMU was killed by signal 9/ }, bad)
      })(),
      (async () => {
        // D: dnsmasq is restarted; names resolve through it again.
        const lookup = ['nslookup', d]
        await execOk(ctx, d, lookup, `${d} lookup before`)
        const dns = await part(ctx, d, '/usr/sbin/dnsmasq')
        process.kill(dns, 'SIGKILL')
        await sleep(1000)
        const again = await part(ctx, d, '/usr/sbin/dnsmasq')
        if (again === dns) bad.push(`${d}: dnsmasq not restarted`)
        // The warning goes to RunCVM's warnings log (never the workload's streams), tagged with the id.
        const id = (await ctx.docker(['inspect', '-f', '{{.Id}}', d])).stdout.trim()
        const log = (() => { try { return readFileSync(HOST_WARNINGS_LOG, 'utf8') } catch { return '' } })()
        if (!log.split('\n').some(l => l.includes(` ${id} RunCVM: Warning: dnsmasq (pid `) && l.endsWith('died; restarted it'))) bad.push(`${d}: no restart warning for ${id} in ${HOST_WARNINGS_LOG}`)
        if (/RunCVM: Warning: dnsmasq/.test(await logs(ctx, d))) bad.push(`${d}: the restart warning reached the container's streams`)
        const out = await execOk(ctx, d, lookup, `${d} lookup after dnsmasq restart`)
        if (!out.includes(net.prefix)) bad.push(`${d}: nslookup ${d} after the restart: ${out}`)
        // dropbear killed: the next exec works (the VM restarts it).
        await execOk(ctx, d, ['sh', '-c', 'kill -9 $(cat /.runcvm/dropbear/dropbear.pid)'], `${d} kill dropbear`)
        const t0 = Date.now()
        const echo = await execOk(ctx, d, ['echo', 'back'], `${d} exec after dropbear was killed`)
        if (echo !== 'back\n') bad.push(`${d}: exec after dropbear restart printed ${JSON.stringify(echo)}`)
        ctx.note(`${d}: exec after dropbear kill -9 ok in ${Date.now() - t0} ms`)
        // virtiofsd for the package.
        await killEnds(ctx, d, await part(ctx, d, '--socket-path=/run/.virtiofs-pkg.sock'), { code: c => c === 1, codeWhat: '1', line: /RunCVM: Error: virtiofsd for the RunCVM package \(pid \d+\) died: killed by signal 9/ }, bad)
      })(),
    ])
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
