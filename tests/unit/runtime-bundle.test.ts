// runCreate/runExec: the file edges, through temp dirs. Every failure must give the clear
// `RunCVM: Error:` text and leave the JSON byte-identical.
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatForDocker, RunCvmError } from '../../lib/errors.js'
import { runCreate, runExec } from '../../lib/oci/bundle.js'
import { redactSpec, timestamp } from '../../lib/log.js'
import { envValue, fixtureText, KERNEL_VERSION as V, makeBundle, tempDir } from './helpers.js'

interface Setup { dir: string; bundle: string; file: string; hostRoot: string; root: string; logDir: string }

/** A bundle with the given config (root.path pointed at a temp rootfs), a package root with a debian kernel. */
function setup(mutate: (spec: any) => void = () => {}, opts: { kernels?: boolean; osRelease?: string } = {}): Setup {
  const s = makeBundle(mutate, opts)
  const logDir = join(s.dir, 'log')
  mkdirSync(logDir, { mode: 0o700 })
  if (opts.osRelease !== undefined) writeFileSync(join(s.root, 'etc', 'os-release'), opts.osRelease)
  return { ...s, logDir }
}

const withEnv = (...kv: string[]) => (spec: any) => { spec.process.env.push(...kv) }
/** Docker's records saying the docker user set `kv` (`docker run -e`) on an image with `image` as its ENV. */
const records = (user: string[], image: string[] = []) => () => ({ records: { merged: [...user, ...image], image } })

/** Docker's records saying the docker user set every env entry of the bundle's config.json. */
const allUser = (s: Setup) => () => records(JSON.parse(readFileSync(s.file, 'utf8')).process.env)()

function expectFailure(s: Setup, message: string | RegExp, run = () => runCreate(s.bundle, { hostRoot: s.hostRoot, logDir: s.logDir, envRecords: allUser(s) })) {
  const before = existsSync(s.file) ? readFileSync(s.file) : undefined
  let err: unknown
  try { run() } catch (e) { err = e }
  expect(err).toBeInstanceOf(RunCvmError)
  const text = formatForDocker(err)
  expect(text.startsWith('\n\nRunCVM: Error: ')).toBe(true)
  expect(text).toMatch(message)
  if (before) expect(readFileSync(s.file).equals(before)).toBe(true)
  return err as RunCvmError
}

