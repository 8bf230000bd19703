// 50-boot-watchdog: the boot watchdog (runcvm-ctr-watchdog) with a boot timeout set, under TCG
// (it runs by default only under KVM, which this machine lacks; RUNCVM_BOOT_TIMEOUT starts it
// under any accelerator):
//  - a normal boot: the watchdog runs while the VM boots and is gone once the guest shows a sign
//    of life (nothing resident after boot);
//  - a guest whose init is not RunCVM's (RUNCVM_KERNEL_APPEND=init=/bin/sh: a shell waiting on
//    the console) is not killed: the guest's virtio core probing the virtio-serial controller
//    counts as booted, not only RunCVM's VM init;
//  - a 1 s timeout fails the container before the guest kernel gets to its drivers: exit 1, the
//    reason on stderr, the workload never ran.
// VM-only.
import { type Case, describe, fail, ok, sleep, startDetached } from '../harness'

const WATCHDOG = 'runcvm-ctr-watchdog'

export default {
  description: 'boot watchdog: gone after boot, keeps a non-RunCVM init alive, fails a VM that shows no sign of life in time',
  needs: ['runcvm'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, runcvm, runtime, uniq, note } = ctx
    const top = async (name: string) => {
      const r = await docker(['top', name, '-o', 'pid,args'])
      if (r.code !== 0) fail(`docker top ${name}: ${describe(r)}`)
      return r.stdout
    }

    // 1. Normal boot with a watchdog: present during the boot, gone after it.
    const a = uniq('wd')
    await startDetached(ctx, runtime, a, ['-e', 'RUNCVM_BOOT_TIMEOUT=300', 'runcvm-test/bb', 'sleep', '300'])
    // Seen while booting (else the check below would prove nothing), then the VM answers exec.
    let seen = false
    for (let i = 0; i < 240 && !seen; i++) { seen = (await top(a)).includes(WATCHDOG); if (!seen) await sleep(250) }
    let booted = false
    for (let i = 0; i < 120 && !booted; i++) {
      booted = (await docker(['exec', a, 'true'])).code === 0
      if (!booted) await sleep(1000)
    }
    ok(booted, 'the VM never answered docker exec')
    ok(seen, 'the watchdog was never seen running during the boot')
    let after = ''
    for (let i = 0; i < 10; i++) { after = await top(a); if (!after.includes(WATCHDOG)) break; await sleep(1000) }
    note(`watchdog seen during boot: ${seen}; after boot: ${after.includes(WATCHDOG)}`)
    if (after.includes(WATCHDOG)) fail(`the watchdog is still running after boot:\n${after}`)

    // 2. init=/bin/sh: RunCVM's VM init never runs; the guest must still count as booted.
    const b = uniq('wdsh')
    await startDetached(ctx, runtime, b, ['-e', 'RUNCVM_BOOT_TIMEOUT=30', '-e', 'RUNCVM_KERNEL_APPEND=init=/bin/sh', 'runcvm-test/bb'])
    let gone = false
    for (let i = 0; i < 90 && !gone; i++) { gone = !(await top(b)).includes(WATCHDOG); if (!gone) await sleep(1000) }
    ok(gone, 'the watchdog did not see the init=/bin/sh guest boot within 90 s')
    await sleep(35_000) // past the 30 s timeout, in case the watchdog were still counting
    const st = (await docker(['inspect', '-f', '{{.State.Status}}', b])).stdout.trim()
    const logs = (await docker(['logs', b])).stderr
    if (st !== 'running') fail(`init=/bin/sh guest: container ${st}, want running; logs: ${logs.slice(-400)}`)
    // The watchdog left because it saw the guest boot, not because it failed.
    if (logs.includes('RunCVM: Error')) fail(`init=/bin/sh guest: ${logs.slice(-400)}`)

    // 3. A 1 s timeout fails the VM before the guest kernel probes its devices.
    const r = await runcvm(['-e', 'RUNCVM_BOOT_TIMEOUT=1', 'runcvm-test/bb', 'echo', 'WORKLOAD-RAN'])
    const msg = r.stderr.split('\n').find(l => l.startsWith('RunCVM: Error:')) ?? ''
    note(`1 s timeout: exit ${r.code}; ${msg.slice(0, 120)}`)
    if (r.code !== 1 || !msg.includes('no sign of life within 1 s of running') || r.stdout.includes('WORKLOAD-RAN')) {
      fail(`RUNCVM_BOOT_TIMEOUT=1: ${describe(r)}`)
    }
  },
} satisfies Case
