// 04-exit-codes: `docker run` returns the workload's own exit status, with no help from the app
// (upstream needed /.runcvm/exitcode). A signal death is 128+N, as runc reports it.
//
// Signal death reference: `sh -c 'kill -9 $$'` under plain runc exits 0, because sh is PID 1 of its
// PID namespace and the kernel drops SIGKILL sent to it from inside. In a VM the workload is never
// the guest's PID 1, so the faithful runc reference is the same command under `--init` → 137.
import { type Case, describe, fail } from '../harness'

export default {
  description: 'exit 0/1/3/255 and a SIGKILL death (137) come back from docker run as under runc',
  timeoutMs: 400_000, // 5 VM boots
  async test({ runcvm, runc, pid1Like }) {
    const bad: string[] = []
    for (const n of [0, 1, 3, 255]) {
      const r = await runcvm(['runcvm-test/bb', 'sh', '-c', `exit ${n}`])
      if (r.code !== n || r.stderr !== '') bad.push(`exit ${n}: ${describe(r)}`)
    }
    const kill = ['runcvm-test/bb', 'sh', '-c', 'kill -9 $$']
    const ref = await runc(['--init', ...kill])
    const sub = await runcvm([...pid1Like, ...kill])
    if (ref.code !== 137) bad.push(`runc reference for kill -9 is not 137: ${describe(ref)}`)
    if (sub.code !== ref.code) bad.push(`kill -9 $$: expected ${ref.code} (runc --init), got ${describe(sub)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
