// 10-bad-options: invalid RUNCVM_* values are refused at create time with a RunCVM error naming the
// option, and the workload never starts (no half-booted VM). The container is created without
// --rm so its state can be inspected: it must never have started (StartedAt stays the zero time).
// Also bad tmpfs mounts (--tmpfs with a blank in the destination or options). Skipped under runc
// (it ignores RUNCVM_* variables).
import { type Case, describe, fail } from '../harness'

const BAD: Array<{ env?: string; args?: string[]; option: string }> = [
  { env: 'RUNCVM_KERNEL=../x', option: 'RUNCVM_KERNEL' },
  { env: 'RUNCVM_KERNEL=nosuch', option: 'RUNCVM_KERNEL' },
  { env: 'RUNCVM_KERNEL=debian/0.0.0-nosuch', option: 'RUNCVM_KERNEL' },
  { env: 'RUNCVM_DISPLAY_MODE=bogus', option: 'RUNCVM_DISPLAY_MODE' },
  // Values that would reach the VM's fstab, QEMU's -drive file= or -m (checked at create).
  { env: 'RUNCVM_MEM_SIZE=100000000000000000000000G', option: 'RUNCVM_MEM_SIZE' },
  { env: 'RUNCVM_DISKS=nbd:127.0.0.1:10809,/data,ext4', option: 'RUNCVM_DISKS' },
  { env: 'RUNCVM_DISKS=/disks/d1,/data\nnone /etc tmpfs,ext4,1G', option: 'RUNCVM_DISKS' },
  { env: 'RUNCVM_KERNEL_APPEND=quiet\ninit=/x', option: 'RUNCVM_KERNEL_APPEND' },
  // tmpfs mounts become lines of the VM's fstab: a blank in the destination or the options would
  // add fields, so both are refused (the text names --tmpfs/--mount type=tmpfs).
  { args: ['--tmpfs', '/da ta'], option: '--tmpfs' },
  { args: ['--tmpfs', '/x:size=1m,uid=0 y'], option: '--tmpfs' },
]

export default {
  description: 'bad RUNCVM_* values: docker run fails, "RunCVM: Error:" names the option, never started',
  needs: ['runcvm'],
  async test({ docker, runtime, uniq, labels, note }) {
    const bad: string[] = []
    for (const b of BAD) {
      const name = uniq()
      const what = b.env !== undefined ? `-e ${b.env}` : b.args!.join(' ')
      const r = await docker(['run', '--pull=never', `--runtime=${runtime}`, '--name', name, ...labels,
        ...(b.env !== undefined ? ['-e', b.env] : []), ...(b.args ?? []), 'runcvm-test/bb', 'sh', '-c', 'echo STARTED'])
      const problems: string[] = []
      if (r.code === 0) problems.push('docker run succeeded')
      else if (r.code !== 125) problems.push(`docker run exited ${r.code}, not 125 (the runtime refused create)`)
      if (!r.stderr.includes('RunCVM: Error:')) problems.push('stderr lacks "RunCVM: Error:"')
      if (!r.stderr.includes(b.option)) problems.push(`stderr does not name ${b.option}`)
      if (r.stdout.includes('STARTED')) problems.push('the workload ran')
      const st = (await docker(['inspect', '-f', '{{.State.Status}} {{.State.StartedAt}}', name])).stdout.trim()
      if (st && !st.endsWith('0001-01-01T00:00:00Z')) problems.push(`container was started (${st})`)
      const msg = r.stderr.split('\n').find(l => l.includes('RunCVM: Error:'))
      if (msg) note(`${what}: ${msg.trim().slice(0, 160)}`)
      if (problems.length) bad.push(`${what}: ${problems.join('; ')}\n    ${describe(r)}`)
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
