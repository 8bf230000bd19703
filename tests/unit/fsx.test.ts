// lib/fsx.ts: every host-side write is exclusive or in place, and every read refuses what a local
// user could plant where the runtime looks (process.json in /tmp): a symlink, a FIFO, a hard link,
// a file owned by someone else. Each planted thing must leave its target byte-identical.
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isPrivateDir, readJson, rewriteJsonFile, writeFileAtomic, writeFileInPlace } from '../../lib/fsx.js'
import { runExec } from '../../lib/oci/bundle.js'
import { fixtureText, tempDir } from './helpers.js'

const isRoot = process.getuid?.() === 0
const TARGET_TEXT = 'precious: must stay byte-identical\n'

/** A directory like /tmp (world-writable, sticky) with a precious file elsewhere. */
function stickyDir(): { dir: string; target: string } {
  const base = tempDir()
  const dir = join(base, 'tmp')
  mkdirSync(dir)
  chmodSync(dir, 0o1777)
  const target = join(base, 'precious')
  writeFileSync(target, TARGET_TEXT)
  return { dir, target }
}
const mkfifo = (p: string) => execFileSync('mkfifo', [p])
const precious = (t: string) => readFileSync(t, 'utf8')

type Plant = [name: string, plant: (at: string, target: string) => void, rootOnly?: boolean]
const PLANTS: Plant[] = [
  ['a symlink to a precious file', (at, target) => symlinkSync(target, at)],
  ['a dangling symlink', (at, target) => symlinkSync(`${target}.new`, at)],
  ['a FIFO', at => mkfifo(at)],
  ['a hard link to a precious file', (at, target) => linkSync(target, at)],
  ['a file owned by another user', at => { writeFileSync(at, '{"args":["evil"],"user":{"uid":0,"gid":0}}'); chownSync(at, 65534, 65534) }, true],
]

describe('writeFileAtomic: the temporary name', () => {
  for (const [what, plant, rootOnly] of PLANTS) {
    it.skipIf(rootOnly && !isRoot)(`${what} there: refused, target and file untouched`, () => {
      const { dir, target } = stickyDir()
      const file = join(dir, 'process.json'), tmp = join(dir, '.process.json.planted.tmp')
      writeFileSync(file, '{}')
      plant(tmp, target)
      expect(() => writeFileAtomic(file, 'new', 0o644, tmp)).toThrow(/EEXIST/)
      expect(precious(target)).toBe(TARGET_TEXT)
      expect(readFileSync(file, 'utf8')).toBe('{}')
    })
  }
  it('ends with the asked mode', () => {
    const dir = tempDir(), file = join(dir, 'f')
    writeFileAtomic(file, 'x', 0o640)
    expect(statSync(file).mode & 0o777).toBe(0o640)
    expect(readFileSync(file, 'utf8')).toBe('x')
  })
  it('a symlink AT the target is replaced, its target untouched', () => {
    const { dir, target } = stickyDir()
    const file = join(dir, 'f')
    symlinkSync(target, file)
    writeFileAtomic(file, 'new')
    expect(precious(target)).toBe(TARGET_TEXT)
    expect(statSync(file).isFile() && readFileSync(file, 'utf8')).toBe('new')
  })
})

