import { describe, expect, it } from 'vitest'
import { ConfigError, SpecError } from '../../lib/errors.js'
import { KVM, TUN, VHOST_NET } from '../../lib/oci/devices.js'
import {
  CAP_SETS, checkNetworkNamespace, NETNS_SYSCTLS, CLONE_NEW_MASK, EXTRA_CAPS, INIT_PATHS, parseMemSize, rewriteCreateConfig, SECCOMP_ALLOW, setEnv,
  type CreateOpts,
} from '../../lib/oci/rewrite-create.js'
import type { Mount, Spec } from '../../lib/oci/spec.js'
import { CTR_ENTRYPOINT } from '../../lib/paths.js'
import { envOf, parseSettings } from '../../lib/settings.js'
import { readWorkloadEnv } from '../../lib/workload-env.js'
import { BUNDLED_DEBIAN, CONFIG_FIXTURES, configFixture, envValue, pretty } from './helpers.js'

const optsFor = (spec: Spec, extra: Partial<CreateOpts> = {}): CreateOpts => ({
  settings: parseSettings(envOf(spec.process.env)),
  kernel: BUNDLED_DEBIAN,
  hostRoot: '/opt/runcvm',
  rootPath: spec.root.path,
  ...extra,
})
const rewrite = (spec: Spec, extra: Partial<CreateOpts> = {}) => rewriteCreateConfig(spec, optsFor(spec, extra))
const MiB = 1024 * 1024
const isVmTmpfs = (m: Mount) => m.type === 'tmpfs' && m.destination !== '/dev' && !m.destination.startsWith('/dev/')

/**
 * What each captured fixture must come out as, stated by hand from the `docker run` flags that made
 * it (tests/fixtures/oci/README.md), never recomputed from the input with the implementation's rule.
 */
interface Expected {
  /** RUNCVM_CPUS: floor(quota / period) of `--cpus`, 0 without a quota. */
  cpus: string
  /** VM memory in MiB: `-m`, else the 512M default. */
  memMiB: number
  /** RUNCVM_UIDGID as uid:gid:additional gids. */
  uidGid: string
  /** RUNCVM_HAS_HOME: an explicit -e HOME / --env-file HOME. */
  hasHome: '0' | '1'
  /** Destinations between the three fixed first mounts and the last two (modules, /run), in order. */
  middle: string[]
}
const DOCKER_MOUNTS = ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']
const ETC_BINDS = ['/vm/etc/resolv.conf', '/vm/etc/hostname', '/vm/etc/hosts']
const PLAIN: Expected = { cpus: '0', memMiB: 512, uidGid: '0:0:0', hasHome: '0', middle: [...DOCKER_MOUNTS, ...ETC_BINDS] }
const EXPECTED: Record<string, Expected> = {
  'config-run-init.json': PLAIN, // /sbin/docker-init bind dropped
  'config-run-init-entrypoint.json': PLAIN,
  'config-run-it.json': PLAIN,
  'config-run-mem-cpus-volume-tmpfs.json': { ...PLAIN, cpus: '2', memMiB: 1024, middle: [...DOCKER_MOUNTS, '/vm/hosttmp', ...ETC_BINDS] }, // --tmpfs /scratch → fstab
  'config-run-network-ip-publish-dns.json': PLAIN,
  'config-run-network-user.json': PLAIN,
  'config-run-plain.json': PLAIN,
  'config-run-publish.json': PLAIN,
  'config-run-runcvm-env-options.json': PLAIN,
  'config-run-tty.json': PLAIN,
  'config-run-user-workdir-entrypoint-envfile-home.json': { ...PLAIN, uidGid: '1000:1000:1000,10', hasHome: '1' },
  // -v capvol:/data moves under /vm; -v /tmp/cap:/disks/host stays (RUNCVM_DISKS backing files live there); --tmpfs /cache → fstab
  'config-run-volume-tmpfs-disks-shm.json': { ...PLAIN, middle: [...DOCKER_MOUNTS, '/vm/data', '/disks/host', ...ETC_BINDS] },
}

it('every captured fixture has stated expectations', () => expect(Object.keys(EXPECTED).sort()).toEqual([...CONFIG_FIXTURES].sort()))

