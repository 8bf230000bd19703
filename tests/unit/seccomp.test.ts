import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { rewriteCreateConfig, SECCOMP_ALLOW } from '../../lib/oci/rewrite-create.js'
import { diskAio, IO_URING_SYSCALLS, syscallAllowed } from '../../lib/oci/seccomp.js'
import type { Seccomp, SeccompSyscall, Spec } from '../../lib/oci/spec.js'
import { envOf, parseSettings } from '../../lib/settings.js'
import { BUNDLED_DEBIAN, configFixture, envValue } from './helpers.js'

/** moby's profiles/seccomp/default.json of Docker 25+ (tests/fixtures/seccomp/README.md). */
const MOBY_25 = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'seccomp', 'moby-default-25.json'), 'utf8')) as MobyProfile

interface MobyFilter { caps?: string[]; arches?: string[]; minKernel?: string }
interface MobyRule extends SeccompSyscall { includes?: MobyFilter; excludes?: MobyFilter; comment?: string }
interface MobyProfile { defaultAction: string; defaultErrnoRet?: number; archMap: { architecture: string; subArchitectures: string[] | null }[]; syscalls: MobyRule[] }

/**
 * What dockerd writes into config.json from a moby profile (moby profiles/seccomp/seccomp_linux.go
 * setupSeccomp), for an amd64 host with kernel >= 4.8 and the container's capabilities: the
 * native architecture with its sub-architectures; a rule is kept when all its includes.caps are
 * held, none of its excludes.caps, and its arch filters admit amd64; includes/excludes dropped.
 */
function dockerSeccomp(p: MobyProfile, caps: string[]): Seccomp {
  const arch = p.archMap.find(a => a.architecture === 'SCMP_ARCH_X86_64')!
  const keep = (r: MobyRule) =>
    (r.includes?.caps ?? []).every(c => caps.includes(c)) && !(r.excludes?.caps ?? []).some(c => caps.includes(c)) &&
    (!r.includes?.arches || r.includes.arches.includes('amd64')) && !(r.excludes?.arches ?? []).includes('amd64')
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: [arch.architecture, ...(arch.subArchitectures ?? [])],
    syscalls: p.syscalls.filter(keep).map(({ includes: _i, excludes: _e, comment: _c, ...r }) => r),
  }
}

/** A Docker 25+ `docker run` config.json: the captured RUNCVM_DISKS run with the newer default profile. */
function docker25(): Spec {
  const s = configFixture('config-run-runcvm-env-options.json')
  s.linux!.seccomp = dockerSeccomp(MOBY_25, s.process.capabilities!.bounding!)
  return s
}
const rewrite = (spec: Spec, hostIoUringDisabled?: number) => rewriteCreateConfig(spec, {
  settings: parseSettings(envOf(spec.process.env)), kernel: BUNDLED_DEBIAN, hostRoot: '/opt/runcvm', rootPath: spec.root.path, hostIoUringDisabled,
})

describe('seccomp profiles and io_uring', () => {
  it('Docker 25+\'s default profile denies io_uring_*, Docker 20.10\'s (captured) allows it', () => {
    const p25 = docker25().linux!.seccomp!
    for (const n of IO_URING_SYSCALLS) expect(syscallAllowed(p25, n)).toBe(false)
    const p20 = configFixture('config-run-runcvm-env-options.json').linux!.seccomp!
    for (const n of IO_URING_SYSCALLS) expect(syscallAllowed(p20, n)).toBe(true)
    // Sanity of the conversion: what QEMU and virtiofsd always need passes, unshare does not.
    for (const n of ['ioctl', 'memfd_create', 'eventfd2', 'mmap', 'futex']) expect(syscallAllowed(p25, n)).toBe(true)
    expect(syscallAllowed(p25, 'unshare')).toBe(false)
    expect(syscallAllowed(p25, 'clone')).toBe(false) // only with argument conditions
  })

  it('RUNCVM_DISKS on Docker 25+: aio=threads, and the rewrite does not re-allow io_uring', () => {
    const out = rewrite(docker25())
    expect(envValue(out.process.env, 'RUNCVM_DISK_AIO')).toBe('threads')
    for (const n of IO_URING_SYSCALLS) expect(syscallAllowed(out.linux!.seccomp, n)).toBe(false)
    // The one rule RunCVM adds (virtiofsd's unshare(CLONE_FS)) is appended to the new profile too.
    expect(out.linux!.seccomp!.syscalls!.at(-1)).toEqual(SECCOMP_ALLOW)
    expect(out.linux!.seccomp!.defaultErrnoRet).toBe(1)
  })

  it('RUNCVM_DISKS on Docker 20.10: io_uring, unless the host sysctl forbids it', () => {
    const s = configFixture('config-run-runcvm-env-options.json')
    expect(envValue(rewrite(s).process.env, 'RUNCVM_DISK_AIO')).toBe('io_uring')
    expect(envValue(rewrite(s, 2).process.env, 'RUNCVM_DISK_AIO')).toBe('threads')
    // sysctl 1: allowed with CAP_SYS_ADMIN, which this fixture grants through RUNCVM_SYS_ADMIN=1.
    expect(envValue(rewrite(s, 1).process.env, 'RUNCVM_DISK_AIO')).toBe('io_uring')
  })

  it('no disks: no RUNCVM_DISK_AIO at all', () => {
    expect(envValue(rewrite(configFixture('config-run-plain.json')).process.env, 'RUNCVM_DISK_AIO')).toBeUndefined()
  })

  it('decision table', () => {
    const allowAll: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }
    const denyUring: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['io_uring_setup'], action: 'SCMP_ACT_ERRNO' }] }
    const condOnly: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: [...IO_URING_SYSCALLS], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] }
    expect(diskAio({ seccomp: undefined, sysAdmin: false })).toBe('io_uring') // seccomp=unconfined
    expect(diskAio({ seccomp: allowAll, sysAdmin: false })).toBe('io_uring')
    expect(diskAio({ seccomp: denyUring, sysAdmin: false })).toBe('threads')
    expect(diskAio({ seccomp: condOnly, sysAdmin: false })).toBe('threads')
    expect(diskAio({ seccomp: undefined, ioUringDisabled: 0, sysAdmin: false })).toBe('io_uring')
    expect(diskAio({ seccomp: undefined, ioUringDisabled: 1, sysAdmin: false })).toBe('threads')
    expect(diskAio({ seccomp: undefined, ioUringDisabled: 1, sysAdmin: true })).toBe('io_uring')
    expect(diskAio({ seccomp: undefined, ioUringDisabled: 2, sysAdmin: true })).toBe('threads')
  })
})
