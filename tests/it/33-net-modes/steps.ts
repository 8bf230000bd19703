// 33-net-modes: network modes RunCVM cannot serve fail at create with a RunCVM error naming the
// problem, and the workload never runs: `--network=host` (no netns of its own) and
// `--network=container:X` (another container's netns). `--network=none` works: the VM has only lo.
// RUNCVM_QEMU_NET_VHOST=1: on a host without /dev/vhost-net (this one: no vhost_net module, no
// modprobe) create fails naming the option; with it, the VM boots with vhost-net and has eth0 up.
import { existsSync } from 'node:fs'
import { type Case, describe, fail, startDetached } from '../harness'

export default {
  description: '--network=host and container:X fail at create with "RunCVM: Error:" naming them; --network=none → only lo; RUNCVM_QEMU_NET_VHOST=1 vs /dev/vhost-net',
  needs: ['runcvm'],
  async test(ctx) {
    const { docker, runtime, uniq, labels, note } = ctx
    const peer = uniq('peer')
    await startDetached(ctx, 'runc', peer, ['runcvm-test/bb', 'sleep', '1000'])
    const bad: string[] = []
    for (const [mode, word] of [['host', '--network=host'], [`container:${peer}`, '--network=container:']] as const) {
      const name = uniq()
      const r = await docker(['run', '--pull=never', `--runtime=${runtime}`, '--name', name, ...labels, `--network=${mode}`,
        'runcvm-test/bb', 'sh', '-c', 'echo STARTED'])
      const msg = r.stderr.split('\n').find(l => l.includes('RunCVM: Error:'))
      if (r.code === 0 || !msg || !msg.includes(word) || r.stdout.includes('STARTED')) bad.push(`--network=${mode}: ${describe(r)}`)
      else note(`--network=${mode}: ${msg.trim().slice(0, 200)}`)
    }
    const noneArgs = ['--network=none', 'runcvm-test/bb', 'sh', '-c', 'ls /sys/class/net; ip -o -4 addr']
    const [none, noneRef] = await Promise.all([ctx.runcvm(noneArgs), ctx.runc(noneArgs)])
    if (none.code !== 0 || none.stdout.split('\n')[0] !== 'lo' || !/^1: lo\s+inet 127\.0\.0\.1\/8/m.test(none.stdout) || /eth/.test(none.stdout)) {
      bad.push(`--network=none: want only lo: ${describe(none)}`)
    } else if (none.stdout !== noneRef.stdout || none.stderr !== noneRef.stderr) {
      bad.push(`--network=none: output differs from runc's\n  runcvm: ${describe(none)}\n  runc:   ${describe(noneRef)}`)
    }
    const hasVhost = existsSync('/dev/vhost-net')
    const vh = await ctx.runcvm(['-e', 'RUNCVM_QEMU_NET_VHOST=1', 'runcvm-test/bb', 'sh', '-c', 'cat /sys/class/net/eth0/operstate'])
    if (hasVhost ? vh.code !== 0 || vh.stdout !== 'up\n' : vh.code === 0 || !/RunCVM: Error: RUNCVM_QEMU_NET_VHOST=1 needs \/dev\/vhost-net/.test(vh.stderr)) {
      bad.push(`RUNCVM_QEMU_NET_VHOST=1 (host ${hasVhost ? 'has' : 'lacks'} /dev/vhost-net): ${describe(vh)}`)
    } else note(`RUNCVM_QEMU_NET_VHOST=1: host ${hasVhost ? 'has /dev/vhost-net, VM eth0 up' : 'lacks /dev/vhost-net, refused at create'}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
