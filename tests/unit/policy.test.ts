// Host-side policy for privileged switches: the classification table, policy parsing, where an
// env entry came from (Docker's merge order, on real config.v2.json / imagedb records), the
// decision, and the safe reads of the policy file and of Docker's records.
import { chmodSync, copyFileSync, linkSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import {
  DEFAULT_POLICY, OPTION_CLASSES, PRIVILEGED, decidePrivileged, denialMessage, parsePolicy, policyFileFor, sourceOf,
  userPrefixLength, type EnvRecords,
} from '../../lib/policy.js'
import { readDockerEnvRecords, readPolicy } from '../../lib/policy-read.js'
import { SETTINGS } from '../../lib/settings.js'
import { tempDir } from './helpers.js'

const DOCKER = join(__dirname, '..', 'fixtures', 'docker')
const IMAGE_HEX = '25a81ca906224cafb627a6f8d9eaf85a6bd6a46ca4fc69027662274f560e874c'
const fx = (name: string) => JSON.parse(readFileSync(join(DOCKER, name), 'utf8'))
const IMAGE_ENV: string[] = fx('imagedb-sysadmin.json').config.Env
const PLAIN: EnvRecords = { merged: fx('config.v2-plain.json').Config.Env, image: IMAGE_ENV }
const RUN_E: EnvRecords = { merged: fx('config.v2-run-e.json').Config.Env, image: IMAGE_ENV }
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

describe('classification', () => {
  it('classifies every user option of the settings table, and nothing else', () => {
    const user = Object.entries(SETTINGS).filter(([, r]) => !('internal' in r && r.internal)).map(([n]) => n).sort()
    expect(Object.keys(OPTION_CLASSES).sort()).toEqual(user)
  })
  it('privileged: the host-affecting switches', () => {
    expect([...PRIVILEGED].sort()).toEqual(['RUNCVM_BREAK', 'RUNCVM_DISKS', 'RUNCVM_HUGETLB', 'RUNCVM_QEMU_NET_VHOST', 'RUNCVM_RUNTIME_DEBUG', 'RUNCVM_SYS_ADMIN', 'RUNCVM_TCG_TB_SIZE'])
  })
})

describe('parsePolicy', () => {
  const F = '/etc/runcvm/policy.json'
  it('accepts the documented keys; absent keys default', () => {
    expect(parsePolicy('{}', F)).toEqual(DEFAULT_POLICY)
    expect(parsePolicy('{"imageMaySet":["RUNCVM_SYS_ADMIN","RUNCVM_DISKS"],"unknownProvenance":"allow"}', F))
      .toEqual({ imageMaySet: ['RUNCVM_SYS_ADMIN', 'RUNCVM_DISKS'], unknownProvenance: 'allow' })
  })
  it.each([
    ['not json', 'not valid JSON'],
    ['[]', 'must be a JSON object'],
    ['{"imageMaySet":"RUNCVM_SYS_ADMIN"}', 'not a privileged option'],
    ['{"imageMaySet":["RUNCVM_KERNEL"]}', 'not a privileged option'],
    ['{"imageMaySet":["NODE_OPTIONS"]}', 'not a privileged option'],
    ['{"unknownProvenance":"yes"}', 'bad "unknownProvenance"'],
    ['{"imagemayset":[]}', 'unknown key "imagemayset"'],
  ])('%s is refused naming the file and what is accepted', (text, why) => {
    let err: unknown
    try { parsePolicy(text, F) } catch (e) { err = e }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toContain(why)
    expect((err as Error).message).toContain(`${F} must be a JSON object with optional "imageMaySet"`)
  })
  it('the policy file sits at <root>/etc/runcvm/policy.json for a package at <root>/opt/runcvm', () => {
    expect(policyFileFor('/opt/runcvm')).toBe('/etc/runcvm/policy.json')
    expect(policyFileFor('/work/x/dist/opt/runcvm')).toBe('/work/x/dist/etc/runcvm/policy.json')
    expect(policyFileFor('/tmp/bench-x/opt-runcvm')).toBe('/etc/runcvm/policy.json')
  })
})

describe('provenance from Docker merge order (real records)', () => {
  it('docker create IMAGE: every entry is the image\'s', () => {
    expect(userPrefixLength(PLAIN)).toBe(0)
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', PLAIN)).toBe('image')
  })
  it('docker create -e RUNCVM_SYS_ADMIN=1 -e RUNCVM_BREAK=prenet IMAGE: both the user\'s, even with the image\'s own value', () => {
    expect(userPrefixLength(RUN_E)).toBe(2)
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', RUN_E)).toBe('user')
    expect(sourceOf('RUNCVM_BREAK', 'prenet', RUN_E)).toBe('user')
    expect(sourceOf('FOO', 'bar', RUN_E)).toBe('image')
  })
  it('an entry the user cannot be told from the image\'s counts as the image\'s', () => {
    // -e X=1 before an image entry with the same value in the same place: same records as no -e.
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', { merged: ['RUNCVM_SYS_ADMIN=1', PATH], image: ['RUNCVM_SYS_ADMIN=1', PATH] })).toBe('image')
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', { merged: ['A=1', 'RUNCVM_SYS_ADMIN=1'], image: ['RUNCVM_SYS_ADMIN=1'] })).toBe('image')
  })
  it('a user override of an image entry is the user\'s', () => {
    expect(sourceOf('RUNCVM_DISKS', '/d,/x,ext4', { merged: ['RUNCVM_DISKS=/d,/x,ext4', PATH], image: [PATH, 'RUNCVM_DISKS=/e,/y,ext4'] })).toBe('user')
  })
  it('unknown: no records, records that do not fit Docker\'s merge, a value Docker did not record', () => {
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', undefined)).toBe('unknown')
    expect(userPrefixLength({ merged: [PATH], image: [PATH, 'FOO=bar'] })).toBeUndefined()
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', { merged: [PATH, 'FOO=bar'], image: [PATH, 'RUNCVM_SYS_ADMIN=1', 'FOO=bar'] })).toBe('unknown')
    expect(sourceOf('RUNCVM_SYS_ADMIN', '1', { merged: ['RUNCVM_SYS_ADMIN=0', PATH], image: [PATH] })).toBe('unknown')
    const huge = Array.from({ length: 5000 }, (_, i) => `V${i}=1`)
    expect(userPrefixLength({ merged: huge, image: [] })).toBeUndefined()
  })
})

describe('decidePrivileged', () => {
  const spec = (...kv: string[]) => [PATH, 'HOSTNAME=x', ...kv]
  it('image-set privileged switches are denied by default, allowed by the policy', () => {
    expect(decidePrivileged(spec('RUNCVM_SYS_ADMIN=1', 'FOO=bar'), PLAIN, DEFAULT_POLICY)).toEqual([{ name: 'RUNCVM_SYS_ADMIN', source: 'image' }])
    expect(decidePrivileged(spec('RUNCVM_SYS_ADMIN=1', 'FOO=bar'), PLAIN, { ...DEFAULT_POLICY, imageMaySet: ['RUNCVM_SYS_ADMIN'] })).toEqual([])
    expect(decidePrivileged(spec('RUNCVM_SYS_ADMIN=1', 'FOO=bar'), PLAIN, { ...DEFAULT_POLICY, imageMaySet: ['RUNCVM_DISKS'] })).toHaveLength(1)
  })
  it('user-set ones pass', () => {
    expect(decidePrivileged(spec('RUNCVM_SYS_ADMIN=1', 'RUNCVM_BREAK=prenet', 'FOO=bar'), RUN_E, DEFAULT_POLICY)).toEqual([])
  })
  it('switches that are off, and ordinary options, need nothing', () => {
    const image = [PATH, 'RUNCVM_SYS_ADMIN=0', 'RUNCVM_DISKS=', 'RUNCVM_KERNEL=debian', 'RUNCVM_HUGETLB=yes']
    expect(decidePrivileged(spec(...image.slice(1)), { merged: image, image }, DEFAULT_POLICY)).toEqual([])
    expect(decidePrivileged(spec('RUNCVM_KERNEL_APPEND=x'), undefined, DEFAULT_POLICY)).toEqual([])
  })
  it('unknown provenance: refused by default, allowed by "unknownProvenance": "allow"', () => {
    expect(decidePrivileged(spec('RUNCVM_DISKS=/d,/x,ext4,1G'), undefined, DEFAULT_POLICY)).toEqual([{ name: 'RUNCVM_DISKS', source: 'unknown' }])
    expect(decidePrivileged(spec('RUNCVM_DISKS=/d,/x,ext4,1G'), undefined, { ...DEFAULT_POLICY, unknownProvenance: 'allow' })).toEqual([])
  })
  it('the refusal is one line naming the option, the policy file and both ways out', () => {
    const m = denialMessage({ name: 'RUNCVM_SYS_ADMIN', source: 'image' }, '/etc/runcvm/policy.json')
    expect(m).toBe("RUNCVM_SYS_ADMIN is set by the image's ENV; images may not set privileged options (/etc/runcvm/policy.json): " +
      'set it with docker run -e RUNCVM_SYS_ADMIN=..., or allow it in /etc/runcvm/policy.json ("imageMaySet": ["RUNCVM_SYS_ADMIN"])')
    expect(denialMessage({ name: 'RUNCVM_BREAK', source: 'unknown' }, '/p.json', 'no Docker data root')).toContain('(no Docker data root); privileged options then need /p.json to say "unknownProvenance": "allow"')
    expect(m).not.toContain('\n')
  })
})

describe('readPolicy (edge)', () => {
  const owner = process.geteuid!()
  it('absent: defaults, no warning; a good file is parsed; a malformed one throws', () => {
    const d = tempDir(), f = join(d, 'policy.json'), warns: string[] = []
    expect(readPolicy(f, { warn: w => warns.push(w) })).toEqual(DEFAULT_POLICY)
    writeFileSync(f, '{"imageMaySet":["RUNCVM_BREAK"]}', { mode: 0o644 })
    expect(readPolicy(f, { warn: w => warns.push(w) }).imageMaySet).toEqual(['RUNCVM_BREAK'])
    expect(warns).toEqual([])
    writeFileSync(f, '{"imageMaySet":')
    expect(() => readPolicy(f, { warn: () => {} })).toThrow(ConfigError)
  })
  it('a symlink, a group/world-writable file, a foreign owner, a FIFO-like non-file: ignored with a warning (defaults)', () => {
    const d = tempDir(), good = join(d, 'good.json'), warns: string[] = []
    writeFileSync(good, '{"imageMaySet":["RUNCVM_SYS_ADMIN"]}', { mode: 0o644 })
    const link = join(d, 'link.json'); symlinkSync(good, link)
    const ww = join(d, 'ww.json'); writeFileSync(ww, '{"imageMaySet":["RUNCVM_SYS_ADMIN"]}'); chmodSync(ww, 0o666)
    const dir = join(d, 'dir.json'); mkdirSync(dir)
    const hard = join(d, 'hard.json'); writeFileSync(hard, '{}'); linkSync(hard, join(d, 'hard2.json'))
    expect(readPolicy(hard, { warn: w => warns.push(w) })).toEqual(DEFAULT_POLICY)
    for (const f of [link, ww, dir]) expect(readPolicy(f, { warn: w => warns.push(w) })).toEqual(DEFAULT_POLICY)
    expect(readPolicy(good, { warn: w => warns.push(w), owner: owner + 1 })).toEqual(DEFAULT_POLICY)
    expect(warns.map(w => w.replace(/^.*: (?=[^:]*; using)/, ''))).toEqual([
      'has more than one link; using the defaults (images may set no privileged option)',
      'a symbolic link; using the defaults (images may set no privileged option)',
      'group- or world-writable; using the defaults (images may set no privileged option)',
      'not a regular file; using the defaults (images may set no privileged option)',
      `owned by uid ${owner}, not ${owner + 1}; using the defaults (images may set no privileged option)`,
    ])
    for (const w of warns) expect(w).toMatch(/^RunCVM: Warning: ignoring the policy file /)
  })
})

describe('readDockerEnvRecords (edge, a data root laid out as Docker 20.10 does)', () => {
  function dataRoot(v2 = 'config.v2-run-e.json') {
    const d = tempDir()
    const id = fx(v2).ID as string
    const layer = join(d, 'overlay2', 'f127b6018b96ab7461c969a062df611e559c8112e23d9e50f62d5cee0cf5df3a', 'merged')
    mkdirSync(layer, { recursive: true })
    mkdirSync(join(d, 'containers', id), { recursive: true })
    copyFileSync(join(DOCKER, v2), join(d, 'containers', id, 'config.v2.json'))
    const imgDir = join(d, 'image', 'overlay2', 'imagedb', 'content', 'sha256')
    mkdirSync(imgDir, { recursive: true })
    copyFileSync(join(DOCKER, 'imagedb-sysadmin.json'), join(imgDir, IMAGE_HEX))
    return { d, id, layer, imgFile: join(imgDir, IMAGE_HEX), v2File: join(d, 'containers', id, 'config.v2.json') }
  }
  it('finds config.v2.json above the root and the image config it names', () => {
    const { id, layer } = dataRoot()
    expect(readDockerEnvRecords(layer, id)).toEqual({ records: RUN_E })
  })
  it('unknown, with the reason: not a Docker id, no data root, a symlinked or foreign or writable record, a root outside the driver dir', () => {
    const why = (r: ReturnType<typeof readDockerEnvRecords>) => ('why' in r ? r.why : 'KNOWN')
    const a = dataRoot()
    expect(why(readDockerEnvRecords(a.layer, 'abc'))).toContain('not a Docker id')
    expect(why(readDockerEnvRecords(a.layer, 'f'.repeat(64)))).toContain('no Docker data root')
    expect(why(readDockerEnvRecords(a.layer, a.id, process.geteuid!() + 1))).toContain('owned by uid')
    chmodSync(a.imgFile, 0o666)
    expect(why(readDockerEnvRecords(a.layer, a.id))).toContain('group- or world-writable')
    const b = dataRoot()
    writeFileSync(join(b.d, 'elsewhere.json'), readFileSync(b.imgFile))
    unlinkSync(b.imgFile)
    symlinkSync(join(b.d, 'elsewhere.json'), b.imgFile)
    expect(why(readDockerEnvRecords(b.layer, b.id))).toContain('symbolic link')
    const c = dataRoot()
    const other = join(c.d, 'vfs', 'dir', 'x'); mkdirSync(other, { recursive: true })
    expect(why(readDockerEnvRecords(other, c.id))).toContain('is not under')
    const e = dataRoot()
    writeFileSync(e.v2File, '{"ID":"nope"}')
    expect(why(readDockerEnvRecords(e.layer, e.id))).toContain('expected shape')
  })
})
