// runcvm-ctr-watchdog --pid <qemu pid> --accel kvm|tcg --timeout <s> [--auto]: the boot watchdog.
// runcvm-ctr-qemu starts it detached just before QEMU runs (QEMU keeps ctr-qemu's pid after
// execve; with RUNCVM_QEMU_DEBUG=1 it is ctr-qemu's child). It watches QEMU over QMP until the
// guest shows a sign of life, then exits: nothing stays resident after boot. When the VM has to
// be failed (KVM internal error, no sign of life within the boot timeout) it says why on the
// container's stderr, records exit status 1 and stops QEMU: SIGTERM, SIGKILL 2 s later; only a
// process that really is QEMU is ever signalled. Rules and messages: lib/qemu/watchdog.ts.
import { readlinkSync } from 'node:fs'
import minimist from 'minimist'
import { ConfigError } from '../lib/errors.js'
import { QMP_SOCKET } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'
import { connectQmp } from '../lib/qemu/qmp.js'
import { watchBoot } from '../lib/qemu/watchdog.js'
import { isBooted, writeExitStatus } from '../lib/state.js'

const alive = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }
const isQemu = (pid: number) => { try { return /\/qemu-system-[^/]+$/.test(readlinkSync(`/proc/${pid}/exe`)) } catch { return false } }
const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms))

async function main(): Promise<void> {
  const a = minimist(process.argv.slice(2), { string: ['pid', 'accel', 'timeout'], boolean: ['auto'] })
  const pid = Number(a.pid), timeout = Number(a.timeout)
  if (!(pid > 1) || !(timeout >= 0) || (a.accel !== 'kvm' && a.accel !== 'tcg')) {
    throw new ConfigError('usage: runcvm-ctr-watchdog --pid <qemu pid> --accel kvm|tcg --timeout <seconds> [--auto]')
  }
  const verdict = await watchBoot({ timeoutMs: timeout * 1000, accel: a.accel, auto: a.auto === true }, {
    connect: () => connectQmp(QMP_SOCKET),
    now: () => performance.now(),
    sleep,
    booted: () => isBooted(),
    qemuAlive: () => alive(pid),
  })
  if (verdict.kind !== 'fail') return
  process.stderr.write(`\nRunCVM: Error: ${verdict.message}\n`)
  writeExitStatus(1)
  if (!isQemu(pid)) return
  process.kill(pid, 'SIGTERM')
  for (let i = 0; i < 20 && alive(pid); i++) await sleep(100)
  if (alive(pid) && isQemu(pid)) process.kill(pid, 'SIGKILL')
}

runRole(main)