describe('runCreate', () => {
  it('rewrites config.json once, keeping its mode', () => {
    const s = setup()
    chmodSync(s.file, 0o600)
    runCreate(s.bundle, { hostRoot: s.hostRoot })
    const out = JSON.parse(readFileSync(s.file, 'utf8'))
    expect(statSync(s.file).mode & 0o777).toBe(0o600)
    expect(out.mounts[1]).toMatchObject({ destination: '/.runcvm/guest', source: s.hostRoot })
    expect(out.mounts[2]).toMatchObject({ destination: '/vm', source: s.root })
    expect(envValue(out.process.env, 'RUNCVM_KERNEL_PATH')).toBe(`/.runcvm/guest/kernels/debian/${V}/vmlinuz`)
    expect(out.mounts.at(-3)).toMatchObject({ source: join(s.hostRoot, 'kernels', 'debian', V, 'modules', V), destination: `/vm/lib/modules/${V}` })
    expect(readFileSync(s.file, 'utf8').endsWith('\n')).toBe(true)
  })

  it('uses an in-image kernel (alpine)', () => {
    const s = setup(() => {}, { osRelease: 'ID="alpine"\n' })
    mkdirSync(join(s.root, 'boot'))
    writeFileSync(join(s.root, 'boot', 'vmlinuz-virt'), '')
    writeFileSync(join(s.root, 'boot', 'initramfs-virt'), '')
    runCreate(s.bundle, { hostRoot: s.hostRoot })
    const env = JSON.parse(readFileSync(s.file, 'utf8')).process.env
    expect(envValue(env, 'RUNCVM_KERNEL_PATH')).toBe('/boot/vmlinuz-virt')
    expect(envValue(env, 'RUNCVM_KERNEL_ROOT')).toBe('rootfstype=virtiofs root=runcvmfs resume=')
  })

  it('resolves a relative root.path against the bundle', () => {
    const s = setup(spec => { spec.root.path = '../rootfs' })
    runCreate(s.bundle, { hostRoot: s.hostRoot })
    expect(JSON.parse(readFileSync(s.file, 'utf8')).mounts[2].source).toBe(s.root)
  })

  it.each([
    ['RUNCVM_KERNEL=../x', "Kernel '../x' invalid (contains '..')"],
    ['RUNCVM_KERNEL=Debian', "Kernel 'Debian' invalid (should match ^[a-z]+(/[^/]+)?$)"],
    ['RUNCVM_KERNEL=debian/a/b', 'invalid (should match'],
    ['RUNCVM_KERNEL=alpine', "Kernel 'alpine' not found (check "],
    ['RUNCVM_KERNEL=debian/9.9.9', "Kernel 'debian/9.9.9' not found"],
    ['RUNCVM_DISPLAY_MODE=bogus', "RUNCVM_DISPLAY_MODE 'bogus' invalid, must be one of: headless, serial, vnc"],
    ['RUNCVM_CPUS=two', "RUNCVM_CPUS 'two' invalid"],
    ['RUNCVM_MEM_SIZE=lots', "RUNCVM_MEM_SIZE 'lots' invalid"],
    ['RUNCVM_BREAK=nope', "RUNCVM_BREAK 'nope' invalid"],
  ])('%s fails cleanly', (kv, msg) => {
    expectFailure(setup(withEnv(kv)), msg)
  })

  it('unknown OS fails cleanly', () => {
    expectFailure(setup(() => {}, { osRelease: 'ID=arch\n' }),
      "Unrecognised image O/S 'arch'; specify --env=RUNCVM_KERNEL=<dist> or --env=RUNCVM_KERNEL=<dist>/<version>")
  })

  it('missing kernels dir fails cleanly', () => {
    expectFailure(setup(() => {}, { kernels: false }), /Kernel 'debian\/latest' not found \(check .*\/opt\/runcvm\/kernels\)/)
  })

  it('missing bundle fails cleanly', () => {
    const s = setup()
    expectFailure({ ...s, file: join(s.dir, 'nope', 'config.json') }, /cannot read .*nope\/config\.json/,
      () => runCreate(join(s.dir, 'nope'), { hostRoot: s.hostRoot }))
  })

  it('malformed JSON fails cleanly', () => {
    const s = setup()
    writeFileSync(s.file, '{"ociVersion": "1.0.2", "process": {')
    expectFailure(s, /malformed JSON in .*config\.json/)
  })

  it('a config without process/root fails cleanly', () => {
    const s = setup()
    writeFileSync(s.file, '{"ociVersion":"1.0.2"}')
    expectFailure(s, /has no process or root\.path/)
  })

  it('RUNCVM_RUNTIME_DEBUG=1 writes the log and both JSON copies; errors are logged too', () => {
    const s = setup(withEnv('RUNCVM_RUNTIME_DEBUG=1'))
    const original = readFileSync(s.file, 'utf8')
    runCreate(s.bundle, { hostRoot: s.hostRoot, pid: 4242, logDir: s.logDir, argv: ['node', 'runtime', 'create'], envRecords: records(['RUNCVM_RUNTIME_DEBUG=1']) })
    // env values redacted (a log never holds the workload's secrets), RunCVM's settings kept
    expect(JSON.parse(readFileSync(join(s.logDir, 'config.json-4242-1'), 'utf8'))).toEqual(redactSpec(JSON.parse(original)))
    expect(readFileSync(join(s.logDir, 'config.json-4242-2'), 'utf8')).toBe(JSON.stringify(redactSpec(JSON.parse(readFileSync(s.file, 'utf8'))), null, 2) + '\n')
    const saved = readFileSync(join(s.logDir, 'config.json-4242-1'), 'utf8')
    expect(saved).toContain('RUNCVM_RUNTIME_DEBUG=1')
    expect(saved).not.toContain('/usr/local/sbin')
    for (const f of ['config.json-4242-1', 'config.json-4242-2', 'runcvm-4242.log']) expect(statSync(join(s.logDir, f)).mode & 0o777).toBe(0o600)
    const log = readFileSync(join(s.logDir, 'runcvm-4242.log'), 'utf8')
    expect(log).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}: 4242: Command line: /)
    expect(log).toContain('--- LOG ENDS ---')

    const bad = setup(withEnv('RUNCVM_RUNTIME_DEBUG=1', 'RUNCVM_KERNEL=../x'))
    expectFailure(bad, 'contains', () => runCreate(bad.bundle, { hostRoot: bad.hostRoot, pid: 4243, logDir: bad.logDir, envRecords: records(['RUNCVM_RUNTIME_DEBUG=1']) }))
    expect(readFileSync(join(bad.logDir, 'runcvm-4243.log'), 'utf8')).toContain("RunCVM: Error: Kernel '../x' invalid")
  })

  it('debug log: a group/other-accessible dir logs nothing; a planted symlink at a log name is never followed', () => {
    const s = setup(withEnv('RUNCVM_RUNTIME_DEBUG=1'))
    chmodSync(s.logDir, 0o1777)
    runCreate(s.bundle, { hostRoot: s.hostRoot, pid: 4245, logDir: s.logDir, envRecords: records(['RUNCVM_RUNTIME_DEBUG=1']) })
    expect(existsSync(join(s.logDir, 'runcvm-4245.log'))).toBe(false)
    const t = setup(withEnv('RUNCVM_RUNTIME_DEBUG=1'))
    const victim = join(t.dir, 'victim')
    writeFileSync(victim, 'precious\n')
    symlinkSync(victim, join(t.logDir, 'runcvm-4246.log'))
    symlinkSync(victim, join(t.logDir, 'config.json-4246-1'))
    runCreate(t.bundle, { hostRoot: t.hostRoot, pid: 4246, logDir: t.logDir, envRecords: records(['RUNCVM_RUNTIME_DEBUG=1']) })
    expect(readFileSync(victim, 'utf8')).toBe('precious\n')
    expect(existsSync(join(t.logDir, 'config.json-4246-2'))).toBe(true)
  })

  it('privileged switch from the image\'s ENV: refused before any log or write; -e, the policy, or unknown provenance with "allow" pass', () => {
    const s = setup(withEnv('RUNCVM_RUNTIME_DEBUG=1', 'RUNCVM_SYS_ADMIN=1'))
    const image = ['PATH=/bin', 'RUNCVM_RUNTIME_DEBUG=1', 'RUNCVM_SYS_ADMIN=1']
    const policy = join(s.dir, 'etc', 'runcvm', 'policy.json')
    expectFailure(s, `RUNCVM_SYS_ADMIN is set by the image's ENV; images may not set privileged options (${policy}): set it with docker run -e RUNCVM_SYS_ADMIN=..., or allow it in ${policy}`,
      () => runCreate(s.bundle, { hostRoot: s.hostRoot, pid: 4247, logDir: s.logDir, envRecords: records([], image) }))
    expect(existsSync(join(s.logDir, 'runcvm-4247.log'))).toBe(false)
    // unknown provenance (no Docker records for a temp bundle): refused by default
    expectFailure(s, 'cannot be told (the container id is not a Docker id)', () => runCreate(s.bundle, { hostRoot: s.hostRoot, logDir: s.logDir }))
    // allowed for the image by the policy file at <root>/etc/runcvm/policy.json
    mkdirSync(dirname(policy), { recursive: true })
    writeFileSync(policy, '{"imageMaySet":["RUNCVM_SYS_ADMIN"]}')
    expectFailure(s, 'RUNCVM_RUNTIME_DEBUG is set by the image', () => runCreate(s.bundle, { hostRoot: s.hostRoot, logDir: s.logDir, envRecords: records([], image) }))
    writeFileSync(policy, '{"imageMaySet":["RUNCVM_SYS_ADMIN","RUNCVM_RUNTIME_DEBUG"]}')
    runCreate(s.bundle, { hostRoot: s.hostRoot, pid: 4248, logDir: s.logDir, envRecords: records([], image) })
    expect(existsSync(join(s.logDir, 'runcvm-4248.log'))).toBe(true)
    expect(JSON.parse(readFileSync(s.file, 'utf8')).process.capabilities.bounding).toContain('CAP_SYS_ADMIN')
    // set with -e: no policy needed
    const u = setup(withEnv('RUNCVM_SYS_ADMIN=1'))
    runCreate(u.bundle, { hostRoot: u.hostRoot, envRecords: records(['RUNCVM_SYS_ADMIN=1'], ['PATH=/bin', 'RUNCVM_SYS_ADMIN=1']) })
    expect(JSON.parse(readFileSync(u.file, 'utf8')).process.capabilities.bounding).toContain('CAP_SYS_ADMIN')
    // unknown provenance allowed by the policy (podman, ctr)
    const p = setup(withEnv('RUNCVM_SYS_ADMIN=1'))
    mkdirSync(join(p.dir, 'etc', 'runcvm'), { recursive: true })
    writeFileSync(join(p.dir, 'etc', 'runcvm', 'policy.json'), '{"unknownProvenance":"allow"}')
    runCreate(p.bundle, { hostRoot: p.hostRoot })
    expect(JSON.parse(readFileSync(p.file, 'utf8')).process.capabilities.bounding).toContain('CAP_SYS_ADMIN')
  })

  it('policy file: malformed fails create naming it; an unsafe one is ignored (defaults) with a line in the warnings log', () => {
    const s = setup()
    const policy = join(s.dir, 'etc', 'runcvm', 'policy.json')
    mkdirSync(dirname(policy), { recursive: true })
    writeFileSync(policy, '{"imageMaySet": ["RUNCVM_KERNEL"]}')
    expectFailure(s, `malformed policy: "imageMaySet" lists something that is not a privileged option`)
    chmodSync(policy, 0o666)
    writeFileSync(policy, '{"imageMaySet":["RUNCVM_SYS_ADMIN"]}')
    const w = setup(withEnv('RUNCVM_SYS_ADMIN=1'))
    const wpolicy = join(w.dir, 'etc', 'runcvm', 'policy.json')
    mkdirSync(dirname(wpolicy), { recursive: true })
    writeFileSync(wpolicy, '{"imageMaySet":["RUNCVM_SYS_ADMIN"]}'); chmodSync(wpolicy, 0o666)
    const log = join(w.dir, 'warnings.log'); writeFileSync(log, '')
    expectFailure(w, 'RUNCVM_SYS_ADMIN is set by the image', () => runCreate(w.bundle, {
      hostRoot: w.hostRoot, id: 'c1', warningsLog: () => log, envRecords: records([], ['RUNCVM_SYS_ADMIN=1']),
    }))
    expect(readFileSync(log, 'utf8')).toMatch(/^\S+ c1 RunCVM: Warning: ignoring the policy file .*policy\.json: group- or world-writable; using the defaults/)
  })

  it('no debug: no files', () => {
    const s = setup()
    runCreate(s.bundle, { hostRoot: s.hostRoot, pid: 4244, logDir: s.logDir })
    expect(existsSync(join(s.logDir, 'runcvm-4244.log'))).toBe(false)
  })
})

