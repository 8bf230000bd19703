// 07-user-env-entrypoint: --user / --workdir / --env / --env-file / --entrypoint combinations give
// byte-for-byte the stdout, stderr and exit code runc gives for the same image and flags. Covers
// argv that must survive intact (spaces, quotes, empty strings, newlines, UTF-8), users by name and
// number with and without /etc/passwd, supplementary groups, HOME rules and a workdir Docker must
// create.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Case, fail, describe, stdioHint } from '../harness'

const SHOW = 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) pwd=$(pwd) home=$HOME"'
const PRINTARGS = ['sh', '-c', 'for a in "$@"; do printf "[%s]\\n" "$a"; done', 'argv0']
const TORTURE = ['a', 'b c', '', 'quote\'s', 'dq"s', 'back\\slash', 'line\nbreak', 'héllo ✓', '$HOME', '*']

function cases(envFile: string): Array<{ what: string; args: string[] }> {
  return [
    { what: 'user by uid', args: ['--user', '1000', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'user by name', args: ['--user', 'user', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'uid:gid', args: ['--user', '1000:2000', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'group-add', args: ['--user', '1000', '--group-add', '2000', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'root by name', args: ['--user', 'root', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'unknown uid, no passwd', args: ['--user', '4242:4242', 'runcvm-test/bb-nopasswd', 'sh', '-c', SHOW] },
    { what: 'workdir created by docker', args: ['--workdir', '/new/dir/here', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'workdir as user', args: ['--user', '1000', '--workdir', '/home/user', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'env HOME wins', args: ['--user', '1000', '-e', 'HOME=/elsewhere', 'runcvm-test/bb', 'sh', '-c', SHOW] },
    { what: 'env + env-file', args: ['-e', 'A=from-flag', '--env-file', envFile, 'runcvm-test/bb', 'sh', '-c', 'echo "$A|$B|$C"'] },
    { what: 'entrypoint + args', args: ['--entrypoint', '/bin/echo', 'runcvm-test/bb', 'one', 'two  three'] },
    { what: 'entrypoint sh argv torture', args: ['--entrypoint', PRINTARGS[0], 'runcvm-test/bb', ...PRINTARGS.slice(1), ...TORTURE] },
    { what: 'cmd argv torture', args: ['runcvm-test/bb', ...PRINTARGS, ...TORTURE] },
    { what: 'entrypoint "" resets to CMD', args: ['--entrypoint', '', 'runcvm-test/bb', 'echo', 'reset'] },
    { what: 'everything at once', args: ['--user', '1000:1000', '--workdir', '/tmp', '-e', 'X=1', '--entrypoint', 'sh', 'runcvm-test/bb', '-c', `${SHOW}; echo X=$X; exit 9`] },
    { what: 'stderr and exit code', args: ['runcvm-test/bb', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 4'] },
  ]
}

export default {
  description: '--user/--workdir/--env/--entrypoint combos: stdout, stderr, exit code equal runc',
  timeoutMs: 900_000, // 32 runs, 16 of them VM boots (5-35 s each under TCG, depending on load)
  async test({ runcvm, runc }) {
    const envFile = join(mkdtempSync(join(tmpdir(), 'runcvm-it-')), 'env')
    writeFileSync(envFile, 'B=from file with spaces\nC=c=d\n')
    const bad: string[] = []
    for (const c of cases(envFile)) {
      const [sub, ref] = [await runcvm(c.args), await runc(c.args)]
      if (sub.code !== ref.code || sub.stdout !== ref.stdout || sub.stderr !== ref.stderr)
        bad.push(`${c.what}:${stdioHint(sub, ref)}\n    subject:   ${describe(sub)}\n    reference: ${describe(ref)}`)
    }
    if (bad.length) fail(`${bad.length} combination(s) differ from runc:\n  ${bad.join('\n  ')}`)
  },
} satisfies Case
