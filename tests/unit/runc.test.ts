import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RunCvmError } from '../../lib/errors.js'
import { findRunc, isExecutableFile, RUNC_CANDIDATES } from '../../lib/runc.js'
import { tempDir } from './helpers.js'

const only = (...paths: string[]) => (p: string) => paths.includes(p)

describe('findRunc', () => {
  it('RUNCVM_RUNC first', () => {
    expect(findRunc({ RUNCVM_RUNC: '/x/runc', PATH: '/usr/bin' }, only('/x/runc', '/usr/bin/runc'))).toBe('/x/runc')
  })
  it('RUNCVM_RUNC that is not executable is an error, not a silent fallback', () => {
    expect(() => findRunc({ RUNCVM_RUNC: '/nope' }, only('/usr/bin/runc'))).toThrow(RunCvmError)
    expect(() => findRunc({ RUNCVM_RUNC: '/nope' }, only('/usr/bin/runc'))).toThrow("RUNCVM_RUNC '/nope' is not an executable file")
  })
  it('then the usual paths, in order', () => {
    expect(RUNC_CANDIDATES).toEqual(['/usr/bin/runc', '/usr/sbin/runc', '/usr/local/bin/runc', '/usr/local/sbin/runc'])
    expect(findRunc({}, only('/usr/sbin/runc', '/usr/local/bin/runc'))).toBe('/usr/sbin/runc')
    expect(findRunc({}, only('/usr/local/sbin/runc'))).toBe('/usr/local/sbin/runc')
  })
  it('then PATH', () => {
    expect(findRunc({ PATH: '/a::/b' }, only('/b/runc'))).toBe('/b/runc')
  })
  it('none: a clear error with what to do', () => {
    expect(() => findRunc({ PATH: '/a' }, only())).toThrow('runc not found (looked in /usr/bin/runc, /usr/sbin/runc, /usr/local/bin/runc, /usr/local/sbin/runc and PATH)')
    try { findRunc({}, only()) } catch (e) { expect((e as RunCvmError).hint).toMatch(/RUNCVM_RUNC/) }
  })
  it('isExecutableFile', () => {
    const d = tempDir()
    const f = join(d, 'runc')
    writeFileSync(f, '#!/bin/sh\n')
    expect(isExecutableFile(f)).toBe(false)
    chmodSync(f, 0o755)
    expect(isExecutableFile(f)).toBe(true)
    expect(isExecutableFile(d)).toBe(false)
    expect(isExecutableFile(join(d, 'none'))).toBe(false)
  })
})
