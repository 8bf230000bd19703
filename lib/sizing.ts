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

// ---------------------------------------------------------------------------------------------
// Container memory: the VM's RAM plus what the container's own processes need
// ---------------------------------------------------------------------------------------------

const MiB = 1024 * 1024

/** One part of the memory added to the VM's RAM for the container's cgroup limit. */
export interface OverheadPart { name: string; mib: number }

/**
 * Default TCG translation cache size (MiB; RUNCVM_TCG_TB_SIZE), passed as `-accel tcg,tb-size=`:
 * QEMU 7.2's default lets it grow to 1 GiB, filled lazily, and a long-lived VM running many execs
 * grew past its container's limit and was OOM-killed; a full cache is flushed and refilled,
 * costing only retranslation. It fills up to its size: QEMU's anonymous RSS after one boot and
 * four execs was 121-123 MiB at 128, 102.5 at 64 and 69.9 at 32 (`bench/tcg-tb-bench.sh`).
 */
export const TCG_TB_SIZE_MIB = 64
/**
 * RUNCVM_TCG_TB_SIZE's range (MiB): 16 (the smallest measured here; QEMU splits the cache into
 * one region or more per vCPU thread, so far smaller caches mostly flush) to 1024 (QEMU 7.2's own
 * default on 64-bit hosts; more would only delay a flush).
 */
export const TCG_TB_SIZE_MIN_MIB = 16
export const TCG_TB_SIZE_MAX_MIB = 1024

/** Page-table bytes per byte mapped with 4 KiB pages: one 8-byte entry per page. */
const PTE_RATIO = 8 / 4096

/**
 * What the container needs besides the guest's RAM, part by part (MiB). The guest RAM itself is
 * the /dev/shm file (or hugetlb memfd) and is counted by the caller. Measured here with
 * `bench/mem-bench.sh` (TCG, idle VM at -m 512m/1g/2g, 1-2 vCPUs; cgroup v1 memory.stat and
 * /proc/<pid>/status of every process in the container's cgroup):
 *
 * - qemu 72: QEMU's own heap and mappings besides guest RAM and the translation cache: 42 MiB
 *   anonymous + 24 MiB of binary/library pages, the same at 512m, 1g and 2g and with 1 or 2 vCPUs.
 * - accelerator: the larger of the TCG translation cache (RUNCVM_TCG_TB_SIZE, default
 *   TCG_TB_SIZE_MIB; a busybox VM fills ~75-80 MiB in one boot and a few execs, more over time)
 *   and KVM's second-level page tables for the guest
 *   (EPT/NPT, one 8-byte entry per 4 KiB of guest RAM, charged to the container's cgroup:
 *   `sec_pagetables` in cgroup v2's memory.stat); the create step does not know yet which
 *   accelerator ctr-qemu will pick, and one of the two is always absent.
 * - page tables: QEMU and both virtiofsd map all guest RAM (vhost-user), one 8-byte entry per
 *   4 KiB page each once touched: measured 4.5 MiB of VmPTE for QEMU with 2 GiB preallocated.
 * - virtiofsd 16: two daemons (container root and package), 4 MiB each besides the shared guest
 *   RAM (0.4 anonymous + 3.6 binary), doubled for their thread pools under load.
 * - dnsmasq 2, runcvm-init 1: measured 1.8-2.0 and 0.7 MiB.
 * - node 72: Node roles that run beside QEMU (the boot watchdog, one ctr-exec per `docker exec`):
 *   a bare Node is 9 MiB anonymous + 37 MiB of binary pages; two at once, with their bundles.
 * - kernel 16: per-process kernel memory charged to the cgroup but not in any RSS (thread
 *   stacks, socket buffers, pipes, the virtio-serial and vhost-user sockets).
 *
 * Differs from upstream (a fixed 256 MiB): a 32 GiB VM needs ~200 MiB of page tables alone.
 */
export function containerOverhead(vmMiB: number, tbMiB: number = TCG_TB_SIZE_MIB): OverheadPart[] {
  const pte = Math.ceil(vmMiB * PTE_RATIO)
  return [
    { name: 'qemu', mib: 72 },
    { name: 'accelerator', mib: Math.max(tbMiB, pte) },
    { name: 'page tables', mib: 3 * pte },
    { name: 'virtiofsd', mib: 16 },
    { name: 'dnsmasq', mib: 2 },
    { name: 'runcvm-init', mib: 1 },
    { name: 'node', mib: 72 },
    { name: 'kernel', mib: 16 },
  ]
}

export const containerOverheadMiB = (vmMiB: number, tbMiB: number = TCG_TB_SIZE_MIB): number =>
  containerOverhead(vmMiB, tbMiB).reduce((n, p) => n + p.mib, 0)

/** runtime-spec linux.resources.memory (bytes; swap is the memory+swap limit, -1 unlimited). */
export interface MemoryResources { limit?: number; swap?: number; reservation?: number; [k: string]: unknown }

/**
 * The container's memory limits for a VM of vmMiB: limit = VM + containerOverheadMiB, and the
 * memory+swap limit raised by the same amount so the swap allowance the user asked for (swap -
 * limit) stays what it was. -1 (unlimited) stays -1; an absent or 0 swap stays as it was (runc
 * then leaves the kernel default). runtime-spec's `swap` is memory+swap on cgroup v1 and v2
 * alike: runc writes it to memory.memsw.limit_in_bytes on v1 and (swap - limit) to
 * memory.swap.max on v2, and refuses swap < limit on both ("invalid argument" from the v1
 * kernel, "memory+swap limit should be >= memory limit" from runc on v2). Upstream raised only
 * the limit, so every `-m` under 256m (Docker sets swap = 2 x memory) and every `--memory-swap`
 * equal to `-m` failed at create.
 */
export function containerMemory(mem: MemoryResources | undefined, vmMiB: number, tbMiB: number = TCG_TB_SIZE_MIB): MemoryResources {
  const limit = (vmMiB + containerOverheadMiB(vmMiB, tbMiB)) * MiB
  const out: MemoryResources = { ...mem, limit }
  const swap = mem?.swap
  if (typeof swap === 'number' && swap > 0) {
    const old = typeof mem?.limit === 'number' && mem.limit > 0 ? mem.limit : undefined
    out.swap = old !== undefined ? swap + (limit - old) : Math.max(swap, limit)
  }
  return out
}
