// 71-policy: privileged RUNCVM_* switches from an image's ENV are refused at create by the
// host-side policy; the same switch given by the docker user (`docker run -e`) works, and a
// policy file allowing it lets the image's one through.
//   - images built here FROM runcvm-test/bb with `ENV RUNCVM_SYS_ADMIN=1`, `ENV RUNCVM_DISKS=...`
//     and `ENV RUNCVM_RUNTIME_DEBUG=1`: `docker run` fails with the one-line `RunCVM: Error:`
//     naming the option and the policy file; the container never started;
//   - the SYS_ADMIN image with `-e RUNCVM_SYS_ADMIN=1`: starts, and its init (RunCVM's entrypoint,
//     read from the host's /proc) has CAP_SYS_ADMIN; plain runcvm-test/bb has not;
//   - the policy file the runtime names in its refusal (the runtime under test's own:
//     <dist>/etc/runcvm/policy.json for a lane package, /etc/runcvm/policy.json for /opt/runcvm)
//     written with `{"imageMaySet":["RUNCVM_SYS_ADMIN"]}`: the image-set one starts with
//     CAP_SYS_ADMIN; the DISKS image is still refused. The file is restored afterwards.
// No VM needs to boot: the capability is read as soon as `docker run -d` returns.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { type Case, type Ctx, describe, fail, startDetached } from '../harness'

const CAP_SYS_ADMIN = 21n
const IMAGES = {
  sysadmin: 'ENV RUNCVM_SYS_ADMIN=1',
  disks: 'ENV RUNCVM_DISKS=/disks/pol,/data,ext4,16M',
  debug: 'ENV RUNCVM_RUNTIME_DEBUG=1',
} as const
const OPTION = { sysadmin: 'RUNCVM_SYS_ADMIN', disks: 'RUNCVM_DISKS', debug: 'RUNCVM_RUNTIME_DEBUG' } as const

/** CapEff of the container's init as the host sees it. */
async function hasSysAdmin(ctx: Ctx, name: string): Promise<boolean> {
  const pid = (await ctx.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim()
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) fail(`no CapEff for ${name} (pid ${pid})`)
  return ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN) & 1n) === 1n
}

/** `docker run` of an image that must be refused: returns the policy file the message names. */
async function expectRefused(ctx: Ctx, image: string, option: string): Promise<string> {
  const name = ctx.uniq('refused')
  const r = await ctx.docker(['run', '--pull=never', `--runtime=${ctx.runtime}`, '--name', name, ...ctx.labels, image, 'sh', '-c', 'echo STARTED'])
  const line = r.stderr.split('\n').find(l => l.includes('RunCVM: Error:')) ?? ''
  const m = new RegExp(`RunCVM: Error: ${option} is set by the image's ENV; images may not set privileged options \\(((?:/\\S+)?/etc/runcvm/policy\\.json)\\): ` +
    `set it with docker run -e ${option}=\\.\\.\\., or allow it in \\1`).exec(line)
  if (r.code === 0 || !m || r.stdout.includes('STARTED')) fail(`${image} was not refused as expected: ${describe(r)}`)
  const st = (await ctx.docker(['inspect', '-f', '{{.State.StartedAt}}', name])).stdout.trim()
  if (st && st !== '0001-01-01T00:00:00Z') fail(`${image}: the refused container was started (${st})`)
  ctx.note(line.slice(line.indexOf('RunCVM: Error:')).trim())
  return m[1]
}

export default {
  description: 'privileged RUNCVM_* switches in an image\'s ENV are refused (-e and the policy file allow them); CAP_SYS_ADMIN checked',
  needs: ['runcvm'],
  timeoutMs: 180_000,
  async test(ctx) {
    const { docker, runtime, uniq, labels } = ctx
    const tag = uniq('img').replace(/[^a-z0-9-]/g, '')
    const image = (k: keyof typeof IMAGES) => `runcvm-test/x-policy-${k}-${tag}`
    const dir = mkdtempSync(join(tmpdir(), 'runcvm-x-policy-'))
    let restore: (() => void) | undefined
    try {
      for (const k of Object.keys(IMAGES) as (keyof typeof IMAGES)[]) {
        writeFileSync(join(dir, 'Dockerfile'), `FROM runcvm-test/bb\n${IMAGES[k]}\n`)
        const b = await docker(['build', '-q', '--pull=false', ...labels, '-t', image(k), dir])
        if (b.code !== 0) fail(`building ${image(k)}: ${describe(b)}`)
      }
      // 1. refused, each naming its option and the runtime's policy file
      const policy = await expectRefused(ctx, image('sysadmin'), OPTION.sysadmin)
      for (const k of ['disks', 'debug'] as const) {
        const p = await expectRefused(ctx, image(k), OPTION[k])
        if (p !== policy) fail(`policy files differ: ${p} vs ${policy}`)
      }
      // 2. the docker user's -e works as upstream documents (and the capability is really there)
      const plain = uniq('plain'), user = uniq('user')
      await startDetached(ctx, runtime, plain, ['runcvm-test/bb', 'sleep', '1000'])
      await startDetached(ctx, runtime, user, ['-e', 'RUNCVM_SYS_ADMIN=1', image('sysadmin'), 'sleep', '1000'])
      if (await hasSysAdmin(ctx, plain)) fail('runcvm-test/bb without RUNCVM_SYS_ADMIN has CAP_SYS_ADMIN')
      if (!(await hasSysAdmin(ctx, user))) fail('-e RUNCVM_SYS_ADMIN=1: no CAP_SYS_ADMIN')
      await docker(['rm', '-f', plain, user])
      // 3. the policy allows the image's RUNCVM_SYS_ADMIN (and only that)
      const before = existsSync(policy) ? { text: readFileSync(policy), mode: statSync(policy).mode & 0o7777 } : undefined
      const made: string[] = []
      for (let d = dirname(policy); !existsSync(d); d = dirname(d)) made.unshift(d)
      restore = () => {
        if (before) { writeFileSync(policy, before.text); chmodSync(policy, before.mode) } else rmSync(policy, { force: true })
        for (const d of [...made].reverse()) try { rmdirSync(d) } catch { /* not empty: someone else's */ }
      }
      for (const d of made) mkdirSync(d, { mode: 0o755 })
      writeFileSync(policy, '{"imageMaySet": ["RUNCVM_SYS_ADMIN"]}\n', { mode: 0o644 })
      chmodSync(policy, 0o644)
      const allowed = uniq('allowed')
      await startDetached(ctx, runtime, allowed, [image('sysadmin'), 'sleep', '1000'])
      if (!(await hasSysAdmin(ctx, allowed))) fail('allowed by the policy: no CAP_SYS_ADMIN')
      await docker(['rm', '-f', allowed])
      await expectRefused(ctx, image('disks'), OPTION.disks)
    } finally {
      restore?.()
      rmSync(dir, { recursive: true, force: true })
      await docker(['rmi', '-f', ...Object.keys(IMAGES).map(k => image(k as keyof typeof IMAGES))])
    }
  },
} satisfies Case
