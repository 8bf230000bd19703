// 14-flush-at-exit: output written just before the workload exits is not lost at power-off
// (upstream known bug): 1 MiB on stdout and `seq 1 20000` on stderr, then exit 3 at once. Byte
// and line counts must be exact and in order, and the first bytes after boot intact.
import { type Case, describe, eq, ok } from '../harness'

export default {
  description: '1 MiB stdout + seq 1 20000 stderr right before exit 3: nothing lost, nothing corrupted',
  async test({ runcvm, note }) {
    const r = await runcvm(['runcvm-test/bb', 'sh', '-c', 'echo first; head -c 1048576 /dev/zero | tr "\\0" x; echo; echo last; seq 1 20000 >&2; exit 3'])
    eq(r.code, 3, 'exit status')
    ok(r.stdout.startsWith('first\nxxx'), `stdout starts intact: ${JSON.stringify(r.stdout.slice(0, 40))}`)
    eq(r.stdout.length, 6 + 1048576 + 1 + 5, 'stdout bytes')
    ok(r.stdout.endsWith('x\nlast\n'), `stdout ends with last: ${JSON.stringify(r.stdout.slice(-20))}`)
    const lines = r.stderr.split('\n').filter(Boolean)
    eq(lines.length, 20000, `stderr lines (${describe({ ...r, stdout: '…' })})`)
    eq(lines.at(-1), '20000', 'last stderr line')
    ok(lines.every((l, i) => l === String(i + 1)), 'stderr lines in order')
    note(`stdout ${r.stdout.length} bytes, stderr ${lines.length} lines, ${(r.ms / 1000).toFixed(1)} s`)
  },
} satisfies Case
