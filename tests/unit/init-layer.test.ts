// lib/oci/init-layer.ts: finding Docker's init layer from mountinfo, resolving a path inside a
// hostile root (symlinks followed inside it), and the edge on a real temporary tree.
import { describe, expect, it } from 'vitest'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyInitLayerMountPoints, initLayerOf, resolveInRoot, type FsLook } from '../../lib/oci/init-layer.js'

const D = '/var/lib/docker/overlay2'
const ROOT = `${D}/abc/merged`
const line = (mp: string, fstype: string, lower: string) =>
  `273 266 0:38 / ${mp} rw,relatime - ${fstype} overlay rw,lowerdir=${lower},upperdir=${D}/abc/diff,workdir=${D}/abc/work`

describe('initLayerOf', () => {
  const links: Record<string, string> = { [`${D}/l/INIT`]: '../abc-init/diff', [`${D}/l/IMG`]: '../img/diff' }
  const readlink = (p: string) => { if (!(p in links)) throw new Error('EINVAL'); return links[p] }
  it('takes the first lowerdir of the root\'s overlay when it is the -init layer', () => {
    const mi = ['1 0 8:1 / / rw - ext4 /dev/sda rw', line(ROOT, 'overlay', `${D}/l/INIT:${D}/l/IMG`)].join('\n')
    expect(initLayerOf(mi, ROOT, readlink)).toBe(`${D}/abc-init/diff`)
  })
  it('nothing for another mount, a non-overlay root, or a first layer that is not -init', () => {
    expect(initLayerOf(line('/other', 'overlay', `${D}/l/INIT`), ROOT, readlink)).toBeUndefined()
    expect(initLayerOf(line(ROOT, 'fuse.fuse-overlayfs', `${D}/l/INIT`), ROOT, readlink)).toBeUndefined()
    expect(initLayerOf(line(ROOT, 'overlay', `${D}/l/IMG:${D}/l/INIT`), ROOT, readlink)).toBeUndefined()
  })
  it('unescapes the mount point (\\040 for a space)', () => {
    expect(initLayerOf(line('/a\\040b', 'overlay', `${D}/l/INIT`), '/a b', readlink)).toBe(`${D}/abc-init/diff`)
  })
})

describe('resolveInRoot', () => {
  // A root with /lib -> usr/lib (usrmerge), /var/run -> /run, /etc/passwd a file, a loop.
  const tree: Record<string, ReturnType<FsLook['kind']>> = {
    '/r/usr': { t: 'dir' }, '/r/usr/lib': { t: 'dir' }, '/r/lib': { t: 'link', target: 'usr/lib' },
    '/r/var': { t: 'dir' }, '/r/var/run': { t: 'link', target: '/run' }, '/r/run': { t: 'dir' },
    '/r/etc': { t: 'dir' }, '/r/etc/passwd': { t: 'other' }, '/r/loop': { t: 'link', target: 'loop' },
    '/r/up': { t: 'link', target: '../../../../usr' },
  }
  const fs: FsLook = { kind: p => tree[p] }
  it('follows links inside the root', () => {
    expect(resolveInRoot('/r', '/lib/modules/6.1', fs)).toEqual({ path: '/usr/lib/modules/6.1', exists: false })
    expect(resolveInRoot('/r', '/var/run/virtiofsd', fs)).toEqual({ path: '/run/virtiofsd', exists: false })
    expect(resolveInRoot('/r', '/run', fs)).toEqual({ path: '/run', exists: true })
    expect(resolveInRoot('/r', '/vm', fs)).toEqual({ path: '/vm', exists: false })
  })
  it('never leaves the root through .. and gives up on files and loops', () => {
    expect(resolveInRoot('/r', '/up/lib/x', fs)).toEqual({ path: '/usr/lib/x', exists: false })
    expect(resolveInRoot('/r', '/etc/passwd/x', fs)).toBeUndefined()
    expect(resolveInRoot('/r', '/loop/x', fs)).toBeUndefined()
  })
})

describe('applyInitLayerMountPoints (temporary tree)', () => {
  it('creates missing mount points in the init layer only, copies existing parents\' modes, drops /.dockerenv', () => {
    const t = mkdtempSync(join(tmpdir(), 'init-layer-'))
    const merged = join(t, 'merged'), init = join(t, 'abc-init', 'diff'), l = join(t, 'l')
    for (const d of [merged, init, l, join(merged, 'usr', 'lib'), join(merged, 'run')]) mkdirSync(d, { recursive: true })
    symlinkSync('usr/lib', join(merged, 'lib'))
    symlinkSync('/etc', join(merged, 'evil')) // would point at the host's /etc if followed outside
    writeFileSync(join(init, '.dockerenv'), '')
    symlinkSync('../abc-init/diff', join(l, 'INIT'))
    const mi = join(t, 'mountinfo')
    writeFileSync(mi, `273 266 0:38 / ${merged} rw - overlay overlay rw,lowerdir=${l}/INIT,upperdir=x\n`)
    const made = applyInitLayerMountPoints(merged, ['/.runcvm', '/vm', '/run', '/lib/modules/6.1', '/evil/runcvm-x'], mi)
    expect(made).toEqual(['/.runcvm', '/vm', '/usr/lib/modules/6.1', '/etc/runcvm-x', '-/.dockerenv'])
    expect(readdirSync(init).sort()).toEqual(['.runcvm', 'etc', 'usr', 'vm'])
    expect(lstatSync(join(init, 'usr', 'lib', 'modules', '6.1')).isDirectory()).toBe(true)
    expect(lstatSync(join(init, 'usr')).mode & 0o7777).toBe(lstatSync(join(merged, 'usr')).mode & 0o7777)
    expect(existsSync('/etc/runcvm-x')).toBe(false)
    expect(existsSync(join(merged, 'vm'))).toBe(false) // the merged root itself is never written
  })
  it('does nothing without an init layer', () => {
    const t = mkdtempSync(join(tmpdir(), 'init-layer-'))
    writeFileSync(join(t, 'mountinfo'), '')
    expect(applyInitLayerMountPoints(t, ['/vm'], join(t, 'mountinfo'))).toEqual([])
    expect(existsSync(join(t, 'vm'))).toBe(false)
  })
})
