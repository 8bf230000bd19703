// 11-stderr-clean: a normal run prints nothing of RunCVM's own on the container's stderr: no Node
// ExperimentalWarning, no kernel/console noise, no "RunCVM:" lines, and that also holds on a host
// whose /dev/kvm cannot run the guest (no /dev/kvm, or no vmx/svm, as here): the TCG-fallback
// warning goes to the host's /run/runcvm/warnings.log, tagged with the container id, not to the
// workload's streams. A detached run's `docker logs` has the workload's bytes only.
import { existsSync, readFileSync } from 'node:fs'
import { type Case, describe, eq, ok } from '../harness'

const HOST_LOG = '/run/runcvm/warnings.log'
const read = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return '' } }

export default {
  description: 'docker run / docker logs stderr empty for normal runs; the TCG-fallback warning is in the host log',
  async test({ runcvm, docker, uniq, labels, runtime, isVm, note }) {
    const t = await runcvm(['runcvm-test/bb', 'true'])
    ok(t.code === 0, `true: ${describe(t)}`)
    eq(t.stdout, '', 'stdout of true')
    eq(t.stderr, '', 'stderr of true')

    const name = uniq()
    const d = await docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--name', name, ...labels,
      'runcvm-test/bb', 'sh', '-c', 'echo out; sleep 1; echo done'])
    ok(d.code === 0, `docker run -d: ${describe(d)}`)
    eq(d.stderr, '', 'stderr of docker run -d')
    const id = d.stdout.trim()
    const w = await docker(['wait', name], { timeoutMs: 120_000 })
    eq(w.stdout.trim(), '0', 'docker wait')
    const logs = await docker(['logs', name])
    eq(logs.stdout, 'out\ndone\n', 'docker logs stdout')
    eq(logs.stderr, '', 'docker logs stderr')

    if (!isVm) return
    // This host cannot run the guest on KVM when /dev/kvm is missing or the CPU lacks vmx/svm.
    const noKvm = !existsSync('/dev/kvm') || !/^flags\s*:.*\b(vmx|svm)\b/m.test(read('/proc/cpuinfo'))
    const mine = read(HOST_LOG).split('\n').filter(l => l.split(' ')[1] === id)
    if (noKvm) {
      ok(mine.some(l => /RunCVM: Warning: .*TCG/.test(l)), `no TCG warning for ${id} in ${HOST_LOG}; its tail:\n${read(HOST_LOG).slice(-600)}`)
      note(`host log: ${mine[0]}`)
    } else {
      note(`host has KVM; warnings for this container: ${mine.length}`)
    }
  },
} satisfies Case
