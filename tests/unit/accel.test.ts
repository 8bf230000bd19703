// lib/accel.ts: which accelerator for which host, and the cpuinfo probe's parser.
import { describe, expect, it } from 'vitest'
import { cpuinfoHasVirt, decideAccel } from '../../lib/accel.js'

describe('accelerator decision table', () => {
  const real = { kvmRw: true, cpuVirt: true, pvm: false }
  it.each([
    ['auto', real, 'kvm', false],
    ['auto', { ...real, pvm: true }, 'tcg', true],
    ['auto', { ...real, cpuVirt: false }, 'tcg', true],
    ['auto', { ...real, kvmRw: false }, 'tcg', true],
    ['kvm', { kvmRw: false, cpuVirt: false, pvm: true }, 'kvm', false],
    ['tcg', real, 'tcg', false],
  ] as const)('%s %o → %s', (setting, probe, accel, warns) => {
    const c = decideAccel(setting, probe)
    expect(c.accel).toBe(accel)
    expect(c.warning !== undefined).toBe(warns)
    if (warns) expect(c.warning).toMatch(/^RunCVM: Warning: .*TCG/)
  })
  it('reads vmx/svm from cpuinfo flags only', () => {
    expect(cpuinfoHasVirt('processor\t: 0\nflags\t\t: fpu vme vmx sse\n')).toBe(true)
    expect(cpuinfoHasVirt('flags\t\t: fpu svm\n')).toBe(true)
    expect(cpuinfoHasVirt('model name: vmx-ish\nflags\t\t: fpu sse\n')).toBe(false)
  })
})
