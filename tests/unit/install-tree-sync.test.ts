// Package install plan: manifests compare, copies are exact (symlinks, modes, no setuid), a
// second comparison after copying says identical.
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dockerdPlanCases } from './install-tree-sync.cases.js'
import { planReload } from '../../lib/install/dockerd.js'
import { copyTree, hashFile, readTree } from '../../lib/install/tree-io.js'
import { describeDiff, diffTrees, installedMode, isIdentical, planLeftovers, stagingPrefix, type TreeEntry } from '../../lib/install/tree-sync.js'

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
  it('installed modes: no setuid/setgid/sticky, no group/other write; the source\'s bits are expected stripped in the target', () => {
    expect(installedMode(0o4755)).toBe(0o755)
    expect(installedMode(0o2755)).toBe(0o755)
    expect(installedMode(0o1777)).toBe(0o755)
    expect(installedMode(0o666)).toBe(0o644)
    expect(installedMode(0o775)).toBe(0o755)
    expect(installedMode(0o600)).toBe(0o600)
    expect(isIdentical(diffTrees([f('x', 1, 1, 0o4755)], [f('x', 1, 1, 0o755)], never))).toBe(true)
    expect(isIdentical(diffTrees([f('x', 1, 1, 0o777)], [f('x', 1, 1, 0o755)], never))).toBe(true)
    expect(diffTrees([f('x', 1, 1, 0o755)], [f('x', 1, 1, 0o775)], never).changed).toEqual(['x'])
  })
  it('a target entry owned by someone else is changed', () => {
    const root = { uid: 0, gid: 0 }
    expect(isIdentical(diffTrees([f('x', 1)], [{ ...f('x', 1), uid: 0, gid: 0 }], never, root))).toBe(true)
    expect(diffTrees([f('x', 1)], [{ ...f('x', 1), uid: 1000, gid: 0 }], never, root).changed).toEqual(['x'])
    expect(diffTrees([f('x', 1)], [{ ...f('x', 1), uid: 0, gid: 1000 }], never, root).changed).toEqual(['x'])
  })
  it('staging dirs sit beside the target; mkdtemp adds the unpredictable part', () => expect(stagingPrefix('/opt/runcvm', 42)).toBe('/opt/runcvm.new-42-'))
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
    mkdirSync(dst)
    const manifest = readTree(src)
    copyTree(src, dst, manifest, { uid: process.getuid!(), gid: process.getgid!() })
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

describe('planLeftovers', () => {
  const dir = (name: string, uid = 0) => ({ name, isDir: true, uid })
  it('removes dead staging dirs and retired trees not in use; keeps live installers\' and in-use ones', () => {
    const entries = [dir('runcvm.new-1-aB3xYz'), dir('runcvm.new-2-q'), dir('runcvm.old-3-k'), dir('runcvm.old-4'), dir('runcvm.new-5'),
      dir('other.old-1'), dir('runcvm'), dir('runcvm.new-x')]
    const alive = (pid: number) => pid === 2
    expect(planLeftovers('runcvm', entries, 0, alive, false)).toEqual({
      remove: ['runcvm.new-1-aB3xYz', 'runcvm.old-3-k', 'runcvm.old-4', 'runcvm.new-5'],
      keep: [{ name: 'runcvm.new-2-q', why: 'installer 2 is still copying' }],
    })
    expect(planLeftovers('runcvm', entries, 0, alive, true).remove).toEqual(['runcvm.new-1-aB3xYz', 'runcvm.new-5'])
  })
  it('never removes what is not a directory of ours (a planted symlink, FIFO or foreign directory)', () => {
    const plan = planLeftovers('runcvm', [{ name: 'runcvm.old-1', isDir: false, uid: 0 }, dir('runcvm.new-7', 1000)], 0, () => false, false)
    expect(plan.remove).toEqual([])
    expect(plan.keep.map(k => k.why)).toEqual(['not a directory owned by uid 0', 'not a directory owned by uid 0'])
  })
})

describe('planReload', () => {
  it.each(dockerdPlanCases)('$name', ({ facts, how }) => expect(planReload(facts).how).toBe(how))
})
