import { describe, expect, it } from 'vitest'
import { cpuListCount, machineMaxCpus, Q35_MAX_CPUS, specCpuLimit, TCG_MAX_CPUS, vcpuCount, type CpuResources } from '../../lib/sizing.js'

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
