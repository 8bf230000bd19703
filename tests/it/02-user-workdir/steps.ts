// 02-user-workdir: upstream tests/02-user-workdir shape (docker run half; the docker exec half
// is in case 20): --user 1000 --workdir /tmp, print `$(id -u) $(pwd)` → "1000 /tmp", and the
// same output as runc for the same image and flags.
import { type Case, eq, sameAs } from '../harness'

const ARGS = ['--user', '1000', '--workdir', '/tmp', 'runcvm-test/bb', 'sh', '-c', 'echo $(id -u) $(pwd)']

export default {
  description: '--user 1000 --workdir /tmp → "1000 /tmp", as runc',
  async test({ runcvm, runc }) {
    const sub = await runcvm(ARGS)
    eq(sub.stdout, '1000 /tmp\n', 'stdout')
    sameAs(sub, await runc(ARGS), 'docker run --user 1000 --workdir /tmp')
  },
} satisfies Case
