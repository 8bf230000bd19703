// 03-env: upstream tests/03-env shape (docker run half; the exec half is in case 20). The workload's
// environment inside the VM equals runc's for the same image and flags, and no RUNCVM_* leaks.
//
// Exclusions, and why there are (almost) none:
// - HOSTNAME: Docker sets it to the container's short id, which differs between the two runs. One
//   run per variant uses --hostname so HOSTNAME must match exactly; in the default run both values
//   must be 12 hex digits and are then replaced by a placeholder. Nothing else is removed.
// - PWD / SHLVL: NOT excluded. `env` runs first without a shell (only what Docker/runc put in the
//   process env: PATH, HOSTNAME, HOME, -e vars), then as upstream's `sh -c 'env | sort'`, where
//   busybox ash adds PWD (the workdir, which must match) and SHLVL=1 (2 would mean the VM side ran
//   the workload through a shell that leaked its own SHLVL).
// - HOME: NOT excluded: the VM must apply runc's rule (passwd entry of the user, else "/"; an -e
//   HOME wins — moby#2968, upstream ctr-entrypoint).
// - TERM: only set with -t, which this case does not use.
import { type Case, type Res, fail, lineDiff, describe } from '../harness'

const ENV_FLAGS = ['-e', 'PLAIN=1', '-e', 'SPACES=a b  c', '-e', 'EMPTY=', '-e', 'EQUALS=x=y=z',
  '-e', `QUOTES='"\\`, '-e', 'UTF8=héllo ✓', '-e', 'PATH=/custom/bin:/usr/bin:/bin']

const VARIANTS: Array<{ what: string; args: string[] }> = [
  { what: 'default', args: ['runcvm-test/bb'] },
  { what: 'hostname', args: ['--hostname', 'envtest', 'runcvm-test/bb'] },
  { what: 'flags', args: [...ENV_FLAGS, '--hostname', 'envtest', 'runcvm-test/bb'] },
  { what: 'user+workdir', args: ['--user', '1000', '--workdir', '/tmp', '--hostname', 'envtest', 'runcvm-test/bb'] },
  { what: 'no passwd', args: ['--user', '1000', '--hostname', 'envtest', 'runcvm-test/bb-nopasswd'] },
  { what: 'HOME given', args: ['-e', 'HOME=/somewhere', '--user', '1000', '--hostname', 'envtest', 'runcvm-test/bb'] },
]

const CMDS: Array<{ what: string; argv: string[] }> = [
  { what: 'env', argv: ['env'] },
  { what: "sh -c 'env | sort'", argv: ['sh', '-c', 'env | sort'] },
]

/** Sorted lines, with a Docker-generated HOSTNAME (12 hex digits) replaced by a placeholder. */
function normalize(r: Res): string {
  return r.stdout.split('\n').filter(Boolean).sort()
    .map(l => /^HOSTNAME=[0-9a-f]{12}$/.test(l) ? 'HOSTNAME=<container-id>' : l).join('\n')
}

export default {
  description: 'env inside equals runc env (only a Docker-generated HOSTNAME normalised), no RUNCVM_* leaks',
  timeoutMs: 900_000, // 12 VM boots + 12 runc runs; TCG boots took up to 35 s each on a loaded 2-core box
  async test({ runcvm, runc }) {
    const bad: string[] = []
    for (const v of VARIANTS) {
      for (const c of CMDS) {
        const what = `${v.what} / ${c.what}`
        const [sub, ref] = [await runcvm([...v.args, ...c.argv]), await runc([...v.args, ...c.argv])]
        if (sub.code !== 0 || ref.code !== 0) { bad.push(`${what}: non-zero exit\n  ${describe(sub)}\n  ${describe(ref)}`); continue }
        const leaks = sub.stdout.split('\n').filter(l => l.startsWith('RUNCVM'))
        if (leaks.length) bad.push(`${what}: RUNCVM vars leaked: ${leaks.join(', ')}`)
        // Compared as printed: a stray "\r" (console line endings) is a difference like any other.
        const [a, b] = [normalize(sub), normalize(ref)]
        if (a !== b) bad.push(`${what}: env differs from runc\n${lineDiff(a, b)}`)
        if (sub.stderr !== '') bad.push(`${what}: stderr not empty: ${JSON.stringify(sub.stderr)}`)
      }
    }
    // Any RUNCVM_* name given with -e is RunCVM's, not the workload's (docker exec: case 20).
    const hidden = await runcvm(['-e', 'RUNCVM_FOO=1', '-e', 'KEEP=1', 'runcvm-test/bb', 'env'])
    const leaked = hidden.stdout.split('\n').filter(l => l.startsWith('RUNCVM'))
    if (hidden.code !== 0 || leaked.length || !hidden.stdout.includes('KEEP=1')) bad.push(`-e RUNCVM_FOO=1: ${leaked.length ? `leaked ${leaked.join(', ')}` : describe(hidden)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
