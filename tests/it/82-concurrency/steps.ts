// 82-concurrency: what two things started at the same instant share must not get crossed.
//   - two `docker run -d` of the same image at once: both boot and answer exec; each VM sees its own
//     hostname, its own /.runcvm network state (its own address, not the other's) and its own
//     workload marker;
//   - 8 `docker exec`s into one of them at once, each with its own -e value, argument and exit
//     code: each returns exactly its own stdout, stderr and status (a crossed or lost request file
//     shows as another exec's output or a failure), and no request file is left in /.runcvm;
//   - both stopped at once: exit 143, no host process of either left.
import { type Case, type Ctx, describe, fail, ok, startDetached } from '../harness'

const BOOT_MS = 120_000
const EXECS = 8

async function inspect(ctx: Ctx, name: string, fmt: string): Promise<string> {
  const r = await ctx.docker(['inspect', '-f', fmt, name])
  ok(r.code === 0, `docker inspect ${name}: ${describe(r)}`)
  return r.stdout.trim()
}

async function hostPids(ctx: Ctx, name: string): Promise<number[]> {
  const r = await ctx.docker(['top', name, '-eo', 'pid'])
  ok(r.code === 0, `docker top ${name}: ${describe(r)}`)
  return r.stdout.split('\n').slice(1).map(s => Number(s.trim())).filter(n => n > 0)
}

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

export default {
  description: 'two docker run -d at once (own hostname, /.runcvm state, marker) and 8 docker execs at once (own output, status; no request file left); both stopped, nothing left',
  needs: ['runcvm'],
  timeoutMs: 240_000,
  async test(ctx) {
    const names = ['a', 'b'].map(t => ctx.uniq(t))
    const t0 = Date.now()
    await Promise.all(names.map((n, i) => startDetached(ctx, ctx.runtime, n,
      ['-e', `WHO=vm${i}`, 'runcvm-test/bb', 'sh', '-c', 'echo "$WHO" >/tmp/who; echo booted; exec sleep 1000'])))
    await Promise.all(names.map(n => ctx.waitForLog(n, /booted/, BOOT_MS)))
    ctx.note(`both booted ${((Date.now() - t0) / 1000).toFixed(1)} s after the two docker run -d`)
    const bad: string[] = []

    // Each VM: its own hostname, address in its /.runcvm state, marker.
    const facts = await Promise.all(names.map(async n => ({
      host: await inspect(ctx, n, '{{.Config.Hostname}}'),
      ip: await inspect(ctx, n, '{{.NetworkSettings.IPAddress}}'),
    })))
    ok(facts[0].ip && facts[1].ip && facts[0].ip !== facts[1].ip, `two distinct addresses: ${JSON.stringify(facts)}`)
    await Promise.all(names.map(async (n, i) => {
      const r = await ctx.docker(['exec', n, 'sh', '-c', 'hostname; cat /tmp/who; cat /.runcvm/network.json'], { timeoutMs: 90_000 })
      if (r.code !== 0) { bad.push(`${n}: first exec: ${describe(r)}`); return }
      const [host, who, ...rest] = r.stdout.split('\n')
      const state = rest.join('\n')
      if (host !== facts[i].host) bad.push(`${n}: hostname ${JSON.stringify(host)}, want ${facts[i].host}`)
      if (who !== `vm${i}`) bad.push(`${n}: marker ${JSON.stringify(who)}, want vm${i}`)
      if (!state.includes(`"${facts[i].ip}"`)) bad.push(`${n}: /.runcvm/network.json lacks its own address ${facts[i].ip}: ${state}`)
      if (state.includes(`"${facts[1 - i].ip}"`)) bad.push(`${n}: /.runcvm/network.json has the other container's address ${facts[1 - i].ip}: ${state}`)
    }))

    // 8 execs into the first VM at the same instant.
    const a = names[0]
    const t1 = Date.now()
    const results = await Promise.all(Array.from({ length: EXECS }, (_, i) =>
      ctx.docker(['exec', '-e', `V=val${i}`, a, 'sh', '-c', 'echo "$V $1 $(cat /tmp/who)"; echo "err $1" >&2; exit "$2"', 'sh', `arg${i}`, String(10 + i)], { timeoutMs: 120_000 })))
    ctx.note(`${EXECS} execs at once: all returned after ${((Date.now() - t1) / 1000).toFixed(1)} s (slowest ${Math.max(...results.map(r => r.ms))} ms)`)
    results.forEach((r, i) => {
      if (r.code !== 10 + i || r.stdout !== `val${i} arg${i} vm0\n` || r.stderr !== `err arg${i}\n`)
        bad.push(`exec ${i}: want status ${10 + i}, stdout "val${i} arg${i} vm0", stderr "err arg${i}"; got ${describe(r)}`)
    })
    const left = await ctx.docker(['exec', a, 'sh', '-c', 'ls -a /.runcvm/dropbear'], { timeoutMs: 60_000 })
    if (left.code !== 0) bad.push(`listing /.runcvm/dropbear: ${describe(left)}`)
    else if (/\.req/.test(left.stdout)) bad.push(`request files left in /.runcvm/dropbear: ${left.stdout.split('\n').filter(l => l.includes('.req')).join(' ')}`)

    // Both stopped at once: 143 each, nothing of theirs left on the host.
    const pids = (await Promise.all(names.map(n => hostPids(ctx, n)))).flat()
    const stops = await Promise.all(names.map(n => ctx.docker(['stop', n], { timeoutMs: 60_000 })))
    stops.forEach((r, i) => { if (r.code !== 0) bad.push(`docker stop ${names[i]}: ${describe(r)}`) })
    for (const n of names) {
      const st = await inspect(ctx, n, '{{.State.Status}} {{.State.ExitCode}}')
      if (st !== 'exited 143') bad.push(`${n} after stop: ${st}, want exited 143`)
    }
    const still = pids.filter(alive)
    if (still.length) bad.push(`host processes left after stop: ${still.join(' ')}`)
    ctx.note(`${pids.length} host pids before the stops, ${still.length} left`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
