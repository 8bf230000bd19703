// syncInPlace (the installer image's copy into a bind-mounted /opt/runcvm) must give the very tree
// installTree (runcvm-install-runtime, setup.sh's path) gives: same entries, bytes, modes, owner,
// link texts and file mtimes, from an empty target and from an older, different tree.
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { installTree } from '../../lib/install/steps.js'
import { isMountPoint, syncInPlace } from '../../lib/install/sync-in-place.js'
import { tempDir } from './helpers.js'

const ME = { uid: process.getuid!(), gid: process.getgid!() }

function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of readdirSync(root, { recursive: true }).map(String).sort()) {
    const st = lstatSync(join(root, p))
    const what = st.isSymbolicLink() ? `link ${readlinkSync(join(root, p))}` : st.isDirectory() ? 'dir' : `file ${readFileSync(join(root, p), 'base64')} ${Math.trunc(st.mtimeMs)}`
    out[p] = `${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
  }
  return out
}

function source(d: string): string {
  const src = join(d, 'src')
  mkdirSync(join(src, 'scripts'), { recursive: true }); mkdirSync(join(src, 'lib/sub'), { recursive: true })
  writeFileSync(join(src, 'scripts/runcvm-runtime'), '#!/bin/sh\n'); chmodSync(join(src, 'scripts/runcvm-runtime'), 0o775)
  writeFileSync(join(src, 'lib/sub/a.so'), 'A'); chmodSync(join(src, 'lib/sub/a.so'), 0o4755)
  writeFileSync(join(src, 'data'), 'data'); chmodSync(join(src, 'data'), 0o666)
  symlinkSync('lib/sub/a.so', join(src, 'link'))
  chmodSync(join(src, 'lib'), 0o777)
  return src
}

describe('syncInPlace', () => {
  it('into an empty directory: the same tree installTree makes', async () => {
    const d = tempDir(), src = source(d)
    mkdirSync(join(d, 'a')); mkdirSync(join(d, 'b')); mkdirSync(join(d, 'b/runcvm'))
    await installTree({ from: src, target: join(d, 'a/runcvm'), owner: ME, alive: () => false, retiredInUse: async () => false })
    const diff = syncInPlace(src, join(d, 'b/runcvm'), ME)
    expect(diff.added).toHaveLength(7)
    expect(snapshot(join(d, 'b/runcvm'))).toEqual(snapshot(join(d, 'a/runcvm')))
    expect(lstatSync(join(d, 'b/runcvm')).mode & 0o7777).toBe(lstatSync(join(d, 'a/runcvm')).mode & 0o7777)
    expect(syncInPlace(src, join(d, 'b/runcvm'), ME)).toEqual({ added: [], changed: [], removed: [] })
  })
  it('over an older tree: changed, added, removed and type-changed entries; no temp files left', async () => {
    const d = tempDir(), src = source(d), t = join(d, 't')
    mkdirSync(join(t, 'data'), { recursive: true }) // a directory where the source has a file
    writeFileSync(join(t, 'data/x'), 'x')
    mkdirSync(join(t, 'scripts')); writeFileSync(join(t, 'scripts/runcvm-runtime'), 'old')
    writeFileSync(join(t, 'stale'), 'gone soon')
    writeFileSync(join(t, 'link'), 'a file where the source has a link')
    const diff = syncInPlace(src, t, ME)
    expect(diff.removed).toEqual(['data/x', 'stale'])
    mkdirSync(join(d, 'a'))
    await installTree({ from: src, target: join(d, 'a/runcvm'), owner: ME, alive: () => false, retiredInUse: async () => false })
    expect(snapshot(t)).toEqual(snapshot(join(d, 'a/runcvm')))
    expect(readdirSync(t, { recursive: true }).map(String).filter(n => n.includes('.tmp'))).toEqual([])
  })
  it('isMountPoint reads the mount point field of mountinfo', () => {
    const mi = '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n600 22 8:1 /opt/runcvm /runcvm rw - ext4 /dev/sda1 rw\n'
    expect(isMountPoint('/runcvm', mi)).toBe(true)
    expect(isMountPoint('/opt', mi)).toBe(false)
  })
})
