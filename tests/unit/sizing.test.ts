import { describe, expect, it } from 'vitest'
import {
  containerMemory, containerOverhead, containerOverheadMiB, cpuListCount, machineMaxCpus, Q35_MAX_CPUS, specCpuLimit, TCG_MAX_CPUS, TCG_TB_SIZE_MIB, vcpuCount,
  type CpuResources,
} from '../../lib/sizing.js'
import { configFixture } from './helpers.js'

describe('vCPU count', () => {
  it('cpuset lists', () => {
    expect(cpuListCount('0-3,8,10-11')).toBe(7)
    expect(cpuListCount('5')).toBe(1)
    expect(cpuListCount('0-1,1-2')).toBe(3)
    expect(cpuListCount('')).toBe(0)
    expect(cpuListCount('3-1')).toBe(0)
    expect(cpuListCount('a')).toBe(0)
  })

  // [what, linux.resources.cpu, container CPUs (affinity), accelerator, KVM max vCPUs, expected vCPUs]
  const table: [string, CpuResources | undefined, number, 'kvm' | 'tcg', number | undefined, number][] = [
    ['--cpus=0.5 on a 64-thread host: 1, not 64', { quota: 50000, period: 100000 }, 64, 'kvm', undefined, 1],
    ['--cpus=1.5 rounds up', { quota: 150000, period: 100000 }, 64, 'kvm', undefined, 2],
    ['--cpu-period=50000 --cpu-quota=100000 is 2', { quota: 100000, period: 50000 }, 64, 'kvm', undefined, 2],
    ['quota without period: the kernel default 100000', { quota: 300000 }, 64, 'kvm', undefined, 3],
    ['--cpus=0.01 (the smallest Docker accepts)', { quota: 1000, period: 100000 }, 8, 'tcg', undefined, 1],
    ['no limit: every CPU of the container', undefined, 12, 'kvm', undefined, 12],
    ['quota -1 (unlimited) is no limit', { quota: -1, period: 100000 }, 6, 'tcg', undefined, 6],
    ['--cpuset-cpus=0-3 without --cpus', { cpus: '0-3' }, 64, 'kvm', undefined, 4],
    ['--cpus=8 --cpuset-cpus=0,1: the cpuset wins', { quota: 800000, period: 100000, cpus: '0,1' }, 64, 'kvm', undefined, 2],
    ['--cpus=2 --cpuset-cpus=0-7: the quota wins', { quota: 200000, period: 100000, cpus: '0-7' }, 64, 'kvm', undefined, 2],
    ['--cpus=4 with an affinity of 2 CPUs', { quota: 400000, period: 100000 }, 2, 'tcg', undefined, 2],
    ['384-thread host, KVM, no --cpus: q35 limit', undefined, 384, 'kvm', undefined, Q35_MAX_CPUS],
    ['384-thread host, TCG, no --cpus: APIC id limit', undefined, 384, 'tcg', undefined, TCG_MAX_CPUS],
    ['--cpus=300 on a 384-thread host, KVM', { quota: 30000000, period: 100000 }, 384, 'kvm', undefined, 288],
    ['host KVM allows fewer vCPUs than q35', undefined, 384, 'kvm', 240, 240],
    ['host KVM allows more vCPUs than q35', undefined, 384, 'kvm', 4096, 288],
    ['an unknown host CPU count still boots 1', undefined, 0, 'tcg', undefined, 1],
  ]
  it.each(table)('%s', (_what, cpu, hostCpus, accel, kvmMax, want) => {
    expect(vcpuCount({ specLimit: specCpuLimit(cpu), hostCpus, machineMax: machineMaxCpus(accel, kvmMax) })).toBe(want)
  })

  it('machine limits', () => {
    expect([Q35_MAX_CPUS, TCG_MAX_CPUS]).toEqual([288, 255])
    expect(machineMaxCpus('tcg', 1024)).toBe(255)
  })
})

