// 16-exit-legacy-disks: upstream's two app-driven exit paths keep working next to the automatic
// exit status, and RUNCVM_DISKS gives the VM a formatted ext4 disk whose data survives
// the container (a named volume at /disks holds the backing file).
//
// - `/.runcvm/exitcode` written by the workload wins over its own exit status (upstream feature).
// - `/.runcvm/guest/sbin/qemu-exit N` ends the VM through isa-debug-exit; docker run returns N.
// - A disk spec without a size for a missing backing file stops the container with upstream's
//   "disk spec '...' invalid: ..." text and a non-zero exit (checked at boot, in the container).
import { type Case, describe, fail } from '../harness'

export default {
  description: '/.runcvm/exitcode and qemu-exit N set the exit code; RUNCVM_DISKS ext4 disk persists in a volume; bad disk spec refused',
  needs: ['runcvm'],
  timeoutMs: 400_000, // 5 VM boots
  async test({ runcvm, docker, uniq, labels, note }) {
    const bad: string[] = []

    const file = await runcvm(['runcvm-test/bb', 'sh', '-c', 'echo 42 >/.runcvm/exitcode; exit 0'])
    if (file.code !== 42) bad.push(`/.runcvm/exitcode 42: ${describe(file)}`)

    const qexit = await runcvm(['runcvm-test/bb', '/.runcvm/guest/sbin/qemu-exit', '5'])
    if (qexit.code !== 5) bad.push(`qemu-exit 5: ${describe(qexit)}`)

    const vol = uniq('vol')
    await docker(['volume', 'create', ...labels, vol])
    try {
      const disk = ['-v', `${vol}:/disks`, '-e', 'RUNCVM_DISKS=/disks/d1,/data,ext4,64M', 'runcvm-test/bb']
      const first = await runcvm([...disk, 'sh', '-c', 'grep " /data " /proc/mounts; echo persisted >/data/f; sync'])
      if (first.code !== 0 || !/^\/dev\/vd[a-z] \/data ext4 /m.test(first.stdout)) bad.push(`first boot with the disk: ${describe(first)}`)
      else note(`disk mounted: ${first.stdout.split('\n')[0]}`)
      const second = await runcvm([...disk, 'cat', '/data/f'])
      if (second.code !== 0 || second.stdout !== 'persisted\n') bad.push(`second boot did not see the data: ${describe(second)}`)
    } finally {
      await docker(['volume', 'rm', '-f', vol])
    }

    const nosize = await runcvm(['-e', 'RUNCVM_DISKS=/disks/none,/data,ext4', 'runcvm-test/bb', 'true'])
    if (nosize.code === 0 || !nosize.stderr.includes("disk spec '/disks/none,/data,ext4' invalid: size must be specified"))
      bad.push(`disk spec without size: ${describe(nosize)}`)

    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
