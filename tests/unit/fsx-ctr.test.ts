// lib/fsx.ts container-side helpers: every file the container-side roles write in /.runcvm (which
// the VM's root can fill with symlinks, FIFOs and hard links) or in the container's /run is created
// exclusively (O_EXCL|O_NOFOLLOW, 0600) or appended to only when it is a plain regular file. Each
// planted thing must leave its target byte-identical; the state writers built on them too.
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, linkSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { appendSafe, createExclusive, openAppendSafe, writeExclusive } from '../../lib/fsx.js'
import { appendTiming, markOnce, writeExecRequest, writeVmInit } from '../../lib/state.js'
import { tempDir } from './helpers.js'

const TARGET_TEXT = 'precious: must stay byte-identical\n'

function setup(): { dir: string; target: string } {
  const dir = tempDir()
  const target = join(dir, 'precious')
  writeFileSync(target, TARGET_TEXT)
  return { dir, target }
}

type Plant = [name: string, plant: (at: string, target: string) => void]
const PLANTS: Plant[] = [
  ['a symlink to a precious file', (at, target) => symlinkSync(target, at)],
  ['a dangling symlink', (at, target) => symlinkSync(`${target}.new`, at)],
  ['a FIFO', at => execFileSync('mkfifo', [at])],
  ['a hard link to a precious file', (at, target) => linkSync(target, at)],
]

describe('createExclusive / writeExclusive', () => {
  it('creates a new 0600 file', () => {
    const { dir } = setup()
    const f = join(dir, 'new')
    writeExclusive(f, 'data')
    expect(readFileSync(f, 'utf8')).toBe('data')
    expect(statSync(f).mode & 0o777).toBe(0o600)
  })
  it('a pre-existing file: EEXIST, its content kept', () => {
    const { dir } = setup()
    const f = join(dir, 'old')
    writeFileSync(f, 'old')
    expect(() => writeExclusive(f, 'new')).toThrow(/EEXIST/)
    expect(readFileSync(f, 'utf8')).toBe('old')
  })
  for (const [what, plant] of PLANTS) {
    it(`${what} at the name: EEXIST, nothing written anywhere`, () => {
      const { dir, target } = setup()
      const f = join(dir, 'f')
      plant(f, target)
      expect(() => writeExclusive(f, 'evil')).toThrow(/EEXIST/)
      expect(() => closeSync(createExclusive(f))).toThrow(/EEXIST/)
      expect(readFileSync(target, 'utf8')).toBe(TARGET_TEXT)
      expect(existsSync(`${target}.new`)).toBe(false)
    })
  }
})

describe('openAppendSafe / appendSafe', () => {
  it('creates 0600, then appends to its own regular file', () => {
    const { dir } = setup()
    const f = join(dir, 'log')
    appendSafe(f, 'a\n')
    appendSafe(f, 'b\n')
    expect(readFileSync(f, 'utf8')).toBe('a\nb\n')
    expect(statSync(f).mode & 0o777).toBe(0o600)
  })
  for (const [what, plant] of PLANTS) {
    it(`${what} at the name: refused, the target untouched`, () => {
      const { dir, target } = setup()
      const f = join(dir, 'log')
      plant(f, target)
      expect(() => appendSafe(f, 'evil\n')).toThrow(/refusing|ENXIO/)
      expect(() => closeSync(openAppendSafe(f))).toThrow(/refusing|ENXIO/)
      expect(readFileSync(target, 'utf8')).toBe(TARGET_TEXT)
      expect(existsSync(`${target}.new`)).toBe(false)
    })
  }
})

describe('state writers on /.runcvm never follow what the VM planted', () => {
  for (const [what, plant] of PLANTS) {
    it(`${what} at timing.log: appendTiming writes nothing (best effort, no throw)`, () => {
      const { dir, target } = setup()
      plant(join(dir, 'timing.log'), target)
      expect(() => appendTiming('x', 1, dir)).not.toThrow()
      expect(readFileSync(target, 'utf8')).toBe(TARGET_TEXT)
      expect(existsSync(`${target}.new`)).toBe(false)
    })
    it(`${what} at once: markOnce says "already ran", writes nothing`, () => {
      const { dir, target } = setup()
      plant(join(dir, 'once'), target)
      expect(markOnce(dir)).toBe(true)
      expect(readFileSync(target, 'utf8')).toBe(TARGET_TEXT)
      expect(existsSync(`${target}.new`)).toBe(false)
    })
    it(`${what} at an exec request name: refused`, () => {
      const { dir, target } = setup()
      const f = join(dir, 'exec-n.req')
      plant(f, target)
      expect(() => writeExecRequest(f, Buffer.from('x'))).toThrow(/EEXIST/)
      expect(readFileSync(target, 'utf8')).toBe(TARGET_TEXT)
    })
  }
  it('exec requests are 0600; the VM init is 0755 with no chmod by name (a link at the name is replaced)', () => {
    const { dir, target } = setup()
    writeExecRequest(join(dir, 'r.req'), Buffer.from('x'))
    expect(statSync(join(dir, 'r.req')).mode & 0o777).toBe(0o600)
    symlinkSync(target, join(dir, 'vm-init.sh'))
    writeVmInit('#!/bin/sh\n', dir)
    expect(lstatSync(join(dir, 'vm-init.sh')).isFile()).toBe(true)
    expect(statSync(join(dir, 'vm-init.sh')).mode & 0o777).toBe(0o755)
    expect(statSync(target).mode & 0o777).not.toBe(0o755)
    expect(readFileSync(target, 'utf8')).toBe(TARGET_TEXT)
    expect(readdirSync(dir).sort()).toEqual(['precious', 'r.req', 'vm-init.sh'])
  })
})
