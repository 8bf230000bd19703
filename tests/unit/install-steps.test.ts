// The installer's actions on real temp directories (no fs mocks): what they change, that a second
// run changes nothing, the installed tree's owner and modes, and hostile files planted at every
// name the installer could use (a symlink, a file owned by another user, a FIFO): the planted
// thing and whatever it points at stay untouched, and the installer says what it refused.
import { spawnSync } from 'node:child_process'
import {
  chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync,
  symlinkSync, writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import { createExclusive, readRegular, RefusedError, resolveEditable, type Owner } from '../../lib/install/host-files.js'
import { install } from '../../lib/install/install.js'
import { SYSCTL_DROPIN_TEXT } from '../../lib/install/rp-filter.js'
import { backupName, checkRpFilter, installTree, registerRuntime, reloadDockerd, type StepResult } from '../../lib/install/steps.js'
import { tempDir } from './helpers.js'

const RT = '/opt/runcvm/scripts/runcvm-runtime'
const ME: Owner = { uid: process.getuid!(), gid: process.getgid!() }
/** chown to another user needs root; the suites that plant foreign-owned files need it. */
const ROOT = ME.uid === 0
const OTHER = 4242
const NOW = new Date('2026-11-30T16:15:02.345Z')

const mkfifo = (p: string) => { const r = spawnSync('mkfifo', [p]); if (r.status !== 0) throw new Error(`mkfifo ${p}: ${r.stderr}`) }
const foreignFile = (p: string, text = '{}\n') => { writeFileSync(p, text); chownSync(p, OTHER, OTHER) }

/** Everything observable about a path without following it: kind, owner, mode, link text or bytes. */
function snap(p: string): string {
  let st
  try { st = lstatSync(p) } catch { return 'absent' }
  const head = `${st.mode.toString(8)} ${st.uid}:${st.gid}`
  if (st.isSymbolicLink()) return `${head} -> ${readlinkSync(p)}`
  if (st.isFile()) return `${head} ${readFileSync(p, 'base64')}`
  if (st.isDirectory()) return `${head} [${readdirSync(p).sort().map(n => `${n}=${snap(join(p, n))}`).join(',')}]`
  return `${head} special`
}

/** A hostile thing at `name`, and the victim it may point at; returns what must stay unchanged. */
type Plant = (name: string, dir: string) => string[]
const PLANTS: Record<string, Plant> = {
  'symlink to a victim file': (name, dir) => {
    const victim = join(dir, 'victim.json'); writeFileSync(victim, '{"victim":true}\n')
    symlinkSync(victim, name); lchownSync(name, OTHER, OTHER)
    return [name, victim]
  },
  'file owned by another user': name => { foreignFile(name, '{"foreign":true}\n'); return [name] },
  FIFO: name => { mkfifo(name); return [name] },
}

function expectRefused(fn: () => unknown, path: string): RefusedError {
  let err: unknown
  try { fn() } catch (e) { err = e }
  expect(err).toBeInstanceOf(RefusedError)
  expect((err as RefusedError).path).toBe(path)
  expect((err as Error).message).toMatch(new RegExp(`^refusing to write ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*; nothing was changed there$`))
  return err as RefusedError
}
const noTemps = (dir: string) => expect(readdirSync(dir).filter(n => n.endsWith('.tmp'))).toEqual([])

describe('host-files', () => {
  it('readRegular refuses a FIFO at once (no blocking open) and a symlink (no following)', () => {
    const d = tempDir()
    mkfifo(join(d, 'fifo'))
    expectRefused(() => readRegular(join(d, 'fifo')), join(d, 'fifo'))
    writeFileSync(join(d, 'real'), 'x')
    symlinkSync(join(d, 'real'), join(d, 'link'))
    expectRefused(() => readRegular(join(d, 'link')), join(d, 'link'))
    expect(readRegular(join(d, 'real'))).toBe('x')
  })
  it('readRegular reads /proc/sys files, which report size 0, to their end', () => {
    expect(readRegular('/proc/sys/net/ipv4/conf/all/rp_filter')).toMatch(/^[012]\n$/)
  })
  it('readRegular bounds the size', () => {
    const d = tempDir()
    writeFileSync(join(d, 'big'), 'x'.repeat(11))
    expect(() => readRegular(join(d, 'big'), undefined, 10)).toThrow(/larger than 10 bytes/)
  })
  it('createExclusive never reuses a name: symlink, file and FIFO there are refused and untouched', () => {
    const d = tempDir()
    writeFileSync(join(d, 'victim'), 'v')
    symlinkSync(join(d, 'victim'), join(d, 'a'))
    writeFileSync(join(d, 'b'), 'b')
    mkfifo(join(d, 'c'))
    const before = snap(d)
    for (const n of ['a', 'b', 'c']) expect(expectRefused(() => createExclusive(join(d, n), 'new', 0o600), join(d, n)).message).toMatch(/already exists at that name/)
    expect(snap(d)).toBe(before)
    createExclusive(join(d, 'd'), 'new', 0o640)
    expect(readFileSync(join(d, 'd'), 'utf8')).toBe('new')
    expect(statSync(join(d, 'd')).mode & 0o777).toBe(0o640)
  })
  it('resolveEditable follows our symlink to our regular file; refuses a dangling link, a directory, a shared directory', () => {
    const d = tempDir()
    writeFileSync(join(d, 'real.json'), '{}')
    symlinkSync('real.json', join(d, 'link.json'))
    expect(resolveEditable(join(d, 'link.json'), ME)).toMatchObject({ name: join(d, 'link.json'), path: join(d, 'real.json'), via: join(d, 'real.json') })
    symlinkSync('missing.json', join(d, 'dangling.json'))
    expect(expectRefused(() => resolveEditable(join(d, 'dangling.json'), ME), join(d, 'dangling.json')).message).toMatch(/whose target .*missing\.json does not exist/)
    mkdirSync(join(d, 'dir'))
    expect(expectRefused(() => resolveEditable(join(d, 'dir'), ME), join(d, 'dir')).message).toMatch(/it is a directory/)
    const shared = join(d, 'shared'); mkdirSync(shared); chmodSync(shared, 0o777)
    expect(expectRefused(() => resolveEditable(join(shared, 'x.json'), ME), join(shared, 'x.json')).message).toMatch(/writable by group or others/)
  })
})

describe('registerRuntime (daemon.json)', () => {
  const base = (dir: string, extra: Partial<Parameters<typeof registerRuntime>[0]> = {}) =>
    ({ file: join(dir, 'daemon.json'), runtimePath: RT, owner: ME, now: NOW, ...extra })

  it('merges, keeps a byte-exact backup with the same mode, keeps the mode; a second run changes nothing', () => {
    const d = tempDir(), f = join(d, 'daemon.json')
    const old = '{ "log-driver": "json-file",\n  "runtimes": { "sysbox": { "path": "/usr/bin/sysbox-runc" } } }\n'
    writeFileSync(f, old); chmodSync(f, 0o640)
    const r = registerRuntime(base(d))
    const backup = join(d, 'daemon.json.runcvm-backup-20261130T161502Z')
    expect(backupName(f, NOW)).toBe(backup)
    expect(r.changes).toEqual([
      { path: backup, what: 'backup of the previous daemon.json' },
      { path: f, what: `set runtimes.runcvm.path = ${RT}` },
    ])
    expect(readFileSync(backup, 'utf8')).toBe(old)
    expect(statSync(backup).mode & 0o777).toBe(0o640)
    expect(statSync(f).mode & 0o777).toBe(0o640)
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ 'log-driver': 'json-file', runtimes: { sysbox: { path: '/usr/bin/sysbox-runc' }, runcvm: { path: RT } } })
    const again = registerRuntime(base(d, { now: new Date(NOW.getTime() + 60_000) }))
    expect(again.changes).toEqual([])
    expect(again.lines).toEqual([`runtimes.runcvm.path is already ${RT}`])
    expect(readdirSync(d).sort()).toEqual(['daemon.json', 'daemon.json.runcvm-backup-20261130T161502Z'])
  })

  it('creates a missing file (and directory) with mode 0644, no backup', () => {
    const d = join(tempDir(), 'docker'), f = join(d, 'daemon.json')
    const r = registerRuntime(base(d))
    expect(r.changes.map(c => c.path)).toEqual([d, f])
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ runtimes: { runcvm: { path: RT } } })
    expect(statSync(f).mode & 0o777).toBe(0o644)
    expect(readdirSync(d)).toEqual(['daemon.json'])
  })

  it('updates a symlinked daemon.json through its target: the link stays a link, the backup sits beside the target', () => {
    const d = tempDir(), etc = join(d, 'etc'), data = join(d, 'data')
    mkdirSync(etc); mkdirSync(data)
    writeFileSync(join(data, 'daemon.json'), '{"debug":true}')
    symlinkSync('../data/daemon.json', join(etc, 'daemon.json'))
    const r = registerRuntime(base(etc))
    expect(readlinkSync(join(etc, 'daemon.json'))).toBe('../data/daemon.json')
    expect(JSON.parse(readFileSync(join(data, 'daemon.json'), 'utf8'))).toEqual({ debug: true, runtimes: { runcvm: { path: RT } } })
    expect(readFileSync(join(data, 'daemon.json.runcvm-backup-20261130T161502Z'), 'utf8')).toBe('{"debug":true}')
    expect(r.changes.at(-1)!.what).toBe(`set runtimes.runcvm.path = ${RT} (through the symlink ${join(etc, 'daemon.json')})`)
    expect(readdirSync(etc)).toEqual(['daemon.json'])
  })

  it('malformed JSON: ConfigError, file untouched, no backup, no temp file', () => {
    const d = tempDir(), f = join(d, 'daemon.json')
    writeFileSync(f, '{ "a": ')
    const before = snap(d)
    expect(() => registerRuntime(base(d))).toThrow(ConfigError)
    expect(snap(d)).toBe(before)
  })

  it('--dry-run: says what it would change, changes nothing', () => {
    const d = tempDir(), f = join(d, 'daemon.json')
    writeFileSync(f, '{}')
    const before = snap(d)
    const r = registerRuntime(base(d, { dryRun: true }))
    expect(r.changes.map(c => c.path)).toEqual([join(d, 'daemon.json.runcvm-backup-20261130T161502Z'), f])
    expect(r.lines[0]).toMatch(/^would keep the previous file as /)
    expect(snap(d)).toBe(before)
  })

  describe.skipIf(!ROOT).each(Object.entries(PLANTS))('%s planted', (_, plant) => {
    it('at daemon.json: refused, planted thing and victim untouched', () => {
      const d = tempDir(), f = join(d, 'daemon.json')
      plant(f, d)
      const before = snap(d)
      expectRefused(() => registerRuntime(base(d)), f)
      expect(snap(d)).toBe(before)
    })
    it('at the backup name: refused before daemon.json is changed', () => {
      const d = tempDir(), f = join(d, 'daemon.json')
      writeFileSync(f, '{}')
      plant(backupName(f, NOW), d)
      const before = snap(d)
      expectRefused(() => registerRuntime(base(d)), backupName(f, NOW))
      expect(snap(d)).toBe(before)
    })
    it('at the temp name: refused, daemon.json unchanged (its backup is the only new file)', () => {
      const d = tempDir(), f = join(d, 'daemon.json'), tmp = join(d, '.daemon.json.runcvm-planted.tmp')
      writeFileSync(f, '{}')
      plant(tmp, d)
      const before = snap(tmp)
      expectRefused(() => registerRuntime(base(d, { tempName: tmp })), tmp)
      expect(readFileSync(f, 'utf8')).toBe('{}')
      expect(snap(tmp)).toBe(before)
    })
    it('as the target of a daemon.json symlink of ours: refused', () => {
      const d = tempDir(), f = join(d, 'daemon.json'), t = join(d, 'real.json')
      plant(t, d)
      symlinkSync(t, f)
      const before = snap(d)
      expectRefused(() => registerRuntime(base(d)), f)
      expect(snap(d)).toBe(before)
    })
  })
})

