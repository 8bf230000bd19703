// runcvm-ctr-qemu: supervised by runcvm-init in the container. Reads the saved state and what it
// must know about the container (lib/vm/boot-probes.ts), plans the boot (lib/vm/boot-plan.ts:
// disks, fstab, the VM's state and init script, QEMU's argv), applies the plan and execve's QEMU.
//   runcvm-ctr-qemu --watchdog <pid>   (internal) KVM-stuck watchdog, see lib/qemu/qmp.ts
// Env: RUNCVM_* via /.runcvm/config.json; RUNCVM_BREAK=preqemu prints the command and opens a shell.
import { copyFileSync } from 'node:fs'
import { decideAccel, probeAccel } from '../lib/accel.js'
import { shWord } from '../lib/cmd.js'
import { ConfigError, ExecError } from '../lib/errors.js'
import { BIN, CTR_QEMU, QMP_SOCKET, statePath } from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { runWatchdog } from '../lib/qemu/qmp.js'
import { parseSettings } from '../lib/settings.js'
import { $, applyCmds } from '../lib/sh.js'
import { clearBooted, readConfig, writeFstab, writeVm, writeVmInit } from '../lib/state.js'
import { planVmBoot, type BootPlan } from '../lib/vm/boot-plan.js'
import { readBootProbes } from '../lib/vm/boot-probes.js'
import { hostTimer } from '../lib/vm/timing.js'

/** A KVM boot reaches vm-init in ~1 s; 30 s leaves room for a loaded host. */
const KVM_BOOT_TIMEOUT_MS = 30_000

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
  const accel = decideAccel(s.RUNCVM_ACCEL, probeAccel())
  if (accel.warning) process.stderr.write(accel.warning + '\n')

  const plan = planVmBoot(cfg, s, await readBootProbes(cfg, s, accel.accel))
  await applyDisks(plan)
  if (plan.fstab.length) writeFstab(plan.fstab)
  for (const [from, to] of plan.copies) copyFileSync(from, to)
  writeVm(plan.vmState)
  writeVmInit(plan.initScript)
  mark('ctr-qemu-plan')

  const { file, args } = plan.qemu
  const env = { ...process.env, ...plan.qemu.env }
  if (s.RUNCVM_BREAK.includes('preqemu')) {
    process.stdout.write(`Preparing to run: ${[file, ...args].map(shWord).join(' ')}\n`)
    await $({ stdio: 'inherit', env, nothrow: true })`${BIN.busybox} sh`
  }
  if (plan.watchdog) {
    // QEMU keeps this PID after execve: the watchdog watches it over QMP.
    clearBooted()
    $({ detached: true, stdio: ['ignore', 'ignore', 'inherit'], nothrow: true })`${CTR_QEMU} --watchdog ${process.pid}`.child?.unref()
  }
  mark('ctr-qemu-exec')
  if (s.RUNCVM_QEMU_DEBUG) {
    const r = await $({ stdio: 'inherit', env, nothrow: true })`${file} ${args}`
    process.stderr.write(`QEMU exited with code: ${r.exitCode ?? r.signal}\n`)
    const events = await $({ quiet: true, nothrow: true })`${BIN.busybox} cat /sys/fs/cgroup/memory.events`
    if (events.ok) process.stderr.write(`QEMU memory cgroup events:\n${events.stdout}`) // cgroup v2 only
    process.exitCode = r.exitCode ?? 1
    return
  }
  execve(file, [file, ...args], env)
}

if (process.argv[2] === '--watchdog') {
  runRole(() => runWatchdog({ pid: Number(process.argv[3]), qmp: QMP_SOCKET, bootedFile: statePath('booted'), bootTimeoutMs: KVM_BOOT_TIMEOUT_MS }))
} else {
  runRole(main)
}
