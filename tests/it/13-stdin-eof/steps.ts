// 13-stdin-eof: `echo data | docker run -i IMG cat` prints data and exits 0: stdin reaches the
// workload (virtio-serial port org.runcvm.stdin) and so does its EOF. A larger input (200 000
// bytes) arrives complete, and stdin is not a tty.
import { type Case, describe, eq, ok, sameAs } from '../harness'

export default {
  description: 'echo data | docker run -i … cat → "data", exit 0 (EOF reaches the workload); 200 kB stdin intact',
  async test({ runcvm, runc }) {
    const a = await runcvm(['-i', 'runcvm-test/bb', 'cat'], { input: 'data\n' })
    ok(a.code === 0, `exit: ${describe(a)}`)
    eq(a.stdout, 'data\n', 'stdout of cat')
    eq(a.stderr, '', 'stderr of cat')
    const big = 'x'.repeat(99) + '\n'
    const flags = ['-i', 'runcvm-test/bb', 'sh', '-c', '[ -t 0 ] && echo tty0; wc -c; echo after-eof']
    const [b, r] = await Promise.all([runcvm(flags, { input: big.repeat(2000) }), runc(flags, { input: big.repeat(2000) })])
    sameAs(b, r, '200 kB through wc -c')
  },
} satisfies Case
