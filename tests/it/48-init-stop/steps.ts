// 48-init-stop: `docker stop` gives the VM as long as Docker's stop timeout allows, as runc does.
// 1. An init as the entrypoint (VM PID 1, no --init) is powered off cleanly. busybox init ignores
//    ACPI's power button and SIGTERM means reboot to it; RunCVM's listener (runcvm-init
//    --stop-signal, process `runcvm-stop`) turns the stop request into its poweroff signal,
//    SIGUSR2, so the container ends with 0 rather than being SIGKILLed by Docker after its 10 s
//    (137). systemd's counterpart (SIGRTMIN+4) is covered by 41 and 45.
// 2. A plain workload (runcvm-init --vm supervises it) that needs 12 s after SIGTERM to exit
//    cleanly, stopped with `docker stop -t 20`, exits with its own status (7) as under runc: the VM
//    side has no kill timer of its own (it had one at 8 s, which gave 137 here).
import { type Case, describe, fail, startDetached } from '../harness'
import { execUntil } from '../net'

const SLOW_EXIT = ['runcvm-test/bb', 'sh', '-c', "trap 'sleep 12; exit 7' TERM; echo ready; while :; do sleep 1; done"]

export default {
  description: 'docker stop: busybox init as VM PID 1 powers off cleanly (exit 0); a workload needing 12 s after TERM with -t 20 exits with its own code (7) like runc',
  needs: ['runcvm'],
  timeoutMs: 420_000,
  async test(ctx) {
    const { docker, uniq, note, waitForLog } = ctx
    const vm = uniq('vm')
    const slow = uniq('slow')
    const ref = uniq('ref')
    await startDetached(ctx, ctx.runtime, vm, ['runcvm-test/bb', 'init'])
    await startDetached(ctx, ctx.runtime, slow, SLOW_EXIT)
    await startDetached(ctx, 'runc', ref, SLOW_EXIT)
    const bad: string[] = []

    const up = await execUntil(ctx, vm, 'ps -o comm | grep -qx runcvm-stop && [ "$(cat /proc/1/comm)" = init ]', 240_000)
    if (up.code !== 0) fail(`busybox init as PID 1 with the stop listener: ${describe(up)}`)
    const t0 = performance.now()
    const stop = await docker(['stop', vm])
    const secs = (performance.now() - t0) / 1000
    const code = (await docker(['inspect', '-f', '{{.State.ExitCode}}', vm])).stdout.trim()
    note(`busybox init: docker stop took ${secs.toFixed(1)} s, exit code ${code}`)
    // 0: the init powered the VM off itself; 137 would mean Docker had to SIGKILL the container.
    if (stop.code !== 0 || code !== '0') bad.push(`docker stop of busybox init: exit ${code} after ${secs.toFixed(1)} s (want 0: powered off by the init)`)

    await waitForLog(slow, /ready/, 240_000)
    await waitForLog(ref, /ready/, 20_000)
    const stopTimed = async (name: string) => {
      const t = performance.now()
      const r = await docker(['stop', '-t', '20', name])
      const s = (performance.now() - t) / 1000
      const c = (await docker(['inspect', '-f', '{{.State.ExitCode}}', name])).stdout.trim()
      return { r, s, c }
    }
    const [v, rc] = await Promise.all([stopTimed(slow), stopTimed(ref)])
    note(`12 s TERM handler, docker stop -t 20: VM exit ${v.c} after ${v.s.toFixed(1)} s; runc exit ${rc.c} after ${rc.s.toFixed(1)} s`)
    if (rc.r.code !== 0 || rc.c !== '7') bad.push(`runc reference: exit ${rc.c} after ${rc.s.toFixed(1)} s (want 7): ${describe(rc.r)}`)
    if (v.r.code !== 0 || v.c !== rc.c) bad.push(`VM: exit ${v.c} after ${v.s.toFixed(1)} s, runc gives ${rc.c} (137: killed before the workload's 12 s were up)`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