describe.each(CONFIG_FIXTURES)('%s', name => {
  const input = configFixture(name)
  const inEnv = envOf(input.process.env)
  const settings = parseSettings(inEnv)
  const out = rewrite(input)
  const env = out.process.env
  const want = EXPECTED[name]
  const initPath = INIT_PATHS.includes(input.process.args![0]) ? input.process.args![0] : undefined

  it('does not mutate its input', () => {
    expect(input).toEqual(configFixture(name))
  })

  it('prepends the entrypoint (or replaces --init)', () => {
    expect(out.process.args![0]).toBe(CTR_ENTRYPOINT)
    if (initPath) {
      expect(out.process.args).toEqual([CTR_ENTRYPOINT, ...input.process.args!.slice(2)])
      expect(out.mounts!.some(m => m.destination === initPath || m.destination === `/vm${initPath}`)).toBe(false)
      expect(envValue(env, 'RUNCVM_INIT')).toBe('1')
    } else {
      expect(out.process.args).toEqual([CTR_ENTRYPOINT, ...input.process.args!])
      expect(envValue(env, 'RUNCVM_INIT')).toBe(inEnv.RUNCVM_INIT)
    }
  })

  it('records HOME, the requested user, then runs as root', () => {
    expect(envValue(env, 'RUNCVM_HAS_HOME')).toBe(want.hasHome)
    expect(envValue(env, 'RUNCVM_UIDGID')).toBe(want.uidGid)
    expect(out.process.user).toEqual({ uid: 0, gid: 0 })
  })

  it('sets RUNCVM_CPUS from the CPU quota', () => {
    expect(envValue(env, 'RUNCVM_CPUS')).toBe(want.cpus)
  })

  it('turns non-/dev tmpfs mounts into RUNCVM_TMPFS lines and removes them', () => {
    const tmpfs = input.mounts!.filter(isVmTmpfs)
    const lines = envValue(env, 'RUNCVM_TMPFS')!
    expect(lines === '' ? [] : lines.split('\n')).toHaveLength(tmpfs.length)
    for (const m of tmpfs) {
      expect(lines).toContain(` ${m.destination} tmpfs `)
      expect(out.mounts!.filter(x => x.destination === m.destination)).toEqual(m.destination === '/run' ? [out.mounts!.at(-1)] : [])
    }
    expect(lines).not.toMatch(/rprivate|(^|,)private/)
  })

  it('orders the fixed mounts: /.runcvm, package, /vm rbind first; modules; /run; virtiofsd pid dir last', () => {
    const m = out.mounts!
    expect(m[0]).toEqual({ destination: '/.runcvm', type: 'tmpfs', source: 'runcvm', options: ['nosuid', 'noexec', 'nodev', 'size=1M', 'mode=700'] })
    expect(m[1]).toEqual({ destination: '/.runcvm/guest', type: 'bind', source: '/opt/runcvm', options: ['bind', 'private', 'ro'] })
    expect(m[2]).toEqual({ destination: '/vm', type: 'bind', source: input.root.path, options: ['rbind', 'private', 'rw'] })
    expect(m.at(-3)).toEqual({ destination: BUNDLED_DEBIAN.modules!.destination, type: 'bind', source: BUNDLED_DEBIAN.modules!.source, options: ['bind', 'private', 'ro'] })
    expect(m.at(-2)).toEqual({ destination: '/run', type: 'tmpfs', source: 'run', options: ['nosuid', 'noexec', 'nodev', 'size=1M', 'mode=700'] })
    expect(m.at(-1)).toEqual({ destination: '/var/run/virtiofsd', type: 'tmpfs', source: 'runcvm-virtiofsd', options: ['nosuid', 'noexec', 'nodev', 'size=64k', 'mode=700'] })
  })

  it('moves bind mounts under /vm except at/below /disks, keeps everything else', () => {
    const middle = out.mounts!.slice(3, -3)
    expect(middle.map(m => m.destination)).toEqual(want.middle)
    // Moved or not, a mount keeps its type, source and options (/dev/shm is resized: next test).
    for (const m of middle.filter(x => x.destination !== '/dev/shm')) {
      const from = input.mounts!.filter(x => x.destination === m.destination || `/vm${x.destination}` === m.destination)
      expect(from).toEqual([{ ...m, destination: from[0]?.destination }])
    }
  })

  it('adds kvm and tun (+vhost-net) as nodes and cgroup rules, once', () => {
    const defs = settings.RUNCVM_QEMU_NET_VHOST ? [KVM, TUN, VHOST_NET] : [KVM, TUN]
    for (const d of defs) {
      expect(out.linux!.devices!.filter(n => n.path === d.path)).toEqual([{ path: d.path, type: 'c', major: d.major, minor: d.minor, fileMode: 8630, uid: 0, gid: 0 }])
      expect(out.linux!.resources!.devices!.filter(r => r.allow && r.major === d.major && r.minor === d.minor)).toEqual([{ allow: true, type: 'c', major: d.major, minor: d.minor, access: 'rwm' }])
    }
    expect(out.linux!.devices!.some(n => n.path === VHOST_NET.path)).toBe(settings.RUNCVM_QEMU_NET_VHOST)
    // existing rules kept, in order, ahead of ours
    expect(out.linux!.resources!.devices!.slice(0, input.linux!.resources!.devices!.length)).toEqual(input.linux!.resources!.devices)
  })

  it('keeps Docker\'s seccomp profile and appends the unshare allow rule', () => {
    expect(out.linux!.seccomp!.defaultAction).toBe(input.linux!.seccomp!.defaultAction)
    expect(out.linux!.seccomp!.syscalls).toEqual([...input.linux!.seccomp!.syscalls!, SECCOMP_ALLOW])
  })

  it('sizes memory: RUNCVM_MEM_SIZE, /dev/shm, container limit = VM + its own processes', () => {
    const mem = want.memMiB
    expect(envValue(env, 'RUNCVM_MEM_SIZE')).toBe(`${mem}M`)
    // +246 / +249 MiB: lib/sizing.ts containerOverhead.
    expect(out.linux!.resources!.memory!.limit).toBe({ 512: 758, 1024: 1273 }[mem]! * MiB)
    expect(out.mounts!.filter(m => m.destination === '/dev/shm')).toEqual([
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${mem}M`] },
    ])
  })

  it('grows bounding, effective and permitted', () => {
    const extra = settings.RUNCVM_SYS_ADMIN ? [...EXTRA_CAPS, 'CAP_SYS_ADMIN'] : EXTRA_CAPS
    for (const set of CAP_SETS) {
      const caps = out.process.capabilities![set]!
      const before = input.process.capabilities![set] ?? [] // Docker sets only bounding for a non-root --user
      expect(caps.slice(0, before.length)).toEqual(before)
      for (const c of extra) expect(caps.filter(x => x === c)).toEqual([c])
      expect(caps.includes('CAP_SYS_ADMIN')).toBe(settings.RUNCVM_SYS_ADMIN)
    }
    expect(out.process.capabilities!.inheritable).toEqual(input.process.capabilities!.inheritable)
  })

  it('sets guest, mountpoint and kernel variables once each', () => {
    expect(envValue(env, 'RUNCVM_GUEST')).toBe('/.runcvm/guest')
    expect(envValue(env, 'RUNCVM_VM_MOUNTPOINT')).toBe('/vm')
    expect(envValue(env, 'RUNCVM_KERNEL_PATH')).toBe(BUNDLED_DEBIAN.kernelPath)
    expect(envValue(env, 'RUNCVM_KERNEL_INITRAMFS_PATH')).toBe(BUNDLED_DEBIAN.initramfsPath)
    expect(envValue(env, 'RUNCVM_KERNEL_ROOT')).toBe(BUNDLED_DEBIAN.root)
    // the workload's env (RUNCVM_* aside) travels as data, in order; the container side gets only ours
    expect(Object.entries(readWorkloadEnv(envOf(env))).map(([k, v]) => `${k}=${v}`)).toEqual(input.process.env!.filter(kv => !kv.startsWith('RUNCVM_')))
    expect(env!.filter(kv => !kv.startsWith('RUNCVM_')).map(kv => kv.split('=')[0])).toEqual(['PATH', 'HOME', ...(envValue(env, 'TERM') ? ['TERM'] : [])])
  })

  it('leaves everything else alone', () => {
    const strip = (s: Spec) => { const c = structuredClone(s) as Record<string, unknown>; delete c.process; delete c.mounts; delete c.linux; return c }
    expect(strip(out)).toEqual(strip(input))
    const { devices: _a, resources: _b, seccomp: _c, sysctl: sOut, ...restOut } = out.linux!
    const { devices: _d, resources: _e, seccomp: _f, sysctl: sIn, ...restIn } = input.linux!
    expect(restOut).toEqual(restIn)
    // sysctl: only the netns rp_filter entries are added.
    expect(sOut).toEqual({ ...NETNS_SYSCTLS, ...(sIn as object) })
  })

  it('golden', async () => {
    await expect(pretty(out)).toMatchFileSnapshot(`../golden/${name.replace(/\.json$/, '')}.create.json`)
  })
})

describe('specific fixtures', () => {
  it('-m 1g --cpus 2 -v /tmp:/hosttmp --tmpfs /scratch', () => {
    const out = rewrite(configFixture('config-run-mem-cpus-volume-tmpfs.json'))
    const env = out.process.env
    expect(envValue(env, 'RUNCVM_MEM_SIZE')).toBe('1024M')
    expect(out.linux!.resources!.memory!.limit).toBe(1273 * MiB)
    // Docker's default swap (2 x memory) keeps its 1 GiB swap allowance.
    expect(out.linux!.resources!.memory!.swap).toBe((2048 + 249) * MiB)
    expect(envValue(env, 'RUNCVM_CPUS')).toBe('2')
    expect(envValue(env, 'RUNCVM_TMPFS')).toBe('tmpfs /scratch tmpfs noexec,nosuid,nodev 0 0')
    expect(out.mounts!.find(m => m.source === '/tmp')!.destination).toBe('/vm/hosttmp')
  })

  it('volume, tmpfs, /disks and --shm-size', () => {
    const out = rewrite(configFixture('config-run-volume-tmpfs-disks-shm.json'))
    expect(out.mounts!.map(m => m.destination)).toContain('/disks/host')
    expect(out.mounts!.map(m => m.destination)).toContain('/vm/data')
    expect(envValue(out.process.env, 'RUNCVM_TMPFS')).toBe('tmpfs /cache tmpfs noexec,nosuid,nodev,size=64m 0 0')
    expect(out.mounts!.find(m => m.destination === '/dev/shm')!.options).toContain('size=512M')
  })

  it('RUNCVM_* options: vhost-net and SYS_ADMIN', () => {
    const out = rewrite(configFixture('config-run-runcvm-env-options.json'))
    expect(out.linux!.devices!.map(d => d.path)).toEqual(expect.arrayContaining(['/dev/kvm', '/dev/net/tun', '/dev/vhost-net']))
    for (const set of CAP_SETS) expect(out.process.capabilities![set]).toContain('CAP_SYS_ADMIN')
  })

  it('--user 1000:1000 --group-add 10 -e HOME', () => {
    const env = rewrite(configFixture('config-run-user-workdir-entrypoint-envfile-home.json')).process.env
    expect(envValue(env, 'RUNCVM_UIDGID')).toBe('1000:1000:1000,10')
    expect(envValue(env, 'RUNCVM_HAS_HOME')).toBe('1')
  })

  it('--init with --entrypoint /bin/sh', () => {
    const out = rewrite(configFixture('config-run-init-entrypoint.json'))
    expect(out.process.args).toEqual([CTR_ENTRYPOINT, '/bin/sh', '-c', 'echo initentry'])
  })
})

describe('mutations', () => {
  const base = () => configFixture('config-run-plain.json')

  it('Podman /dev/init, and an init without --', () => {
    const s = base()
    s.process.args = ['/dev/init', '--', 'sh']
    s.mounts!.push({ destination: '/dev/init', type: 'bind', source: '/usr/libexec/podman/catatonit', options: ['bind', 'ro'] })
    const out = rewrite(s)
    expect(out.process.args).toEqual([CTR_ENTRYPOINT, 'sh'])
    expect(out.mounts!.some(m => m.source === '/usr/libexec/podman/catatonit')).toBe(false)
    s.process.args = ['/sbin/docker-init', 'sh']
    expect(rewrite(s).process.args).toEqual([CTR_ENTRYPOINT, 'sh'])
  })

  it('every tmpfs becomes a line (upstream kept the first only)', () => {
    const s = base()
    s.mounts!.push(
      { destination: '/a', type: 'tmpfs', source: 'tmpfs', options: ['rprivate', 'size=1m'] },
      { destination: '/b', type: 'tmpfs', source: 'tmpfs', options: ['private', 'nosuid'] },
      { destination: '/dev/x', type: 'tmpfs', source: 'tmpfs', options: [] },
    )
    const out = rewrite(s)
    expect(envValue(out.process.env, 'RUNCVM_TMPFS')).toBe('tmpfs /a tmpfs size=1m 0 0\ntmpfs /b tmpfs nosuid 0 0')
    expect(out.mounts!.map(m => m.destination)).toContain('/dev/x')
  })

  it('RUNCVM_HUGETLB=1 leaves /dev/shm as --shm-size made it', () => {
    const s = base()
    s.process.env!.push('RUNCVM_HUGETLB=1')
    const out = rewrite(s)
    expect(out.mounts!.find(m => m.destination === '/dev/shm')).toEqual(s.mounts!.find(m => m.destination === '/dev/shm'))
  })

  it('user RUNCVM_MEM_SIZE applies without --memory, --memory wins over it', () => {
    const s = base()
    s.process.env!.push('RUNCVM_MEM_SIZE=2G')
    expect(envValue(rewrite(s).process.env, 'RUNCVM_MEM_SIZE')).toBe('2048M')
    expect(rewrite(s).linux!.resources!.memory!.limit).toBe((2048 + 255) * MiB)
    s.linux!.resources!.memory = { limit: 768 * MiB }
    expect(envValue(rewrite(s).process.env, 'RUNCVM_MEM_SIZE')).toBe('768M')
    s.linux!.resources!.memory = {}
    s.process.env!.push('RUNCVM_MEM_SIZE=lots')
    expect(() => rewrite(s)).toThrow(ConfigError)
    expect(() => rewrite(s)).toThrow("RUNCVM_MEM_SIZE 'lots' invalid")
  })

  it('parseMemSize', () => {
    expect([parseMemSize('512'), parseMemSize('512M'), parseMemSize('1g'), parseMemSize('3G')]).toEqual([512, 512, 1024, 3072])
    for (const bad of ['', '0', '1.5G', '1T', '-1', 'M']) expect(() => parseMemSize(bad)).toThrow(ConfigError)
  })

  it('VM memory has an upper bound (RUNCVM_MEM_SIZE and --memory)', () => {
    expect(parseMemSize('1048576M')).toBe(1048576)
    expect(parseMemSize('1024G')).toBe(1048576)
    for (const bad of ['1048577', '1025G', '100000000000000000000000G', '9'.repeat(400)]) {
      expect(() => parseMemSize(bad)).toThrow('at most 1048576M')
    }
    const s = base()
    s.process.env!.push('RUNCVM_MEM_SIZE=100000000000000000000G')
    expect(() => rewrite(s)).toThrow("RUNCVM_MEM_SIZE '100000000000000000000G' invalid")
    const t = base()
    t.linux!.resources!.memory = { limit: 2 * 1024 * 1024 * MiB }
    expect(() => rewrite(t)).toThrow('docker run --memory')
    t.linux!.resources!.memory = { limit: 1024 * 1024 * MiB }
    expect(envValue(rewrite(t).process.env, 'RUNCVM_MEM_SIZE')).toBe('1048576M')
  })

  it('refuses tmpfs mounts whose fields would break the VM\'s fstab', () => {
    const tm = (destination: string, options = ['nosuid'], source = 'tmpfs'): Mount => ({ destination, type: 'tmpfs', source, options })
    for (const [m, msg] of [
      [tm('/a b'), 'whitespace or control characters'],
      [tm('/a\nnone /etc tmpfs defaults 0 0'), 'whitespace or control characters'],
      [tm('/x/../etc'), "'..' components"],
      [tm('rel'), 'absolute path'],
      [tm('/ok', ['size=1m', 'mode=1777 x']), 'tmpfs mount options'],
      [tm('/ok', ['size=1m'], 'tm pfs'), 'tmpfs mount source'],
    ] as const) {
      const s = base()
      s.mounts = [...(s.mounts ?? []), m]
      expect(() => rewrite(s)).toThrow(ConfigError)
      expect(() => rewrite(s)).toThrow(msg)
    }
    const s = base()
    s.mounts = [...(s.mounts ?? []), tm('/scratch.d/x..y', ['size=1m', 'mode=1777'])]
    expect(envValue(rewrite(s).process.env, 'RUNCVM_TMPFS')).toContain('tmpfs /scratch.d/x..y tmpfs size=1m,mode=1777 0 0')
  })

  it('refuses a bad RUNCVM_DISKS at create', () => {
    const s = base()
    s.process.env!.push('RUNCVM_DISKS=/disks/d,/data x,ext4,1G')
    expect(() => rewrite(s)).toThrow('RUNCVM_DISKS dst')
  })

  it('replaces user-set internal variables instead of duplicating them', () => {
    const s = base()
    s.process.env!.push('RUNCVM_GUEST=/elsewhere', 'RUNCVM_CPUS=7', 'RUNCVM_TMPFS=junk', 'RUNCVM_KERNEL_ROOT=x')
    const env = rewrite(s).process.env
    expect(envValue(env, 'RUNCVM_GUEST')).toBe('/.runcvm/guest')
    expect(envValue(env, 'RUNCVM_CPUS')).toBe('0')
    expect(envValue(env, 'RUNCVM_TMPFS')).toBe('')
    expect(envValue(env, 'RUNCVM_KERNEL_ROOT')).toBe(BUNDLED_DEBIAN.root)
    expect(setEnv(['A=1', 'B=2', 'A=3'], 'A', '4')).toEqual(['B=2', 'A=4'])
  })

  it('devices are added by set-union (--device /dev/kvm already there)', () => {
    const s = base()
    s.linux!.devices = [{ path: '/dev/kvm', type: 'c', major: 10, minor: 232, fileMode: 8630, uid: 0, gid: 0 }]
    s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 10, minor: 232, access: 'rwm' })
    const out = rewrite(s)
    expect(out.linux!.devices!.filter(d => d.path === '/dev/kvm')).toHaveLength(1)
    expect(out.linux!.resources!.devices!.filter(d => d.minor === 232)).toHaveLength(1)
  })

  it('creates linux.resources, capabilities when the spec lacks them', () => {
    const s = base()
    delete s.linux!.resources
    delete s.process.capabilities
    delete s.linux!.seccomp
    const out = rewrite(s)
    expect(out.linux!.resources!.devices).toHaveLength(2)
    expect(out.linux!.resources!.memory).toEqual({ limit: 758 * MiB })
    expect(out.process.capabilities!.permitted).toEqual(EXTRA_CAPS)
    // RUNCVM_TCG_TB_SIZE: the translation cache's share of the limit follows it.
    const small = base()
    delete small.linux!.resources
    small.process.env = [...(small.process.env ?? []), 'RUNCVM_TCG_TB_SIZE=16']
    expect(rewrite(small).linux!.resources!.memory).toEqual({ limit: (758 - 64 + 16) * MiB })
    expect(out.linux!.seccomp).toBeUndefined()
  })

  it('seccomp: the rule only allows unshare without namespace flags; remove mode deletes the profile', () => {
    expect(SECCOMP_ALLOW.names).toEqual(['unshare'])
    const arg = SECCOMP_ALLOW.args![0]
    expect(arg).toEqual({ index: 0, value: CLONE_NEW_MASK, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' })
    const CLONE_FS = 0x200, CLONE_NEWUSER = 0x10000000, CLONE_NEWNS = 0x20000, CLONE_NEWNET = 0x40000000
    expect(CLONE_FS & arg.value).toBe(0)
    for (const f of [CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET]) expect(f & arg.value).not.toBe(0)
    expect(rewrite(base(), { seccomp: 'remove' }).linux!.seccomp).toBeUndefined()
  })

  it('CPU limit: quota/period rounded up, cpuset, none', () => {
    const s = base()
    const cpus = (cpu: Record<string, unknown>) => { s.linux!.resources!.cpu = cpu; return envValue(rewrite(s).process.env, 'RUNCVM_CPUS') }
    expect(cpus({ quota: 150000, period: 100000 })).toBe('2')
    expect(cpus({ quota: 50000, period: 100000 })).toBe('1')
    expect(cpus({ quota: 100000, period: 50000 })).toBe('2')
    expect(cpus({ cpus: '0-3' })).toBe('4')
    expect(cpus({ quota: -1 })).toBe('0')
  })

  it('an in-image kernel adds no modules mount', () => {
    const out = rewrite(base(), { kernel: { dist: 'debian', kernelPath: '/vmlinuz', initramfsPath: '/initrd.img', root: 'r', source: 'image' } })
    expect(out.mounts!.at(-3)!.destination).toBe('/vm/etc/hosts')
    expect(envValue(out.process.env, 'RUNCVM_KERNEL_PATH')).toBe('/vmlinuz')
  })

  it('--read-only: /vm bound again read-only after every mount under it, tmpfs mount points held', () => {
    const s = base()
    s.root.readonly = true
    s.mounts = [...s.mounts!, { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] }]
    const out = rewrite(s)
    const m = out.mounts!
    const again = m.findIndex(x => x.destination === '/vm' && x.options!.includes('ro'))
    expect(m[again]).toEqual({ destination: '/vm', type: 'bind', source: `${s.root.path}/vm`, options: ['rbind', 'private', 'ro'] })
    // Every mount under /vm comes before it (runc creates their mount points while /vm is writable).
    const lastUnderVm = m.map((x, i) => x.destination.startsWith('/vm/') ? i : -1).reduce((a, b) => Math.max(a, b))
    expect(lastUnderVm).toBeLessThan(again)
    expect(m.find(x => x.destination === '/vm/scratch')).toMatchObject({ type: 'tmpfs', source: 'runcvm-mountpoint' })
    expect(envValue(out.process.env, 'RUNCVM_TMPFS')).toBe('tmpfs /scratch tmpfs nosuid,size=1m 0 0')
    expect(out.root.readonly).toBe(true)
    // Without --read-only: no second /vm mount, no setting.
    const rw = rewrite(base())
    expect(rw.mounts!.filter(x => x.destination === '/vm')).toHaveLength(1)
  })

  it('rejects a spec without process/root', () => {
    expect(() => rewriteCreateConfig({} as Spec, optsFor(base()))).toThrow(SpecError)
  })
})

describe('network namespace check (--network=host / container:X)', () => {
  const base = () => configFixture('config-run-plain.json')
  const withNs = (ns: { type: string; path?: string }[]) => { const s = base(); s.linux!.namespaces = ns; return s }
  const others = [{ type: 'mount' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]

  it('every captured Docker fixture has its own netns and passes', () => {
    for (const name of CONFIG_FIXTURES) expect(() => checkNetworkNamespace(configFixture(name))).not.toThrow()
  })
  it('--network=host fails at create, naming the problem: Docker (netns/default, captured) and Podman (no entry)', () => {
    for (const s of [withNs([...others, { type: 'network', path: '/var/run/docker/netns/default' }]),
      withNs([...others, { type: 'network', path: '/run/user/1000/docker/netns/default' }]), withNs(others)]) {
      expect(() => rewrite(s)).toThrow(ConfigError)
      expect(() => rewrite(s)).toThrow(/no network namespace of its own \(--network=host\?\)/)
    }
  })
  it("--network=container:X (another process's netns) fails at create", () => {
    for (const path of ['/proc/4242/ns/net', '/proc/self/ns/net', '/proc/1/task/7/ns/net']) {
      const s = withNs([...others, { type: 'network', path }])
      expect(() => rewrite(s)).toThrow(new RegExp(`joins another container's network namespace \\(${path}`))
    }
  })
  it("Docker 23+ / Podman sandbox paths and --network=none are the container's own and pass", () => {
    for (const path of ['/var/run/docker/netns/0123abcd', '/run/netns/netns-1234', undefined]) {
      expect(() => rewrite(withNs([...others, { type: 'network', ...(path ? { path } : {}) }]))).not.toThrow()
    }
  })
  it('a config without linux.namespaces is left to runc', () => {
    const s = base(); delete s.linux!.namespaces
    expect(() => rewrite(s)).not.toThrow()
  })
})

describe('rp_filter in the container netns', () => {
  const base = () => configFixture('config-run-plain.json')
  it('sets loose rp_filter (2) for all/default, keeping the other sysctls', () => {
    const out = rewrite(base())
    expect(out.linux!.sysctl).toMatchObject({ 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.conf.all.rp_filter': '2', 'net.ipv4.conf.default.rp_filter': '2' })
  })
  it("keeps the user's explicit --sysctl value", () => {
    const s = base(); (s.linux!.sysctl as Record<string, string>) = { 'net.ipv4.conf.all.rp_filter': '1' }
    expect(rewrite(s).linux!.sysctl).toEqual({ 'net.ipv4.conf.all.rp_filter': '1', 'net.ipv4.conf.default.rp_filter': '2' })
  })
  it('does not add sysctls without a network namespace entry (nothing to apply them to)', () => {
    const s = base(); delete s.linux!.namespaces; delete s.linux!.sysctl
    expect(rewrite(s).linux!.sysctl).toBeUndefined()
  })
})

describe('RUNCVM_QEMU_NET_VHOST=1 and the host vhost-net driver', () => {
  const vhost = () => configFixture('config-run-runcvm-env-options.json')
  it('fails at create, naming the option and /dev/vhost-net, when the host has none', () => {
    expect(() => rewrite(vhost(), { hostHasVhostNet: false })).toThrow(/RUNCVM_QEMU_NET_VHOST=1 needs \/dev\/vhost-net on the host/)
  })
  it('passes when present or not probed; no check without the option', () => {
    expect(() => rewrite(vhost(), { hostHasVhostNet: true })).not.toThrow()
    expect(() => rewrite(vhost())).not.toThrow()
    expect(() => rewrite(configFixture('config-run-plain.json'), { hostHasVhostNet: false })).not.toThrow()
  })
})

describe('the host warnings log (lib/warnings.ts)', () => {
  const plain = () => configFixture('config-run-plain.json')
  it('binds it into the container after /run (so not into the VM) and passes the container id', () => {
    const out = rewrite(plain(), { warningsLog: '/run/runcvm/warnings.log', containerId: 'abc123' })
    const dests = out.mounts!.map(m => m.destination)
    expect(dests.slice(-3)).toEqual(['/run', '/run/.runcvm-warnings.log', '/var/run/virtiofsd'])
    expect(out.mounts!.at(-2)).toEqual({
      destination: '/run/.runcvm-warnings.log', type: 'bind', source: '/run/runcvm/warnings.log',
      options: ['bind', 'private', 'rw', 'nosuid', 'nodev', 'noexec'],
    })
    expect(dests.indexOf('/vm')).toBeLessThan(dests.indexOf('/run/.runcvm-warnings.log'))
    expect(envValue(out.process.env!, 'RUNCVM_CONTAINER_ID')).toBe('abc123')
  })
  it('adds no mount and no id when the runtime has no log', () => {
    const out = rewrite(plain())
    expect(out.mounts!.at(-2)!.destination).toBe('/run')
    expect(envValue(out.process.env!, 'RUNCVM_CONTAINER_ID')).toBeUndefined()
  })
})

describe('Podman 4.3 (captured podman-run-plain.config.json)', () => {
  const pod = () => configFixture('podman-run-plain.config.json')
  it("replaces Podman's 64 MiB /dev/shm bind with a tmpfs as large as the VM's memory, not moved under /vm", () => {
    const input = pod()
    expect(input.mounts!.find(m => m.destination === '/dev/shm')).toMatchObject({ type: 'bind' })
    const out = rewrite(input)
    const shm = out.mounts!.filter(m => m.destination.endsWith('/dev/shm'))
    expect(shm).toEqual([{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=512M'] }])
  })
  it('moves its /etc and /run/.containerenv binds under /vm, keeps its netns', () => {
    const dests = rewrite(pod()).mounts!.map(m => m.destination)
    expect(dests).toEqual(expect.arrayContaining(['/vm/etc/hosts', '/vm/etc/resolv.conf', '/vm/etc/hostname', '/vm/run/.containerenv']))
    expect(() => checkNetworkNamespace(pod())).not.toThrow()
  })
  it('a config without any /dev/shm mount gets one', () => {
    const s = pod(); s.mounts = s.mounts!.filter(m => m.destination !== '/dev/shm')
    expect(rewrite(s).mounts!.filter(m => m.destination === '/dev/shm')).toHaveLength(1)
  })
})
