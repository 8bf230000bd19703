// 47-nested-runcvm: RunCVM inside a RunCVM VM, run through bench/nested-bench.sh (the same script
// the benchmark table quotes, so the test and the figures cannot drift apart): an outer VM of the
// system image (systemd, dockerd on a RUNCVM_DISKS ext4 disk) gets the package installed by its own
// installer from /.runcvm/guest, then an inner `docker run --runtime=runcvm -m 256m --cpus 1` there
// must print its output from a real inner VM: its own kernel (its boot_id differs from the outer
// VM's, which a runc container would share), the MemTotal of its -m (not the outer 3 GiB) and 1 CPU
// (of the outer's 2). The script exits 1 with the failing step's output on any broken check; its
// timing lines and the inner kernel's boot milestones become notes.
// TCG inside TCG takes minutes here, so the case is slow and skips itself (SKIP with the reason)
// once the test command has used more than its share of the time budget.
import { type Case, fail, runBenchScript } from '../harness'

export default {
  description: 'nested RunCVM: the package installed in a systemd+dockerd RunCVM VM by its installer boots an inner VM there (own boot_id, MemTotal of its -m, its --cpus) (bench/nested-bench.sh)',
  needs: ['runcvm', 'image:runcvm-test/system'],
  slow: true,
  timeoutMs: 1_500_000, // 1.5x the slowest whole run here (1020 s at load 3-11); CI machines ran ~0.7x of this machine
  budgetShare: 0.6,
  async test(ctx) {
    // The outer VM carries the case's labels, so the runner removes it even after a timeout.
    const { code, out } = await runBenchScript(ctx, 'bench/nested-bench.sh', { RUNCVM_BENCH_RUNTIME: ctx.runtime, RUNCVM_BENCH_LABELS: ctx.labels.join(' ') })
    if (code !== 0 || !out.includes('nested-bench: PASS')) fail(`bench/nested-bench.sh exited ${code}:\n${out.slice(-25).join('\n')}`)
    for (const l of out) if (/^(outer VM|install in the VM|inner VM|whole run):|^ +inner (kernel log|phase):/.test(l)) ctx.note(l.trim())
  },
} satisfies Case
