// Which accelerator QEMU uses (beyond upstream, which always passes -enable-kvm and dies when KVM
// cannot run the guest). decideAccel() is the pure decision table; probeAccel() gathers its facts:
// what sbin/runcvm-kvm-probe reports after really creating and running a tiny VM on /dev/kvm
// (native/runcvm-kvm-probe.c), and which KVM modules are loaded.
//
// Why not "does /dev/kvm open": kvm-pvm (a paravirtual KVM for hosts without VMX/SVM) provides a
// /dev/kvm that opens and creates VMs, but a stock kernel cannot boot on it: QEMU hits emulation
// failures (cmpxchg16b, xrstor, int3) and then pauses the guest, or the guest spins printing
// nothing. So a /dev/kvm served by kvm_pvm alone means TCG under auto; next to a vendor module
// (kvm_intel/kvm_amd) the vendor module is the one that runs ordinary guests.
import { existsSync } from 'node:fs'
import { ConfigError } from './errors.js'
import { $ } from './sh.js'

export type Accel = 'kvm' | 'tcg'

/** runcvm-kvm-probe's one line, parsed (parseKvmProbe). */
export type KvmProbe =
  | { ok: true; maxVcpus?: number }
  | { ok: false; stage: string; errno: string; reason?: number }

export interface AccelProbe {
  kvm: KvmProbe
  /** /sys/module/kvm_pvm exists. */
  pvm: boolean
  /** /sys/module/kvm_intel or /sys/module/kvm_amd exists (loaded or built in). */
  vendor: boolean
}

export interface AccelChoice {
  accel: Accel
  /** One line for stderr (auto fell back to TCG, or a forced KVM that is likely to fail). */
  warning?: string
  /** KVM_CAP_MAX_VCPUS of the host's KVM (lib/sizing.ts machineMaxCpus). */
  maxVcpus?: number
}

/** Why /dev/kvm cannot be used, in words, from a failed probe (undefined: the probe passed). */
export function kvmProblem(k: KvmProbe): string | undefined {
  if (k.ok) return undefined
  if (k.stage === 'open') {
    if (['ENOENT', 'ENXIO', 'ENODEV'].includes(k.errno)) return '/dev/kvm is not available'
    if (['EACCES', 'EPERM'].includes(k.errno)) {
      return '/dev/kvm exists but cannot be opened (permission denied: rootless Docker, user-namespace remapping or device permissions?)'
    }
    return `/dev/kvm cannot be opened (${k.errno})`
  }
  if (k.stage === 'api') return `/dev/kvm is not a usable KVM device (${k.errno})`
  if (k.stage === 'create-vm' && k.errno === 'EBUSY') {
    return 'KVM cannot create a VM (EBUSY: another hypervisor, e.g. VirtualBox or VMware, may be holding VT-x/AMD-V)'
  }
  if (k.stage === 'run' || k.stage === 'exit' || k.stage === 'registers') {
    const detail = k.reason !== undefined ? `exit reason ${k.reason}` : k.errno
    return `KVM created a VM but could not run it (${k.stage}: ${detail}; broken nested virtualisation?)`
  }
  return `KVM cannot create a VM (${k.stage}: ${k.errno})`
}

const PVM_ONLY = '/dev/kvm is kvm-pvm, which cannot boot a stock kernel'

export function decideAccel(setting: 'auto' | 'kvm' | 'tcg', p: AccelProbe): AccelChoice {
  if (setting === 'tcg') return { accel: 'tcg' }
  const problem = kvmProblem(p.kvm)
  const maxVcpus = p.kvm.ok ? p.kvm.maxVcpus : undefined
  const pvmOnly = p.pvm && !p.vendor
  if (setting === 'kvm') {
    // Forced: QEMU could not even open the device, so say why now instead of QEMU's message.
    if (!p.kvm.ok && p.kvm.stage === 'open') throw new ConfigError(`RUNCVM_ACCEL=kvm, but ${problem}`)
    const why = problem ?? (pvmOnly ? PVM_ONLY : undefined)
    return {
      accel: 'kvm',
      ...(maxVcpus !== undefined ? { maxVcpus } : {}),
      ...(why ? { warning: `RunCVM: Warning: RUNCVM_ACCEL=kvm although ${why}; the VM may not start. Unset RUNCVM_ACCEL to fall back to TCG.` } : {}),
    }
  }
  const why = problem ?? (pvmOnly ? PVM_ONLY : undefined)
  if (why === undefined) return { accel: 'kvm', ...(maxVcpus !== undefined ? { maxVcpus } : {}) }
  return {
    accel: 'tcg',
    warning: `RunCVM: Warning: ${why}; running the VM with TCG emulation (slow). Set RUNCVM_ACCEL=kvm to force KVM.`,
  }
}

/** runcvm-kvm-probe's stdout → KvmProbe. Anything unexpected is a failure at stage "probe". */
export function parseKvmProbe(stdout: string): KvmProbe {
  const line = stdout.split('\n')[0].trim()
  const kv = Object.fromEntries(line.split(/\s+/).slice(1).map(w => w.split('=', 2) as [string, string]))
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined)
  if (line.startsWith('ok ')) {
    const maxVcpus = num(kv.max_vcpus)
    return { ok: true, ...(maxVcpus !== undefined && maxVcpus > 0 ? { maxVcpus } : {}) }
  }
  if (line.startsWith('fail ') && kv.stage && kv.errno) {
    const reason = num(kv.reason)
    return { ok: false, stage: kv.stage, errno: kv.errno, ...(reason !== undefined ? { reason } : {}) }
  }
  return { ok: false, stage: 'probe', errno: line === '' ? 'no output' : `unexpected output: ${line.slice(0, 80)}` }
}

/** Runs the probe (a few ms) and reads the module list. `probe` is the package's runcvm-kvm-probe. */
export async function probeAccel(probe: string, device = '/dev/kvm'): Promise<AccelProbe> {
  const r = await $({ quiet: true, nothrow: true, timeout: 10_000 })`${probe} ${device}`
  // The shell's 127/126: the probe is missing or not executable; a signal: the timeout killed it.
  const failed = r.exitCode === 127 ? 'ENOENT' : r.exitCode === 126 ? 'EACCES' : r.signal ? 'ETIMEDOUT' : undefined
  const kvm = failed ? { ok: false as const, stage: 'probe', errno: failed } : parseKvmProbe(r.stdout)
  return {
    kvm,
    pvm: existsSync('/sys/module/kvm_pvm'),
    vendor: existsSync('/sys/module/kvm_intel') || existsSync('/sys/module/kvm_amd'),
  }
}
