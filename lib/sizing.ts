// How big the VM is (vCPUs) and how much memory its container may use. Pure: the runtime (at
// create) and ctr-qemu (in the container) pass the facts they read; nothing here reads the host.

// ---------------------------------------------------------------------------------------------
// vCPUs
// ---------------------------------------------------------------------------------------------

/**
 * q35's CPU limit in QEMU 7.2 (`query-machines` reports cpu-max 288 for pc-q35-7.2; `-smp 289`
 * fails with "The max CPUs supported by machine 'pc-q35-7.2' is 288").
 */
export const Q35_MAX_CPUS = 288
/**
 * TCG: with sockets=N, cores=threads=1 the APIC id of vCPU i is i, and ids above 254 need the
 * in-kernel irqchip with KVM's x2APIC API (`-smp 256` under TCG fails with "current -smp
 * configuration requires kernel irqchip and X2APIC API support"; 255 starts).
 */
export const TCG_MAX_CPUS = 255
/** cpu.period the kernel uses when only a quota is given (µs); also what `docker --cpus` writes. */
export const DEFAULT_CPU_PERIOD_US = 100000

/** runtime-spec linux.resources.cpu, the fields the vCPU rule reads. */
export interface CpuResources { quota?: number; period?: number; cpus?: string }

/**
 * Number of CPUs in a cpuset list (`0-3,8,10-11` → 7), as runc writes it to cpuset.cpus. Empty or
 * unparsable lists give 0 ("no cpuset"): Docker validates --cpuset-cpus before we see it, and
 * runc refuses a bad one anyway.
 */
export function cpuListCount(list: string): number {
  const ids = new Set<number>()
  for (const part of list.split(',').map(p => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) return 0
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo || hi - lo > 65535) return 0
    for (let i = lo; i <= hi; i++) ids.add(i)
  }
  return ids.size
}

/**
 * The container's own CPU limit from its spec, 0 for none: `ceil(quota / period)` (so `--cpus=0.5`
 * is 1 and `--cpu-period=50000 --cpu-quota=100000` is 2), capped by the size of the cpuset.
 * Computed at create (the runtime has the spec) and handed to ctr-qemu as RUNCVM_CPUS.
 */
export function specCpuLimit(cpu: CpuResources | undefined): number {
  const quota = typeof cpu?.quota === 'number' && cpu.quota > 0 ? cpu.quota : 0
  const period = typeof cpu?.period === 'number' && cpu.period > 0 ? cpu.period : DEFAULT_CPU_PERIOD_US
  const byQuota = quota > 0 ? Math.ceil(quota / period) : 0
  const bySet = typeof cpu?.cpus === 'string' ? cpuListCount(cpu.cpus) : 0
  const limits = [byQuota, bySet].filter(n => n > 0)
  return limits.length ? Math.min(...limits) : 0
}

export interface VcpuFacts {
  /** specCpuLimit() of the container's spec (RUNCVM_CPUS); 0: no limit. */
  specLimit: number
  /**
   * CPUs this container may run on, read in the container just before QEMU starts
   * (os.availableParallelism(): the sched_getaffinity count, so it already reflects the cpuset).
   */
  hostCpus: number
  /** The machine/accelerator limit: machineMaxCpus(). */
  machineMax: number
}

/**
 * vCPUs for the VM: the spec's limit (else every CPU the container may use), never more than the
 * container's CPUs nor the machine's limit, never fewer than 1. Differs from upstream, which used
 * floor(quota / 100000) with 0 meaning "all host CPUs": `--cpus=0.5` booted as many vCPUs as the
 * host had threads, and a host with more than 288 threads could not boot without --cpus.
 */
export function vcpuCount(f: VcpuFacts): number {
  const host = Math.max(1, Math.floor(f.hostCpus) || 1)
  const want = f.specLimit > 0 ? Math.min(f.specLimit, host) : host
  return Math.max(1, Math.min(want, f.machineMax))
}

/**
 * The largest -smp the machine accepts: q35's 288 on KVM, lowered to what the host's KVM reports
 * (KVM_CAP_MAX_VCPUS, from runcvm-kvm-probe) when that is smaller; 255 under TCG.
 */
export function machineMaxCpus(accel: 'kvm' | 'tcg', kvmMaxVcpus?: number): number {
  if (accel === 'tcg') return TCG_MAX_CPUS
  return kvmMaxVcpus !== undefined && kvmMaxVcpus > 0 ? Math.min(Q35_MAX_CPUS, kvmMaxVcpus) : Q35_MAX_CPUS
}