describe('installTree', () => {
  /** A source package: dirs 0777, a 0666 file, a setuid file, a symlink, a file owned by someone else. */
  function source(dir: string): string {
    const src = join(dir, 'src')
    mkdirSync(join(src, 'scripts'), { recursive: true })
    mkdirSync(join(src, 'usr/bin'), { recursive: true })
    writeFileSync(join(src, 'scripts/runcvm-runtime'), '#!/bin/sh\n')
    chmodSync(join(src, 'scripts/runcvm-runtime'), 0o777)
    writeFileSync(join(src, 'usr/bin/tool'), 'tool')
    chmodSync(join(src, 'usr/bin/tool'), 0o4775)
    writeFileSync(join(src, 'data'), 'data')
    chmodSync(join(src, 'data'), 0o666)
    symlinkSync('usr/bin/tool', join(src, 'link'))
    chmodSync(join(src, 'usr'), 0o777)
    if (ROOT) chownSync(join(src, 'data'), OTHER, OTHER)
    return src
  }
  const opts = (dir: string, src: string, extra: Partial<Parameters<typeof installTree>[0]> = {}) =>
    ({ from: src, target: join(dir, 'opt', 'runcvm'), owner: ME, alive: () => false, retiredInUse: async () => false, ...extra })
  const walk = (root: string): string[] => readdirSync(root, { recursive: true }).map(String).map(p => join(root, p))

  it('fresh install: no group/other write and no setuid anywhere, every entry owned by the installer; a second run changes nothing', async () => {
    const d = tempDir(), src = source(d)
    mkdirSync(join(d, 'opt'), { mode: 0o755 })
    const r = await installTree(opts(d, src))
    const target = join(d, 'opt', 'runcvm')
    expect(r.changes).toEqual([{ path: target, what: 'fresh install of 7 entries' }])
    for (const p of [target, ...walk(target)]) {
      const st = lstatSync(p)
      expect([p, st.uid, st.gid]).toEqual([p, ME.uid, ME.gid])
      if (!st.isSymbolicLink()) expect([p, (st.mode & 0o7022).toString(8)]).toEqual([p, '0'])
    }
    expect(statSync(join(target, 'usr/bin/tool')).mode & 0o7777).toBe(0o755)
    expect(statSync(join(target, 'data')).mode & 0o7777).toBe(0o644)
    expect(statSync(join(target, 'usr')).mode & 0o7777).toBe(0o755)
    expect(readlinkSync(join(target, 'link'))).toBe('usr/bin/tool')
    expect(readdirSync(join(d, 'opt'))).toEqual(['runcvm'])
    const again = await installTree(opts(d, src))
    expect(again.changes).toEqual([])
    expect(again.lines).toEqual([`${target} already up to date (7 entries compared); nothing changed`])
  })

  it('upgrade: swaps the whole tree; the old one is removed, or kept while containers use it (then removed by a later run)', async () => {
    const d = tempDir(), src = source(d), target = join(d, 'opt', 'runcvm')
    mkdirSync(join(d, 'opt'))
    await installTree(opts(d, src))
    writeFileSync(join(src, 'data'), 'DATA2')
    const kept = await installTree(opts(d, src, { retiredInUse: async () => true }))
    expect(kept.changes).toEqual([{ path: target, what: '1 changed (data)' }])
    expect(readFileSync(join(target, 'data'), 'utf8')).toBe('DATA2')
    const retired = readdirSync(join(d, 'opt')).filter(n => n !== 'runcvm')
    expect(retired).toHaveLength(1)
    expect(retired[0]).toMatch(new RegExp(`^runcvm\\.old-${process.pid}-[A-Za-z0-9]{6}$`))
    expect(readFileSync(join(d, 'opt', retired[0], 'data'), 'utf8')).toBe('data')
    const later = await installTree(opts(d, src))
    expect(later.changes).toEqual([{ path: join(d, 'opt', retired[0]), what: 'removed (leftover of an earlier run)' }])
    expect(readdirSync(join(d, 'opt'))).toEqual(['runcvm'])
  })

  it('--dry-run: reports the install, creates nothing', async () => {
    const d = tempDir(), src = source(d)
    mkdirSync(join(d, 'opt'))
    const r = await installTree(opts(d, src, { dryRun: true }))
    expect(r.lines).toEqual([`would install ${src} at ${join(d, 'opt', 'runcvm')}: fresh install of 7 entries`])
    expect(readdirSync(join(d, 'opt'))).toEqual([])
  })

  it('refuses a parent directory others can write', async () => {
    const d = tempDir(), src = source(d)
    mkdirSync(join(d, 'opt')); chmodSync(join(d, 'opt'), 0o777)
    await expect(installTree(opts(d, src))).rejects.toThrow(/writable by group or others/)
    expect(readdirSync(join(d, 'opt'))).toEqual([])
  })

  describe.skipIf(!ROOT)('hostile names', () => {
    const TARGET_PLANTS: Record<string, (p: string, d: string) => void> = {
      'a symlink to a victim directory': (p, d) => { mkdirSync(join(d, 'victim')); writeFileSync(join(d, 'victim', 'keep'), 'k'); symlinkSync(join(d, 'victim'), p) },
      'a directory owned by another user': p => { mkdirSync(p); writeFileSync(join(p, 'keep'), 'k'); chownSync(p, OTHER, OTHER) },
      'a FIFO': p => mkfifo(p),
      'a regular file': p => writeFileSync(p, 'x'),
    }
    it.each(Object.entries(TARGET_PLANTS))('target is %s: refused, untouched', async (_, plant) => {
      const d = tempDir(), src = source(d), target = join(d, 'opt', 'runcvm')
      mkdirSync(join(d, 'opt'))
      plant(target, d)
      const before = snap(d)
      await expect(installTree(opts(d, src))).rejects.toThrow(RefusedError)
      expect(snap(d)).toBe(before)
    })

    it('leftover-like names that are not directories of ours are left alone, and said so', async () => {
      const d = tempDir(), src = source(d), opt = join(d, 'opt')
      mkdirSync(opt)
      mkdirSync(join(d, 'victim')); writeFileSync(join(d, 'victim', 'keep'), 'k')
      symlinkSync(join(d, 'victim'), join(opt, 'runcvm.old-1'))
      mkfifo(join(opt, 'runcvm.new-2'))
      mkdirSync(join(opt, 'runcvm.old-3')); writeFileSync(join(opt, 'runcvm.old-3', 'keep'), 'k'); chownSync(join(opt, 'runcvm.old-3'), OTHER, OTHER)
      writeFileSync(join(opt, 'runcvm.new-4-abcdef'), 'file')
      const before = { victim: snap(join(d, 'victim')), ...Object.fromEntries(readdirSync(opt).map(n => [n, snap(join(opt, n))])) }
      const r = await installTree(opts(d, src))
      expect(r.warnings.sort()).toEqual(['runcvm.new-2', 'runcvm.new-4-abcdef', 'runcvm.old-1', 'runcvm.old-3']
        .map(n => `left ${join(opt, n)} alone: not a directory owned by uid ${ME.uid}`))
      expect({ victim: snap(join(d, 'victim')), ...Object.fromEntries(readdirSync(opt).filter(n => n !== 'runcvm').map(n => [n, snap(join(opt, n))])) }).toEqual(before)
    })
  })
})

