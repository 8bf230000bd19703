// 53-memory-swap: small --memory and --memory-swap values start. The container limit is the VM's
// RAM plus what QEMU and the helpers need, and the memory+swap limit must grow with it: with only
// the limit raised, `-m 128m` (Docker's default swap is 2 x memory = 256m, below the raised limit)
// and `-m 256m --memory-swap 256m` failed at create with "memory.memsw.limit_in_bytes: invalid
// argument" (cgroup v1; runc refuses the same on v2). Each run must boot and see about its `-m`.
// VM-only (under runc the guest-memory check does not apply).
import { type Case, describe, fail } from '../harness'

const RUNS: Array<{ flags: string[]; mib: number }> = [
  { flags: ['-m', '128m'], mib: 128 },
  { flags: ['-m', '256m', '--memory-swap', '256m'], mib: 256 },
  { flags: ['-m', '256m', '--memory-swap', '-1'], mib: 256 },
]

export default {
  description: '-m 128m, -m 256m --memory-swap 256m and --memory-swap -1 boot and see their memory',
  needs: ['runcvm'],
  async test({ runcvm, note }) {
    const bad: string[] = []
    for (const { flags, mib } of RUNS) {
      const r = await runcvm([...flags, 'runcvm-test/bb', 'sh', '-c', "awk '/^MemTotal:/ {print $2}' /proc/meminfo"])
      const kb = Number(r.stdout.trim())
      note(`${flags.join(' ')}: exit ${r.code}, guest MemTotal ${kb} kB`)
      // The kernel keeps some RAM for itself: a 128 MiB guest reports ~91 MiB.
      if (r.code !== 0 || !(kb > mib * 1024 * 0.6 && kb <= mib * 1024)) bad.push(`${flags.join(' ')}: ${describe(r)}`)
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
