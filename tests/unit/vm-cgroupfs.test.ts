// lib/vm/cgroupfs.ts: the cgroupfs mode in the VM from RUNCVM_CGROUPFS and the entrypoint.
import { describe, expect, it } from 'vitest'
import { cgroupMode } from '../../lib/vm/cgroupfs.js'

describe('cgroupfs', () => {
  it('mode defaults: none for systemd, else hybrid', () => {
    expect(cgroupMode('', true)).toBe('none')
    expect(cgroupMode('', false)).toBe('hybrid')
    expect(cgroupMode('mixed', true)).toBe('hybrid')
    expect(cgroupMode('2', false)).toBe('cgroup2')
    expect(cgroupMode('systemd', false)).toBe('none')
  })
})
