// 06-cpus-mem: --cpus and --memory reach the guest: `nproc` = 2 and MemTotal within 10% of 1 GiB;
// a fractional --cpus rounds up (`--cpus 0.5` boots 1 vCPU, not every host CPU).
// VM-only: under runc the container sees the host's CPUs and memory (cgroup limits don't change
// nproc or /proc/meminfo), so this case is skipped with RUNCVM_TEST_RUNTIME=runc.
import { type Case, describe, fail, ok } from '../harness'

const GIB_KB = 1024 * 1024

export default {
  description: '--cpus 2 -m 1g → guest nproc 2, MemTotal ≈ 1 GiB (±10%); --cpus 0.5 → nproc 1',
  needs: ['runcvm'],
  async test({ runcvm, note }) {
    const r = await runcvm(['--cpus', '2', '-m', '1g', 'runcvm-test/bb', 'sh', '-c',
      "nproc; awk '/^MemTotal:/ {print $2}' /proc/meminfo"])
    ok(r.code === 0, `run: ${describe(r)}`)
    const [nproc, memKb] = r.stdout.trim().split('\n').map(Number)
    note(`guest: nproc ${nproc}, MemTotal ${memKb} kB (${((memKb / GIB_KB) * 100).toFixed(1)}% of 1 GiB)`)
    const bad: string[] = []
    if (nproc !== 2) bad.push(`nproc ${nproc}, want 2`)
    if (!(Math.abs(memKb - GIB_KB) <= GIB_KB * 0.1)) bad.push(`MemTotal ${memKb} kB not within 10% of ${GIB_KB} kB`)
    if (bad.length) fail(`${bad.join('; ')}\n  ${describe(r)}`)
    const half = await runcvm(['--cpus', '0.5', 'runcvm-test/bb', 'nproc'])
    ok(half.code === 0 && half.stdout.trim() === '1', `--cpus 0.5: want nproc 1: ${describe(half)}`)
  },
} satisfies Case
