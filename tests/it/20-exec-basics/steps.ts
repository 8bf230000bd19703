// 20-exec-basics: `docker exec` into a running VM behaves like runc's exec into the same image:
// exit codes (0/1/126/127/135/137), commands that cannot start (runc's message, 126), -u (uid and
// name), -w, -w missing (runc's message, 126), -e and --env-file over the container env, HOME
// rules, stdin piped, stdout/stderr apart, a byte-torture argv/env, and the exec half of upstream's
// 02-user-workdir/03-env. The first exec is issued right after `docker run -d`, so it also proves
// the readiness wait (no race, no failure while booting).
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Case, type Res, describe, fail, ok, startDetached } from '../harness'

const TORTURE = ['', ' ', 'a b', "it's", '"q"', '\\', '$HOME', '`id`', 'new\nline', 'trail\n', 'ünï€😀', '*', "'", '--', 'tab\there']
const ENVS = ['-e', 'E1=a b', '-e', `E2=it's "q" \\ $x`, '-e', 'E3=l1\nl2', '-e', 'E4=', '-e', 'E5=ünï€😀']
/** Docker-generated HOSTNAME differs per container; nothing else may. */
const normHost = (s: string) => s.replace(/^HOSTNAME=[0-9a-f]{12}$/m, 'HOSTNAME=<id>')

export default {
  description: 'docker exec: exit codes, -u/-w/-e/--env-file/-i, stdout/stderr, byte torture, equal to runc exec',
  timeoutMs: 240_000,
  async test(ctx) {
    const { docker, uniq, runtime, note } = ctx
    const vm = uniq('vm'), ref = uniq('ref')
    for (const [n, rt] of [[ref, 'runc'], [vm, runtime]]) await startDetached(ctx, rt, n, ['runcvm-test/bb', 'sleep', '1000'])
    const first = await docker(['exec', vm, 'echo', 'first'])
    ok(first.code === 0 && first.stdout === 'first\n', `exec right after docker run -d (readiness wait): ${describe(first)}`)
    note(`first exec after docker run -d returned after ${(first.ms / 1000).toFixed(1)} s (boot wait)`)

    const dir = mkdtempSync(join(tmpdir(), 'runcvm-it-'))
    const envFile = join(dir, 'env'); writeFileSync(envFile, 'F1=from file\nF2=x=y\n')
    const cases: [string, string[], string?][] = [
      ['echo', ['echo', 'hello']],
      ['exit 1', ['sh', '-c', 'exit 1']],
      ['exit 127 (sh: not found)', ['sh', '-c', 'nonexistent-cmd-xyz 2>/dev/null']],
      ['kill -9 → 137', ['sh', '-c', 'kill -9 $$']],
      // SIGBUS has no name in dropbear's exit-signal table: our dropbear still reports 128+N.
      ['kill -BUS → 135', ['sh', '-c', 'kill -BUS $$']],
      ['-w missing → 126', ['-w', '/nonexistent', 'true']],
      ['-u 1000 -w /tmp (upstream 02)', ['-u', '1000', '-w', '/tmp', 'sh', '-c', 'echo $(id -u) $(pwd) $HOME']],
      ['-u user', ['-u', 'user', 'id']],
      ['-u 1000:2000', ['-u', '1000:2000', 'id']],
      ['-e HOME wins', ['-e', 'HOME=/x', '-u', '1000', 'sh', '-c', 'echo $HOME']],
      ['env (upstream 03)', ['env']],
      ['env -e --env-file', [...ENVS, '--env-file', envFile, 'sh', '-c', 'env | sort']],
      ['stdout/stderr apart', ['sh', '-c', 'echo out; echo err >&2; exit 3']],
      ['byte torture', [...ENVS, 'sh', '-c', 'for a; do printf "<%s>\\n" "$a"; done; env | sort', 'argv0', ...TORTURE]],
      ['stdin piped', ['-i', 'sh', '-c', 'cat; echo rc=$?'], 'line 1\nline 2 ü\n'],
      ['umask, new file and dir modes', ['sh', '-c', 'umask; cd /tmp && rm -rf m && mkdir m && touch m/f && stat -c %a m m/f']],
    ]
    const bad: string[] = []
    for (const [what, args, input] of cases) {
      const a: Res = await docker(['exec', ...argsOf(args, vm)], { input })
      const b: Res = await docker(['exec', ...argsOf(args, ref)], { input })
      if (a.code !== b.code || normHost(a.stdout) !== normHost(b.stdout) || a.stderr !== b.stderr) {
        bad.push(`${what}:\n    runcvm: ${describe(a)}\n    runc:   ${describe(b)}`)
      }
    }
    // A command that cannot start: runc's message (stdout, CRLF) and 126, byte for byte.
    for (const args of [['nonexistent-cmd-xyz'], ['/etc'], ['/nonexistent/x'], ['/etc/passwd'], ['-e', 'PATH=', 'ls']]) {
      const [a, b] = [await docker(['exec', ...argsOf(args, vm)]), await docker(['exec', ...argsOf(args, ref)])]
      if (a.code !== b.code || a.stdout !== b.stdout || a.stderr !== b.stderr) bad.push(`exec ${args.join(' ')}:\n    runcvm: ${describe(a)}\n    runc:   ${describe(b)}`)
    }
    // RunCVM's variables never reach the workload: `docker exec -e RUNCVM_*` is hidden as
    // `docker run -e RUNCVM_*` is (case 03). Under runc they would show, so this is not a comparison.
    const hidden = await docker(['exec', '-e', 'RUNCVM_FOO=1', '-e', 'RUNCVM_KERNEL=x', '-e', 'KEEP=1', vm, 'env'])
    const leaked = hidden.stdout.split('\n').filter(l => l.startsWith('RUNCVM'))
    if (hidden.code !== 0 || leaked.length || !hidden.stdout.includes('KEEP=1\n')) bad.push(`exec -e RUNCVM_FOO=1: ${leaked.length ? `leaked ${leaked.join(', ')}` : describe(hidden)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case

/** Flags stay before the container name, the command after it. */
function argsOf(args: string[], name: string): string[] {
  const flags: string[] = []
  let i = 0
  while (i < args.length && args[i].startsWith('-')) {
    flags.push(args[i])
    if (['-u', '-w', '-e', '--env-file'].includes(args[i])) flags.push(args[++i])
    i++
  }
  return [...flags, name, ...args.slice(i)]
}