describe('container memory limits on Docker config.json (cgroup v1 captured here, v2 per moby and runc)', () => {
  const MiB = 1024 * 1024
  /**
   * What runc writes on a cgroup v2 host for runtime-spec memory.swap (runc's
   * ConvertMemorySwapToCgroupV2Value): memory.swap.max = swap - limit; -1 and 0 pass through;
   * swap < limit is refused with "memory+swap limit should be >= memory limit".
   */
  function v2SwapMax(swap: number | undefined, limit: number): number | 'max' | undefined {
    if (swap === undefined || swap === 0) return undefined
    if (swap === -1) return 'max'
    if (swap < limit) throw new Error('memory+swap limit should be >= memory limit')
    return swap - limit
  }
  /** cgroup v1: memory.memsw.limit_in_bytes below memory.limit_in_bytes is EINVAL. */
  function v1Check(swap: number | undefined, limit: number): void {
    if (swap !== undefined && swap > 0 && swap < limit) throw new Error('write memory.memsw.limit_in_bytes: invalid argument')
  }

  // [fixture (docker run flags), VM MiB, limit MiB after rewrite, memory+swap MiB after (undefined: absent)]
  const cases: [string, number, number, number | undefined][] = [
    ['config-run-m128m.json', 128, 374, 502], //               -m 128m: Docker's swap = 2 x memory
    ['config-run-m256m-swap256m.json', 256, 502, 502], //      -m 256m --memory-swap 256m: no swap at all
    ['config-run-m256m-swap-unlimited.json', 256, 502, undefined], // --memory-swap -1 (Docker 20.10 leaves swap out)
    ['config-run-m512m-swap1g.json', 512, 758, 1270], //       -m 512m --memory-swap 1g: 512 MiB of swap
  ]
  for (const dir of ['', 'cgroup2/']) {
    it.each(cases)(`${dir || 'cgroup v1 '}%s`, (file, vm, limitMiB, swapMiB) => {
      const before = configFixture(dir + file).linux!.resources!.memory!
      expect(Math.floor(before.limit! / MiB)).toBe(vm)
      const after = containerMemory(before, vm)
      expect(after.limit).toBe(limitMiB * MiB)
      expect(after.swap).toBe(swapMiB === undefined ? undefined : swapMiB * MiB)
      expect(after.disableOOMKiller).toBe(false) // other fields kept
      // Both hosts accept the result, and the swap allowance the user asked for is unchanged.
      expect(() => v1Check(after.swap, after.limit!)).not.toThrow()
      expect(v2SwapMax(after.swap, after.limit!)).toEqual(v2SwapMax(before.swap, before.limit!))
    })
  }

  it('-1 (unlimited, as Podman writes it) stays -1; no limit and no swap gets a limit only', () => {
    expect(containerMemory({ limit: 256 * MiB, swap: -1 }, 256)).toEqual({ limit: 502 * MiB, swap: -1 })
    expect(containerMemory(undefined, 512)).toEqual({ limit: 758 * MiB })
    expect(containerMemory({ swap: 100 * MiB }, 512).swap).toBe(758 * MiB)
  })

  it('overhead parts: page tables grow with the VM, the accelerator part is the larger of TCG cache and EPT', () => {
    const parts = (mib: number) => Object.fromEntries(containerOverhead(mib).map(p => [p.name, p.mib]))
    expect(parts(512)).toMatchObject({ accelerator: TCG_TB_SIZE_MIB, 'page tables': 3 })
    expect(parts(32 * 1024)).toMatchObject({ accelerator: 64, 'page tables': 192 })
    expect(parts(256 * 1024)).toMatchObject({ accelerator: 512, 'page tables': 1536 })
    expect([512, 1024, 32 * 1024, 256 * 1024].map(m => containerOverheadMiB(m))).toEqual([246, 249, 435, 2227])
  })

  it('RUNCVM_TCG_TB_SIZE sets the accelerator part and so the limit; EPT still wins for big VMs', () => {
    const accel = (mib: number, tb: number) => containerOverhead(mib, tb).find(p => p.name === 'accelerator')!.mib
    expect([accel(512, 16), accel(512, 1024), accel(256 * 1024, 16)]).toEqual([16, 1024, 512])
    expect(containerOverheadMiB(512, 16)).toBe(containerOverheadMiB(512) - TCG_TB_SIZE_MIB + 16)
    expect(containerMemory({ limit: 512 * MiB }, 512, 16).limit).toBe((512 + containerOverheadMiB(512, 16)) * MiB)
  })
})
