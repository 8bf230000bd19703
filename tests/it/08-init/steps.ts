// 08-init: `docker run --init` (Docker's tini as the entrypoint wrapper) works in the VM: the
// command's output appears, its exit status is returned, and it is not PID 1 (tini is).
import { type Case, describe, eq, ok } from '../harness'

export default {
  description: '--init: output appears, exit status returned, workload is not PID 1',
  async test({ runcvm }) {
    const r = await runcvm(['--init', 'runcvm-test/bb', 'echo', 'hello from init'])
    ok(r.code === 0, `exit: ${describe(r)}`)
    eq(r.stdout, 'hello from init\n', 'stdout')
    eq(r.stderr, '', 'stderr')
    const pid = await runcvm(['--init', 'runcvm-test/bb', 'sh', '-c', 'test $$ != 1 && echo not-pid1; exit 7'])
    eq(pid.stdout, 'not-pid1\n', 'stdout of pid check')
    eq(pid.code, 7, 'exit status under --init')
  },
} satisfies Case
