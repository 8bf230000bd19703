// 01-hello: the smallest VM round trip. stdout must be exactly "hello\n" and stderr empty: this
// catches Node's ExperimentalWarning (process.execve) or boot noise leaking into the container's
// output, and lost output at power-off.
import { type Case, describe, eq, ok } from '../harness'

export default {
  description: 'echo hello prints exactly "hello\\n", nothing on stderr, exit 0',
  async test({ runcvm }) {
    const r = await runcvm(['runcvm-test/bb', 'echo', 'hello'])
    ok(r.code === 0, `exit code: ${describe(r)}`)
    eq(r.stdout, 'hello\n', 'stdout')
    eq(r.stderr, '', 'stderr')
  },
} satisfies Case
