// 12-stdio-separate: without -t, the workload's stdout and stderr reach the container's fds 1 and 2
// separately (upstream merges them on the console), byte-equal to runc: no "\r", no tty on
// fds 0-2 (stdin is /dev/null without -i, as under runc), supplementary groups not duplicated
// (--group-add of a gid /etc/group already gives). `docker logs` of a detached run keeps them apart.
import { type Case, describe, eq, ok, sameAs, stripAccelWarning } from '../harness'

const SCRIPT = 'echo out; echo err >&2; for f in 0 1 2; do [ -t $f ] && echo "tty$f"; done; id -G; echo out2; echo err2 >&2'

export default {
  description: 'stdout/stderr apart and equal to runc (no \\r, no tty, groups once); docker logs keeps them apart',
  async test({ runcvm, runc, docker, uniq, labels, runtime }) {
    const flags = ['--user', '1000', '--group-add', '2000', 'runcvm-test/bb', 'sh', '-c', SCRIPT]
    const [a, b] = await Promise.all([runcvm(flags), runc(flags)])
    eq(b.stdout, 'out\n1000 2000\nout2\n', 'runc reference stdout')
    sameAs(a, b, 'sh -c (stdout/stderr/tty/groups)')
    ok(!a.stdout.includes('\r') && !a.stderr.includes('\r'), `no \\r: ${describe(a)}`)

    const name = uniq()
    const d = await docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--name', name, ...labels,
      'runcvm-test/bb', 'sh', '-c', 'echo out; echo err >&2; echo out2'])
    ok(d.code === 0, `docker run -d: ${describe(d)}`)
    const w = await docker(['wait', name], { timeoutMs: 120_000 })
    eq(w.stdout.trim(), '0', 'docker wait')
    const logs = stripAccelWarning(await docker(['logs', name]))
    eq(logs.stdout, 'out\nout2\n', 'docker logs stdout')
    eq(logs.stderr, 'err\n', 'docker logs stderr')
  },
} satisfies Case
