// 11-stderr-clean: a normal run prints nothing of RunCVM's own: `docker run` stderr is empty (no
// Node ExperimentalWarning, no kernel/console noise, no "RunCVM:" lines), and a detached run's
// `docker logs` has empty stderr too.
import { type Case, describe, eq, ok } from '../harness'

export default {
  description: 'docker run and docker logs stderr stay empty for normal runs',
  async test({ runcvm, docker, uniq, labels, runtime }) {
    const t = await runcvm(['runcvm-test/bb', 'true'])
    ok(t.code === 0, `true: ${describe(t)}`)
    eq(t.stdout, '', 'stdout of true')
    eq(t.stderr, '', 'stderr of true')

    const name = uniq()
    const d = await docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--name', name, ...labels,
      'runcvm-test/bb', 'sh', '-c', 'echo out; sleep 1; echo done'])
    ok(d.code === 0, `docker run -d: ${describe(d)}`)
    eq(d.stderr, '', 'stderr of docker run -d')
    const w = await docker(['wait', name])
    eq(w.stdout.trim(), '0', 'docker wait')
    const logs = await docker(['logs', name])
    eq(logs.stdout, 'out\ndone\n', 'docker logs stdout')
    eq(logs.stderr, '', 'docker logs stderr')
  },
} satisfies Case
