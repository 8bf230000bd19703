// 96-swarm-service: Docker Swarm services whose tasks are RunCVM VMs, run through
// bench/swarm-bench.sh (the same script the benchmark table quotes, so the test and the figures
// can never drift apart). The script starts its own dockerd in its own network and mount
// namespaces with the runtime under test as `default-runtime`, and fails (exit 1, "FAIL: ...") on
// any broken check: service of 2 VMs answering a runc client by task IP, `tasks.web` and service
// name on an overlay network; host-mode published ports; scale 2→3; `kill -9` of a task's QEMU →
// task replaced; rolling update; rm leaves no task container. Its timing lines become notes.
import { type Case, fail, runBenchScript } from '../harness'

export default {
  description: 'swarm service of VM tasks on a second dockerd (default-runtime = runtime under test): reachable by name, scale, task replaced after QEMU dies, update, rm (bench/swarm-bench.sh)',
  needs: ['runcvm', 'image:runcvm-test/bb'],
  slow: true,
  timeoutMs: 900_000,
  async test(ctx) {
    // On the case's timeout, SIGTERM lets the script's trap clean up its dockerd and namespace.
    const { code, out } = await runBenchScript(ctx, 'bench/swarm-bench.sh', { RUNCVM_TEST_RUNTIME: ctx.runtime })
    if (code !== 0 || !out.includes('swarm-bench: PASS')) fail(`bench/swarm-bench.sh exited ${code}:\n${out.slice(-25).join('\n')}`)
    for (const l of out) if (/: \d+ ms|^swarm-bench: SKIP/.test(l)) ctx.note(l.replace(/^swarm-bench: /, ''))
  },
} satisfies Case
