// 09-debian-kernel: a Debian image boots with the kernel chosen from its /etc/os-release (ID=debian
// → /opt/runcvm/kernels/debian/<version>), and the guest runs it: `uname -r` is one of the installed
// Debian kernel versions. Prints the guest kernel version next to the host's. VM-only: under runc
// the kernel is the host's, so nothing of what the case proves could be checked.
import { existsSync, readdirSync } from 'node:fs'
import { release } from 'node:os'
import { type Case, describe, eq, fail, ok } from '../harness'

const KERNELS = '/opt/runcvm/kernels/debian'

export default {
  description: 'debian image: os-release kernel selection boots; guest kernel is an installed Debian kernel',
  needs: ['debian', 'runcvm'],
  async test({ runcvm, note }) {
    const r = await runcvm(['runcvm-test/debian', 'bash', '-c', '. /etc/os-release; echo "$ID $VERSION_ID"; uname -r'])
    ok(r.code === 0, `run: ${describe(r)}`)
    eq(r.stderr, '', 'stderr')
    const [osr, kver] = r.stdout.trim().split('\n')
    eq(osr, 'debian 12', 'os-release in the guest')
    note(`guest kernel ${kver}; host kernel ${release()}`)
    const installed = existsSync(KERNELS) ? readdirSync(KERNELS).filter(v => v !== 'latest') : []
    if (!installed.includes(kver)) fail(`guest kernel ${kver} is not an installed Debian kernel (${KERNELS}: ${installed.join(' ') || 'none'})`)
  },
} satisfies Case
