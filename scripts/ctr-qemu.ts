// runcvm-ctr-qemu: supervised by runcvm-init in the container. Decides the accelerator (a real
// KVM probe, lib/accel.ts), reads the saved state and what it must know about the container
// (lib/vm/boot-probes.ts), plans the boot (lib/vm/boot-plan.ts: disks, fstab, the VM's state and
// init script, QEMU's argv), applies the plan, starts the boot watchdog (runcvm-ctr-watchdog) when
// one is needed and execve's QEMU.
// Env: RUNCVM_* via /.runcvm/config.json; RUNCVM_BREAK=preqemu prints the command and opens a shell.
import { readFileSync } from 'node:fs'
import { writeFileAtomic } from '../lib/fsx.js'
import { isatty } from 'node:tty'
import { decideAccel, probeAccel, type AccelChoice } from '../lib/accel.js'
import { shWord } from '../lib/cmd.js'
import { ConfigError, ExecError } from '../lib/errors.js'
import { BIN, CTR_WATCHDOG } from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { bootTimeoutSeconds, watchdogNeeded } from '../lib/qemu/watchdog.js'
import { parseSettings } from '../lib/settings.js'
import { $, applyCmds } from '../lib/sh.js'
import { clearBooted, readConfig, writeFstab, writeVm, writeVmInit } from '../lib/state.js'
import { planVmBoot, type BootPlan } from '../lib/vm/boot-plan.js'
import { readBootProbes } from '../lib/vm/boot-probes.js'
import { hostTimer } from '../lib/vm/timing.js'
import { warn } from '../lib/warnings.js'

/** Disk commands, per disk; a failure names the disk spec and the step, in upstream's words. */
async function applyDisks(plan: BootPlan): Promise<void> {
  for (const { disk: d, cmds } of plan.disks) {
    try {
      await applyCmds(cmds, { stdio: 'ignore' })
    } catch (e) {
      const what = e instanceof ExecError && e.cmd[0] === BIN.mke2fs ? `mke2fs on '${d.src}' with fs '${d.fs}' failed` : `truncate on '${d.src}' with size '${d.size}' failed`
      throw new ConfigError(`disk spec '${d.spec}' invalid: ${what}`, { cause: e })
    }
  }
}

async function main(): Promise<void> {
  const cfg = readConfig()
  const s = parseSettings(cfg.settingsEnv)
  const mark = hostTimer(s.RUNCVM_BOOT_TIMING)
  mark('ctr-qemu')
  // The probe creates and runs a tiny VM on /dev/kvm (a few ms); skipped when TCG is asked for.
  const probe = s.RUNCVM_ACCEL === 'tcg' ? undefined : await probeAccel(BIN.kvmProbe)
  const accel: AccelChoice = probe ? decideAccel(s.RUNCVM_ACCEL, probe) : { accel: 'tcg' }
  const bootTimeout = bootTimeoutSeconds(s.RUNCVM_BOOT_TIMEOUT, accel.accel, probe !== undefined && probe.pvm && !probe.vendor)
  // Without -t the workload's streams stay its own: the warning goes to the host log (and with -t
  // to the console too), lib/warnings.ts.
  if (accel.warning) warn(accel.warning, { tty: isatty(2), id: s.RUNCVM_CONTAINER_ID })

  const plan = planVmBoot(cfg, s, await readBootProbes(cfg, s, accel))
  await applyDisks(plan)
  if (plan.fstab.length) writeFstab(plan.fstab)
  // A fresh root-only copy (temporary O_EXCL file + rename: never written through a planted link).
  for (const [from, to] of plan.copies) writeFileAtomic(to, readFileSync(from), 0o600)
  writeVm(plan.vmState)
  writeVmInit(plan.initScript)
  mark('ctr-qemu-plan')

  const { file, args } = plan.qemu
  const env = { ...process.env, ...plan.qemu.env }
  if (s.RUNCVM_BREAK.includes('preqemu')) {
    process.stdout.write(`Preparing to run: ${[file, ...args].map(shWord).join(' ')}\n`)
    await $({ stdio: 'inherit', env, nothrow: true })`${BIN.busybox} sh`
  }
  const watch = watchdogNeeded(accel.accel, bootTimeout)
  if (watch) clearBooted()
  const startWatchdog = (qemuPid: number) =>
    $({ detached: true, stdio: ['ignore', 'ignore', 'inherit'], nothrow: true })`${CTR_WATCHDOG} --pid ${qemuPid} --accel ${accel.accel} --timeout ${bootTimeout} ${s.RUNCVM_ACCEL === 'auto' ? ['--auto'] : []}`.child?.unref()
  mark('ctr-qemu-exec')
  if (s.RUNCVM_QEMU_DEBUG) {
    // QEMU as our child, so its status can be reported: the watchdog watches the child's pid (never
    // this Node process), and signals reach QEMU (same process group; forwarded again to be sure).
    const qemu = $({ stdio: 'inherit', env, nothrow: true })`${file} ${args}`
    const pid = qemu.child?.pid
    if (watch && pid) startWatchdog(pid)
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => { qemu.child?.kill(sig) })
    const r = await qemu
    process.stderr.write(`QEMU exited with code: ${r.exitCode ?? r.signal}\n`)
    const events = await $({ quiet: true, nothrow: true })`${BIN.busybox} cat /sys/fs/cgroup/memory.events`
    if (events.ok) process.stderr.write(`QEMU memory cgroup events:\n${events.stdout}`) // cgroup v1: no memory.events
    process.exit(r.exitCode ?? 1) // the signal handlers above would keep us alive
  }
  // QEMU keeps this PID after execve.
  if (watch) startWatchdog(process.pid)
  execve(file, [file, ...args], env)
}

runRole(main)