describe('runExec', () => {
  function execSetup(mutate: (p: any) => void = () => {}) {
    const dir = tempDir()
    const file = join(dir, 'process.json')
    const p = JSON.parse(fixtureText('process-exec-user-workdir.json'))
    mutate(p)
    writeFileSync(file, JSON.stringify(p))
    return { dir, file }
  }
  it('rewrites process.json', () => {
    const { file } = execSetup()
    runExec(file, { hostRoot: '/opt/runcvm' })
    const out = JSON.parse(readFileSync(file, 'utf8'))
    expect(out.args.slice(0, 5)).toEqual(['/.runcvm/guest/scripts/runcvm-ctr-exec', '1000:1000:1000', '/tmp', '0', 'false'])
    expect(out.user).toEqual({ uid: 0, gid: 0 })
  })
  it('malformed JSON leaves the file alone', () => {
    const { dir, file } = execSetup()
    writeFileSync(file, '{')
    expectFailure({ dir, bundle: dir, file, hostRoot: '', root: '', logDir: dir }, /malformed JSON/, () => runExec(file, { hostRoot: '' }))
  })
  it('debug copies', () => {
    const { dir, file } = execSetup(p => p.env.push('RUNCVM_RUNTIME_DEBUG=1'))
    runExec(file, { hostRoot: '', pid: 77, logDir: dir })
    expect(existsSync(join(dir, 'process.json-77-1'))).toBe(true)
    expect(readFileSync(join(dir, 'process.json-77-2'), 'utf8')).toBe(JSON.stringify(redactSpec(JSON.parse(readFileSync(file, 'utf8'))), null, 2) + '\n')
    expect(readFileSync(join(dir, 'runcvm-77.log'), 'utf8')).toContain('Command: exec process=')
  })
})

it('timestamp format', () => {
  expect(timestamp(new Date(2024, 0, 2, 3, 4, 5, 67))).toBe('2024-01-02 03:04:05.067000')
})
