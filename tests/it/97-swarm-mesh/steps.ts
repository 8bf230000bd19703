// 97-swarm-mesh: Swarm's ingress routing mesh and VIP endpoint mode with a RunCVM task, through
// `bench/nested-bench.sh --swarm-mesh` (the script the benchmark table quotes). Both need IPVS,
// which the test host's kernel may lack (this project's machines have none), so the Swarm node is
// a RunCVM VM (the system image: systemd, dockerd on an ext4 disk; the guest kernel has IPVS) with
// the package installed in it by its own installer with --default-runtime. In the node: swarm init,
// an attachable overlay, a runc client on it, and one busybox httpd task published in ingress mode
// (8080→80, VIP endpoint mode); the task must be a VM (runtime runcvm, QEMU in its container, a
// boot_id not the node's). Checks: (a) the mesh from a runc container on the test host, (b) the
// mesh inside the node, (c) the VIP from the runc client on the overlay, (d) the VIP from inside
// the task's VM. The script exits 1 if any fails, with the task's namespace and VM state.
// TCG inside TCG: slow, so the case skips itself (SKIP with the reason) once the test command has
// used more than its share of the time budget.
import { type Case, fail, runBenchScript } from '../harness'

export default {
  description: 'Swarm routing mesh and VIP mode with a RunCVM task on a VM node whose kernel has IPVS: mesh from outside and inside the node, VIP from a runc client and from the task\'s VM (bench/nested-bench.sh --swarm-mesh)',
  needs: ['runcvm', 'image:runcvm-test/system'],
  slow: true,
  timeoutMs: 1_500_000, // the script's own limit for the task to answer is 1500 s; idle here the whole run took 373 s
  budgetShare: 0.65,
  async test(ctx) {
    // The node VM carries the case's labels, so the runner removes it even after a timeout.
    const { code, out } = await runBenchScript(ctx, 'bench/nested-bench.sh',
      { RUNCVM_BENCH_RUNTIME: ctx.runtime, RUNCVM_BENCH_LABELS: ctx.labels.join(' ') }, ['--swarm-mesh'])
    if (code !== 0 || !out.includes('nested-bench --swarm-mesh: PASS')) fail(`bench/nested-bench.sh --swarm-mesh exited ${code}:\n${out.slice(-40).join('\n')}`)
    for (const l of out) if (/^(outer VM|install in the VM|node|task [0-9a-f]+|\([abcd]\)|whole run)[ :]/.test(l)) ctx.note(l.trim())
  },
} satisfies Case
