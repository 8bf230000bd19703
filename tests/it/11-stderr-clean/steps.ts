// 11-stderr-clean: a normal run prints nothing of RunCVM's own on the container's stderr: no Node
// ExperimentalWarning, no kernel/console noise, no "RunCVM:" lines — with one designed exception:
// on a host whose /dev/kvm cannot run the guest (kvm-pvm here) RunCVM falls back to TCG and prints
// exactly one warning line. That line is allowed (and reported); anything else fails.
// A detached run's `docker logs` must have empty stderr too (apart from that line).
import { type Case, describe, eq, fail, ok, stripAccelWarning } from '../harness'

export default {
  description: 'docker run / docker logs stderr empty for normal runs (only the TCG-fallback warning allowed)',
  async test({ runcvm, docker, uniq, labels, runtime, note }) {
    const warned = new Set<string>()
    const t = await runcvm(['runcvm-test/bb', 'true'])
    t.warnings.forEach(w => warned.add(w))
    ok(t.code === 0, `true: ${describe(t)}`)
    eq(t.stdout, '', 'stdout of true')
    eq(t.stderr, '', 'stderr of true (after removing the accelerator warning)')
    if (t.warnings.length > 1) fail(`accelerator warning printed ${t.warnings.length} times: ${describe(t)}`)

    const name = uniq()
    const d = await docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--name', name, ...labels,
      'runcvm-test/bb', 'sh', '-c', 'echo out; sleep 1; echo done'])
    ok(d.code === 0, `docker run -d: ${describe(d)}`)
    eq(d.stderr, '', 'stderr of docker run -d')
    const w = await docker(['wait', name], { timeoutMs: 120_000 })
    eq(w.stdout.trim(), '0', 'docker wait')
    const logs = stripAccelWarning(await docker(['logs', name]))
    logs.warnings.forEach(x => warned.add(x))
    eq(logs.stdout, 'out\ndone\n', 'docker logs stdout')
    eq(logs.stderr, '', 'docker logs stderr (after removing the accelerator warning)')
    for (const x of warned) note(`allowed accelerator warning seen: ${x}`)
  },
} satisfies Case
