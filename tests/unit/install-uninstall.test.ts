// Uninstall and the pieces it is made of, on real temp directories: daemon.json entry removal
// (pure and on disk, with backup), rp_filter persistence undone, the runcvm-doctor link, the
// refusal while a container uses the package, and the tree-in-use probe's parsing.
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import { removeRuntime } from '../../lib/install/daemon-json.js'
import { install, uninstall } from '../../lib/install/install.js'
import { patchSysctlText, SYSCTL_DROPIN_TEXT, unpatchSysctlText } from '../../lib/install/rp-filter.js'
import { linkDoctor, unlinkDoctor, type StepResult } from '../../lib/install/steps.js'
import { locate, mountsTree, parseMountinfo } from '../../lib/install/tree-use.js'
import { tempDir } from './helpers.js'

const ME = { uid: process.getuid!(), gid: process.getgid!() }
const NOW = new Date('2026-11-30T16:15:02.345Z')

describe('removeRuntime', () => {
  it('removes runcvm, keeps other runtimes and keys; drops an emptied runtimes object', () => {
    const both = '{"runtimes":{"runcvm":{"path":"/opt/runcvm/scripts/runcvm-runtime"},"other":{"path":"/x"}},"debug":true}'
    expect(JSON.parse(removeRuntime(both).text)).toEqual({ runtimes: { other: { path: '/x' } }, debug: true })
    expect(JSON.parse(removeRuntime('{"runtimes":{"runcvm":{"path":"/p"}},"a":1}').text)).toEqual({ a: 1 })
  })
  it('a default-runtime naming runcvm (--default-runtime) goes with it; another default stays', () => {
    expect(JSON.parse(removeRuntime('{"runtimes":{"runcvm":{"path":"/p"}},"default-runtime":"runcvm"}').text)).toEqual({})
    expect(JSON.parse(removeRuntime('{"runtimes":{"runcvm":{"path":"/p"},"crun":{"path":"/c"}},"default-runtime":"crun"}').text))
      .toEqual({ runtimes: { crun: { path: '/c' } }, 'default-runtime': 'crun' })
  })
  it('nothing to remove: unchanged, byte for byte; malformed JSON throws', () => {
    for (const t of ['', '{"a":1}', '{"runtimes":{"x":{}}}']) expect(removeRuntime(t)).toEqual({ text: t, changed: false })
    expect(() => removeRuntime('{')).toThrow(ConfigError)
  })
})

describe('unpatchSysctlText', () => {
  it('restores what patchSysctlText changed and nothing else', () => {
    const orig = '# keep me\nnet.ipv4.conf.all.rp_filter = 1\nnet.ipv4.ip_forward=1\nnet/ipv4/conf/default/rp_filter=1\n'
    const patched = patchSysctlText(orig).text
    expect(patched).not.toBe(orig)
    expect(unpatchSysctlText(patched)).toEqual({ text: orig, changed: true })
    expect(unpatchSysctlText(orig)).toEqual({ text: orig, changed: false })
  })
})

describe('tree-use (mountinfo)', () => {
  const HOST = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '30 22 8:17 / /work rw,relatime shared:5 - ext4 /dev/sdb1 rw',
  ].join('\n')
  it('parses fields and octal escapes', () => {
    expect(parseMountinfo('40 22 8:1 /opt/run\\040cvm /x\\040y rw - ext4 /dev/sda1 rw\n')).toEqual([{ majmin: '8:1', root: '/opt/run cvm', mountPoint: '/x y' }])
  })
  it('locates a path on the filesystem of its longest mount point', () => {
    expect(locate('/opt/runcvm', parseMountinfo(HOST))).toEqual({ majmin: '8:1', root: '/opt/runcvm' })
    expect(locate('/work/lanes/e/dist/opt/runcvm', parseMountinfo(HOST))).toEqual({ majmin: '8:17', root: '/lanes/e/dist/opt/runcvm' })
  })
  it("a container's package bind (also after the tree was renamed aside) counts; other mounts do not", () => {
    const tree = { majmin: '8:1', root: '/opt/runcvm.old-12-abcdef' }
    const ctr = parseMountinfo('600 590 8:1 /opt/runcvm.old-12-abcdef /.runcvm/guest ro - ext4 /dev/sda1 rw\n601 590 0:50 / / rw - overlay overlay rw')
    expect(mountsTree(ctr, tree)).toBe(true)
    expect(mountsTree(ctr, { majmin: '8:1', root: '/opt/runcvm' })).toBe(false)
    expect(mountsTree(parseMountinfo('700 1 8:2 /opt/runcvm.old-12-abcdef /x ro - ext4 /dev/sda2 rw'), tree)).toBe(false)
    expect(mountsTree(parseMountinfo('700 1 8:1 /opt/runcvm.old-12-abcdef/kernels /x ro - ext4 /dev/sda1 rw'), tree)).toBe(true)
  })
})

describe('runcvm-doctor link', () => {
  it('links, is idempotent, replaces an older link of ours, leaves a foreign file alone; unlink removes only ours', () => {
    const d = tempDir(), bin = join(d, 'bin'), target = join(d, 'opt/runcvm'), link = join(bin, 'runcvm-doctor')
    const o = { binDir: bin, target, owner: ME }
    expect(linkDoctor(o).changes).toEqual([{ path: bin, what: 'created' }, { path: link, what: `linked to ${target}/scripts/runcvm-doctor` }])
    expect(linkDoctor(o).changes).toEqual([])
    const other = { ...o, target: join(d, 'other/runcvm') }
    expect(linkDoctor(other).changes).toHaveLength(1)
    expect(readlinkSync(link)).toBe(join(d, 'other/runcvm/scripts/runcvm-doctor'))
    expect(unlinkDoctor(o).warnings[0]).toMatch(/left .* alone/)
    expect(unlinkDoctor(other).changes).toEqual([{ path: link, what: 'removed' }])
    writeFileSync(link, 'mine\n')
    const r = linkDoctor(o)
    expect(r.changes).toEqual([])
    expect(r.warnings[0]).toMatch(/left .*runcvm-doctor alone: it is a regular file not made by RunCVM/)
    expect(readFileSync(link, 'utf8')).toBe('mine\n')
    expect(readdirSync(bin)).toEqual(['runcvm-doctor'])
  })
})

