// Package install plan: manifests compare, copies are exact (symlinks, modes, no setuid), a
// second comparison after copying says identical.
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dockerdPlanCases } from './install-tree-sync.cases.js'
import { planReload } from '../../lib/install/dockerd.js'
import { copyTree, hashFile, readTree } from '../../lib/install/tree-io.js'
import { describeDiff, diffTrees, installedMode, isIdentical, stagingDir, type TreeEntry } from '../../lib/install/tree-sync.js'

const f = (path: string, size: number, mtimeMs = 1000, mode = 0o644): TreeEntry => ({ path, type: 'file', mode, size, mtimeMs })
const never = () => { throw new Error('sameContent should not be asked') }

describe('diffTrees', () => {
  const src = [
    { path: 'bin', type: 'dir', mode: 0o755 } as TreeEntry,
    { path: 'bin/sh', type: 'symlink', mode: 0o777, target: 'busybox' } as TreeEntry,
    f('bin/busybox', 100, 1000, 0o755),
    f('README', 5),
  ]
  it('identical manifests', () => expect(isIdentical(diffTrees(src, src, never))).toBe(true))
  it('fresh install: everything added', () => expect(diffTrees(src, [], never).added).toHaveLength(4))
  it('size, mode, type and link target changes', () => {
    const dst = [
      { path: 'bin', type: 'dir', mode: 0o700 } as TreeEntry,
      { path: 'bin/sh', type: 'symlink', mode: 0o777, target: 'dash' } as TreeEntry,
      f('bin/busybox', 99, 1000, 0o755),
      { path: 'README', type: 'symlink', mode: 0o777, target: 'x' } as TreeEntry,
      f('stale', 1),
    ]
    const d = diffTrees(src, dst, never)
    expect(d).toEqual({ added: [], changed: ['README', 'bin', 'bin/busybox', 'bin/sh'], removed: ['stale'] })
    expect(describeDiff(d)).toMatch(/^4 changed \(README, bin, bin\/busybox, \.\.\.\); 1 removed \(stale\)$/)
  })
  it('same size, other mtime: asks for content, only then', () => {
    const asked: string[] = []
    const d = diffTrees([f('a', 1, 1), f('b', 1, 1)], [f('a', 1, 2), f('b', 1, 1)], p => { asked.push(p); return true })
    expect(asked).toEqual(['a'])
    expect(isIdentical(d)).toBe(true)
    expect(diffTrees([f('a', 1, 1)], [f('a', 1, 2)], () => false).changed).toEqual(['a'])
  })
  it('setuid/setgid in the source are expected stripped in the target', () => {
    expect(installedMode(0o4755)).toBe(0o755)
    expect(installedMode(0o2755)).toBe(0o755)
    expect(installedMode(0o1777)).toBe(0o1777)
    expect(isIdentical(diffTrees([f('x', 1, 1, 0o4755)], [f('x', 1, 1, 0o755)], never))).toBe(true)
  })
  it('staging dir sits beside the target', () => expect(stagingDir('/opt/runcvm', 42)).toBe('/opt/runcvm.new-42'))
})

describe('copyTree on disk', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'runcvm-tree-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  const src = join(tmp, 'src')
  mkdirSync(join(src, 'usr/bin'), { recursive: true })
  writeFileSync(join(src, 'usr/bin/tool'), 'tool')
  chmodSync(join(src, 'usr/bin/tool'), 0o4755)
  writeFileSync(join(src, 'data'), 'data')
  symlinkSync('usr/bin/tool', join(src, 'link'))
  symlinkSync('/nonexistent/abs', join(src, 'dangling'))

  it('copies symlinks as symlinks, keeps modes minus setuid, and is then identical', () => {
    const dst = join(tmp, 'dst')
    const manifest = readTree(src)
    copyTree(src, dst, manifest)
    expect(readlinkSync(join(dst, 'link'))).toBe('usr/bin/tool')
    expect(readlinkSync(join(dst, 'dangling'))).toBe('/nonexistent/abs')
    expect(statSync(join(dst, 'usr/bin/tool')).mode & 0o7777).toBe(0o755)
    expect(isIdentical(diffTrees(manifest, readTree(dst), never))).toBe(true)
  })

  it('detects a content change behind an equal size (rebuild with a new mtime)', () => {
    const dst = join(tmp, 'dst')
    writeFileSync(join(dst, 'data'), 'DATA')
    utimesSync(join(dst, 'data'), 5, 5)
    const d = diffTrees(readTree(src), readTree(dst), p => hashFile(join(src, p)) === hashFile(join(dst, p)))
    expect(d.changed).toEqual(['data'])
  })

  it('readTree of a missing directory is empty', () => expect(readTree(join(tmp, 'missing'))).toEqual([]))
})

describe('planReload', () => {
  it.each(dockerdPlanCases)('$name', ({ facts, how }) => expect(planReload(facts).how).toBe(how))
})