describe('rewriteJsonFile / readJson: the file itself', () => {
  for (const [what, plant, rootOnly] of PLANTS) {
    it.skipIf(rootOnly && !isRoot)(`${what} at process.json: refused, nothing written`, () => {
      const { dir, target } = stickyDir()
      const file = join(dir, 'process.json')
      writeFileSync(target, '{"a":1}\n')
      plant(file, target)
      const before = statSync(target).mtimeMs
      let called = false
      expect(() => rewriteJsonFile(file, v => { called = true; return v })).toThrow(/refusing|symbolic link|cannot read/)
      expect(called).toBe(false)
      expect(precious(target)).toBe('{"a":1}\n')
      expect(statSync(target).mtimeMs).toBe(before)
      expect(() => readJson(file)).toThrow()
    })
  }
  it('in a directory others may write (/tmp): rewritten in place (same inode, mode kept)', () => {
    const { dir } = stickyDir()
    const file = join(dir, 'process.json')
    writeFileSync(file, '{"a":1,"pad":"' + 'x'.repeat(100) + '"}')
    chmodSync(file, 0o600)
    const ino = statSync(file).ino
    expect(isPrivateDir(dir)).toBe(false)
    rewriteJsonFile<{ a: number }, { a: number }>(file, v => ({ a: v.a + 1 }))
    expect(statSync(file).ino).toBe(ino)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ a: 2 })
  })
  it('in a private directory: replaced atomically (new inode, mode kept)', () => {
    const dir = tempDir()
    chmodSync(dir, 0o700)
    const file = join(dir, 'config.json')
    writeFileSync(file, '{"a":1}')
    chmodSync(file, 0o640)
    const ino = statSync(file).ino
    expect(isPrivateDir(dir)).toBe(true)
    rewriteJsonFile<{ a: number }, { a: number }>(file, v => ({ a: v.a + 1 }))
    expect(statSync(file).ino).not.toBe(ino)
    expect(statSync(file).mode & 0o777).toBe(0o640)
  })
  it('a failing rewrite writes nothing, and a parse error never quotes the content', () => {
    const { dir } = stickyDir()
    const file = join(dir, 'process.json')
    writeFileSync(file, 'root:$6$secret-hash:19000:0:99999:7:::\n')
    expect(() => readJson(file)).toThrow(/^malformed JSON in [^:]*$/)
    writeFileSync(file, '{"a":1}')
    expect(() => rewriteJsonFile(file, () => { throw new Error('no') })).toThrow('no')
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}')
  })
})

describe('runExec with process.json in a sticky /tmp', () => {
  it('rewrites a genuine process.json in place', () => {
    const { dir } = stickyDir()
    const file = join(dir, 'process.json')
    writeFileSync(file, fixtureText('process-exec-it.json'))
    runExec(file, { hostRoot: '/opt/runcvm' })
    expect(JSON.parse(readFileSync(file, 'utf8')).args[0]).toBe('/.runcvm/guest/scripts/runcvm-ctr-exec')
  })
  for (const [what, plant, rootOnly] of PLANTS) {
    it.skipIf(rootOnly && !isRoot)(`${what} at process.json: RunCVM error, target untouched`, () => {
      const { dir, target } = stickyDir()
      const file = join(dir, 'process.json')
      writeFileSync(target, fixtureText('process-exec-it.json'))
      const before = readFileSync(target)
      plant(file, target)
      expect(() => runExec(file, { hostRoot: '/opt/runcvm' })).toThrow(/refusing|symbolic link/i)
      expect(readFileSync(target).equals(before)).toBe(true)
    })
  }
})

describe('writeFileInPlace (container-side files the image may have planted things at)', () => {
  it('a regular file: same inode, new content', () => {
    const dir = tempDir(), file = join(dir, 'resolv.conf')
    writeFileSync(file, 'old old old\n')
    const ino = statSync(file).ino
    writeFileInPlace(file, 'new\n')
    expect(statSync(file).ino).toBe(ino)
    expect(readFileSync(file, 'utf8')).toBe('new\n')
  })
  it('a symlink: removed and replaced by a file, its target untouched', () => {
    const { dir, target } = stickyDir()
    const file = join(dir, 'resolv.conf')
    symlinkSync(target, file)
    writeFileInPlace(file, 'new\n')
    expect(precious(target)).toBe(TARGET_TEXT)
    expect(readFileSync(file, 'utf8')).toBe('new\n')
  })
  it('a FIFO: refused without blocking', () => {
    const dir = tempDir(), file = join(dir, 'resolv.conf')
    mkfifo(file)
    expect(() => writeFileInPlace(file, 'new\n')).toThrow()
  })
})