describe('checkRpFilter', () => {
  function host(all: string, dflt: string, sysctl: Record<string, string> = {}) {
    const d = tempDir(), proc = join(d, 'proc'), etc = join(d, 'sysctl.d')
    for (const [w, v] of [['all', all], ['default', dflt]]) { mkdirSync(join(proc, w), { recursive: true }); writeFileSync(join(proc, w, 'rp_filter'), v) }
    mkdirSync(etc)
    for (const [n, t] of Object.entries(sysctl)) writeFileSync(join(etc, n), t)
    return { d, proc, etc, files: Object.keys(sysctl).map(n => join(etc, n)), dropIn: join(etc, '99-runcvm-rp-filter.conf') }
  }
  const run = (h: ReturnType<typeof host>, set: boolean, files = h.files): StepResult =>
    checkRpFilter({ procConf: h.proc, set, sysctlFiles: files, dropIn: h.dropIn, owner: ME })

  it('without --set-rp-filter: explains in one paragraph and changes nothing, not even strict sysctl files', () => {
    const h = host('1\n', '1\n', { '60-strict.conf': 'net.ipv4.conf.all.rp_filter = 1\n' })
    const before = snap(h.d)
    const r = run(h, false)
    expect(r.changes).toEqual([])
    expect(r.lines).toHaveLength(1)
    expect(r.lines[0]).toMatch(/^Found net\.ipv4\.conf\.all\.rp_filter is 1 and net\.ipv4\.conf\.default\.rp_filter is 1 on this host[^]*--set-rp-filter\.$/)
    expect(snap(h.d)).toBe(before)
  })

  it('values already fine: nothing to do either way', () => {
    const h = host('2\n', '1\n')
    expect(run(h, true)).toEqual({ changes: [], lines: ['net.ipv4.conf.all.rp_filter is 2 (loose); nothing to do'], warnings: [] })
  })

  it('with --set-rp-filter: writes both values, patches the strict file (no drop-in needed), keeps its mode', () => {
    const h = host('1\n', '0\n', { '60-strict.conf': 'a=1\nnet.ipv4.conf.all.rp_filter = 1\n' })
    chmodSync(h.files[0], 0o640)
    const r = run(h, true)
    expect(r.changes.map(c => c.path)).toEqual([join(h.proc, 'all/rp_filter'), join(h.proc, 'default/rp_filter'), h.files[0]])
    expect(readFileSync(join(h.proc, 'all/rp_filter'), 'utf8')).toBe('2\n')
    expect(readFileSync(join(h.proc, 'default/rp_filter'), 'utf8')).toBe('2\n')
    expect(readFileSync(h.files[0], 'utf8')).toMatch(/^a=1\n# RunCVM: .* was: net\.ipv4\.conf\.all\.rp_filter = 1\nnet\.ipv4\.conf\.all\.rp_filter = 2\n$/)
    expect(statSync(h.files[0]).mode & 0o777).toBe(0o640)
    expect(existsSync(h.dropIn)).toBe(false)
    noTemps(h.etc)
  })

  it('with --set-rp-filter and nothing pinning the values: creates the drop-in', () => {
    const h = host('1\n', '1\n', { '10-other.conf': 'kernel.x = 1\n' })
    run(h, true)
    expect(readFileSync(h.dropIn, 'utf8')).toBe(SYSCTL_DROPIN_TEXT)
    expect(statSync(h.dropIn).mode & 0o777).toBe(0o644)
  })

  describe.skipIf(!ROOT).each(Object.entries(PLANTS))('%s planted', (_, plant) => {
    it('at a sysctl file name: not edited, said so; the rest still done', () => {
      const h = host('1\n', '1\n')
      const name = join(h.etc, '60-planted.conf')
      const keep = plant(name, h.d)
      const before = keep.map(snap)
      const r = run(h, true, [name])
      expect(r.warnings).toHaveLength(1)
      expect(r.warnings[0]).toMatch(new RegExp(`^not edited: refusing to write ${name}: `))
      expect(keep.map(snap)).toEqual(before)
      expect(readFileSync(h.dropIn, 'utf8')).toBe(SYSCTL_DROPIN_TEXT)
    })
    it('at the drop-in name: not persisted, said so', () => {
      const h = host('1\n', '1\n')
      const keep = plant(h.dropIn, h.d)
      const before = keep.map(snap)
      const r = run(h, true, [])
      expect(r.warnings).toEqual([expect.stringMatching(new RegExp(`^not persisted: refusing to write ${h.dropIn}: `))])
      expect(keep.map(snap)).toEqual(before)
    })
  })
})

describe('install (all steps, temp paths, no dockerd)', () => {
  it('first run installs and registers; the second changes nothing; --dry-run changes nothing', async () => {
    const d = tempDir()
    const src = join(d, 'pkg')
    mkdirSync(join(src, 'scripts'), { recursive: true })
    writeFileSync(join(src, 'scripts/runcvm-runtime'), '#!/bin/sh\n')
    mkdirSync(join(d, 'opt')); mkdirSync(join(d, 'proc/all'), { recursive: true }); mkdirSync(join(d, 'proc/default'))
    writeFileSync(join(d, 'proc/all/rp_filter'), '1\n'); writeFileSync(join(d, 'proc/default/rp_filter'), '1\n')
    const o = {
      from: src, dockerd: false, setRpFilter: false, dryRun: false, target: join(d, 'opt/runcvm'),
      daemonJson: join(d, 'docker/daemon.json'), runtimePath: RT, procConf: join(d, 'proc'), sysctlFiles: [], sysctlDropIn: join(d, 'drop.conf'),
    }
    const seen: string[] = []
    const ui = { step: (t: string) => seen.push(t), done: (r: StepResult) => seen.push(...r.lines), confirm: async () => true }
    const dry = await install({ ...o, dryRun: true }, ui)
    expect(dry.map(c => c.path)).toEqual([join(d, 'opt/runcvm'), join(d, 'docker'), join(d, 'docker/daemon.json')])
    expect(readdirSync(d).sort()).toEqual(['opt', 'pkg', 'proc'])
    expect(readdirSync(join(d, 'opt'))).toEqual([])
    const first = await install(o, ui)
    expect(first.map(c => c.path)).toEqual([join(d, 'opt/runcvm'), join(d, 'docker'), join(d, 'docker/daemon.json')])
    expect(await install(o, ui)).toEqual([])
    expect(seen.filter(l => l.startsWith('Found net.ipv4'))).toHaveLength(3)
    expect(readFileSync(join(d, 'proc/all/rp_filter'), 'utf8')).toBe('1\n')
  })
})

describe('reloadDockerd (programs and signals injected)', () => {
  const calls: string[] = []
  const ok = async (argv: readonly string[]) => { calls.push(argv.join(' ')); return { ok: true, err: '' } }
  const failing = async (argv: readonly string[]) => { calls.push(argv.join(' ')); return { ok: false, err: 'Job for docker.service canceled' } }
  const base = { run: ok, confirm: async () => true, signal: (pid: number) => { calls.push(`SIGHUP ${pid}`) } }
  const systemd = { pid1: 'systemd', systemdActive: true, dockerdPid: 10 }

  it('plain dockerd: SIGHUP to its pid', async () => {
    calls.length = 0
    const r = await reloadDockerd({ ...base, facts: { pid1: 'init', systemdActive: false, dockerdPid: 77 } })
    expect(calls).toEqual(['SIGHUP 77'])
    expect(r.changes).toEqual([{ path: 'dockerd (pid 77)', what: 'reloaded (SIGHUP)' }])
  })
  it('systemd: reload; a failed reload restarts only when confirmed', async () => {
    calls.length = 0
    expect((await reloadDockerd({ ...base, facts: systemd })).changes).toEqual([{ path: 'dockerd', what: 'reloaded (systemctl reload docker)' }])
    const declined = await reloadDockerd({ ...base, run: failing, confirm: async () => false, facts: systemd })
    expect(declined.changes).toEqual([])
    expect(declined.warnings).toEqual(['Please restart dockerd yourself'])
    const restarted = await reloadDockerd({ ...base, run: async a => (a[1] === 'reload' ? failing(a) : ok(a)), facts: systemd })
    expect(restarted.changes).toEqual([{ path: 'dockerd', what: 'restarted (systemctl restart docker)' }])
    expect(calls).toEqual(['systemctl reload docker', 'systemctl reload docker', 'systemctl reload docker', 'systemctl restart docker'])
  })
  it('--dry-run and no dockerd: nothing run, nothing signalled', async () => {
    calls.length = 0
    expect((await reloadDockerd({ ...base, dryRun: true, facts: systemd })).changes).toEqual([{ path: 'dockerd', what: 'would be reloaded' }])
    expect((await reloadDockerd({ ...base, facts: { pid1: 'init', systemdActive: false } })).changes).toEqual([])
    expect(calls).toEqual([])
  })
})
