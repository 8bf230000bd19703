// 48-init-stop: an init as the entrypoint (VM PID 1, no --init) is powered off cleanly by
// `docker stop`. busybox init ignores ACPI's power button and SIGTERM means reboot to it; RunCVM's
// listener (runcvm-init --stop-signal, process `runcvm-stop`) turns the stop request into its
// poweroff signal, SIGUSR2, so the container ends with 0 rather than being SIGKILLed by Docker
// after its 10 s (137). systemd's counterpart (SIGRTMIN+4) is covered by 41 and 45.
import { type Case, describe, fail, startDetached } from '../harness'
import { execUntil } from '../net'

export default {
  description: 'busybox init as VM PID 1: docker stop powers it off cleanly (exit 0) through the runcvm-stop listener',
  needs: ['runcvm'],
  timeoutMs: 180_000,
  async test(ctx) {
    const { docker, uniq, note } = ctx
    const vm = uniq('vm')
    await startDetached(ctx, ctx.runtime, vm, ['runcvm-test/bb', 'init'])
    const up = await execUntil(ctx, vm, 'ps -o comm | grep -qx runcvm-stop && [ "$(cat /proc/1/comm)" = init ]', 90_000)
    if (up.code !== 0) fail(`busybox init as PID 1 with the stop listener: ${describe(up)}`)
    const t0 = performance.now()
    const stop = await docker(['stop', vm])
    const secs = (performance.now() - t0) / 1000
    const code = (await docker(['inspect', '-f', '{{.State.ExitCode}}', vm])).stdout.trim()
    note(`docker stop took ${secs.toFixed(1)} s, exit code ${code}`)
    // 0: the init powered the VM off itself; 137 would mean Docker had to SIGKILL the container.
    if (stop.code !== 0 || code !== '0') fail(`docker stop of busybox init: exit ${code} after ${secs.toFixed(1)} s (want 0: powered off by the init)`)
  },
} satisfies Case