describe('uninstall (temp paths, no dockerd)', () => {
  async function installed() {
    const d = tempDir()
    const src = join(d, 'pkg')
    mkdirSync(join(src, 'scripts'), { recursive: true })
    writeFileSync(join(src, 'scripts/runcvm-runtime'), '#!/bin/sh\n')
    mkdirSync(join(d, 'opt')); mkdirSync(join(d, 'docker')); mkdirSync(join(d, 'sysctl.d'))
    writeFileSync(join(d, 'docker/daemon.json'), '{"runtimes":{"other":{"path":"/x"}},"debug":true}\n')
    const orig = 'net.ipv4.conf.all.rp_filter = 1\n'
    writeFileSync(join(d, 'sysctl.conf'), patchSysctlText(orig).text)
    writeFileSync(join(d, 'sysctl.d/99-runcvm-rp-filter.conf'), SYSCTL_DROPIN_TEXT)
    const base = {
      dockerd: false, dryRun: false, target: join(d, 'opt/runcvm'), daemonJson: join(d, 'docker/daemon.json'), binDir: join(d, 'bin'),
      sysctlFiles: [join(d, 'sysctl.conf'), join(d, 'sysctl.d/99-runcvm-rp-filter.conf')], sysctlDropIn: join(d, 'sysctl.d/99-runcvm-rp-filter.conf'),
      owner: ME, inUse: () => 0,
    }
    const ui = { step: () => {}, done: (_: StepResult) => {}, confirm: async () => true }
    await install({ ...base, from: src, setRpFilter: false, runtimePath: join(d, 'opt/runcvm/scripts/runcvm-runtime'), procConf: join(d, 'none') }, ui)
    return { d, base, ui, orig }
  }

  it('removes the entry (backup kept), the link, the persisted rp_filter, the tree; a second run changes nothing', async () => {
    const { d, base, ui, orig } = await installed()
    expect(JSON.parse(readFileSync(join(d, 'docker/daemon.json'), 'utf8')).runtimes.runcvm).toBeDefined()
    const changes = await uninstall({ ...base, force: false, now: NOW } as never, ui)
    expect(changes.map(c => c.path)).toEqual([
      expect.stringMatching(/docker\/daemon\.json\.runcvm-backup-\d{8}T\d{6}Z(\.1)?$/), join(d, 'docker/daemon.json'),
      join(d, 'bin/runcvm-doctor'), join(d, 'sysctl.conf'), join(d, 'sysctl.d/99-runcvm-rp-filter.conf'), join(d, 'opt/runcvm'),
    ])
    expect(JSON.parse(readFileSync(join(d, 'docker/daemon.json'), 'utf8'))).toEqual({ runtimes: { other: { path: '/x' } }, debug: true })
    expect(readFileSync(join(d, 'sysctl.conf'), 'utf8')).toBe(orig)
    expect(readdirSync(join(d, 'opt'))).toEqual([])
    expect(readdirSync(join(d, 'bin'))).toEqual([])
    expect(readdirSync(join(d, 'sysctl.d'))).toEqual([])
    expect(await uninstall({ ...base, force: false } as never, ui)).toEqual([])
  })

  it('refuses while a container uses the package (or a retired copy), changing nothing; --force removes it', async () => {
    const { d, base, ui } = await installed()
    mkdirSync(join(d, 'opt/runcvm.old-1-abcdef'))
    const busy = (p: string) => (p.endsWith('.old-1-abcdef') ? 2 : 0)
    const before = readFileSync(join(d, 'docker/daemon.json'), 'utf8')
    await expect(uninstall({ ...base, force: false, inUse: busy } as never, ui)).rejects.toThrow(/RunCVM containers are still running: .*runcvm\.old-1-abcdef \(2 containers\); nothing was removed/)
    expect(readFileSync(join(d, 'docker/daemon.json'), 'utf8')).toBe(before)
    expect(lstatSync(join(d, 'bin/runcvm-doctor')).isSymbolicLink()).toBe(true)
    expect(readdirSync(join(d, 'opt')).sort()).toEqual(['runcvm', 'runcvm.old-1-abcdef'])
    const forced = await uninstall({ ...base, force: true, inUse: busy } as never, ui)
    expect(forced.map(c => c.path)).toContain(join(d, 'opt/runcvm.old-1-abcdef'))
    expect(readdirSync(join(d, 'opt'))).toEqual([])
  })

  it('leaves a drop-in someone edited, and a foreign doctor link, alone', async () => {
    const { d, base, ui } = await installed()
    writeFileSync(join(d, 'sysctl.d/99-runcvm-rp-filter.conf'), SYSCTL_DROPIN_TEXT + 'vm.swappiness = 1\n')
    const link = join(d, 'bin/runcvm-doctor')
    const { rmSync } = await import('node:fs')
    rmSync(link); symlinkSync('/usr/bin/true', link)
    await uninstall({ ...base, force: false } as never, ui)
    expect(readdirSync(join(d, 'sysctl.d'))).toEqual(['99-runcvm-rp-filter.conf'])
    expect(readlinkSync(link)).toBe('/usr/bin/true')
  })
})
