// --shm-size, --sysctl and --ulimit carried into the VM (lib/vm/guest-limits.ts): read from real
// Docker config.json fixtures, encoded, and applied by a real shell.
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { parseProcLimits, rlimitLines, specGuestSysctls, specRlimits, specShmSize, sysctlLines } from '../../lib/vm/guest-limits.js'
import { buildVmInitScript } from '../../lib/vm/init-script.js'
import { launchPaths } from '../../lib/vm/launch.js'

const fixture = (name: string) => JSON.parse(readFileSync(`tests/fixtures/oci/${name}`, 'utf8'))
const BUSYBOX = ['dist/opt/runcvm/usr/bin/busybox', '/bin/busybox'].find(existsSync)

describe('specShmSize', () => {
  it('reads Docker\'s default 64 MiB /dev/shm', () => expect(specShmSize(fixture('config-run-plain.json').mounts)).toBe('67108864'))
  it('reads --shm-size 128m', () => expect(specShmSize(fixture('config-run-volume-tmpfs-disks-shm.json').mounts)).toBe('134217728'))
  it('takes the last size= and the k/m/g/% forms', () => {
    expect(specShmSize([{ destination: '/dev/shm', type: 'tmpfs', options: ['size=1m', 'size=96m'] }])).toBe('96m')
    expect(specShmSize([{ destination: '/dev/shm', type: 'tmpfs', options: ['size=50%'] }])).toBe('50%')
  })
  it('ignores a bind, a missing mount and a malformed size', () => {
    expect(specShmSize([{ destination: '/dev/shm', type: 'bind', source: '/x', options: ['size=1m'] }])).toBe('')
    expect(specShmSize([])).toBe('')
    expect(specShmSize([{ destination: '/dev/shm', type: 'tmpfs', options: ['size=1m,huge=always'] }])).toBe('')
  })
})

describe('specGuestSysctls / sysctlLines', () => {
  it('keeps Docker\'s default net.* sysctls', () => {
    expect(specGuestSysctls(fixture('config-run-plain.json').linux.sysctl))
      .toBe('net.ipv4.ip_unprivileged_port_start=0\nnet.ipv4.ping_group_range=0 2147483647')
  })
  it('keeps net.* and the IPC namespace keys, drops the rest, traversal, newlines and non-strings', () => {
    expect(specGuestSysctls({
      'net.ipv4.ip_local_port_range': '30000 40000', 'kernel.shmmax': '1', 'net/../../etc/x': '1', 'net.a..b': '1',
      'net.core.somaxconn': 'a\nb', 'net.ipv4.tcp_syncookies': 1, '/net/x': '1',
      'kernel.msgmax': '65536', 'kernel.sem': '250 32000 32 128', 'fs.mqueue.msg_max': '64', 'fs/mqueue/queues_max': '300',
      'kernel.hostname': 'x', 'kernel.shmmax/../x': '1', 'kernel.core_pattern': '|/x', 'fs.file-max': '1', 'fs.mqueue..': '1',
    })).toBe('net.ipv4.ip_local_port_range=30000 40000\nkernel.shmmax=1\nkernel.msgmax=65536\nkernel.sem=250 32000 32 128\nfs.mqueue.msg_max=64\nfs/mqueue/queues_max=300')
  })
  it('writes /proc/sys paths, dotted and slashed keys', () => {
    expect(sysctlLines('net.ipv4.ip_local_port_range=30000 40000\nnet/ipv4/conf/eth0.100/rp_filter=2\nkernel.x=1\nkernel.sem=1 2 3 4\nnet/../x=1\nbad')).toEqual([
      "[ ! -e '/proc/sys/net/ipv4/ip_local_port_range' ] || printf '%s\\n' '30000 40000' >'/proc/sys/net/ipv4/ip_local_port_range'",
      "[ ! -e '/proc/sys/net/ipv4/conf/eth0.100/rp_filter' ] || printf '%s\\n' '2' >'/proc/sys/net/ipv4/conf/eth0.100/rp_filter'",
      "[ ! -e '/proc/sys/kernel/sem' ] || printf '%s\\n' '1 2 3 4' >'/proc/sys/kernel/sem'",
    ])
  })
})

describe('specRlimits / rlimitLines', () => {
  it('encodes known rlimits with valid numbers', () => {
    expect(specRlimits([
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }, { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
      { type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: -1, hard: 1 }, { type: 'RLIMIT_AS', soft: 'x', hard: 1 },
    ])).toBe('RLIMIT_NOFILE=1024:2048\nRLIMIT_NPROC=100:200')
    expect(specRlimits(undefined)).toBe('')
    expect(fixture('config-run-plain.json').process.rlimits).toBeUndefined()
  })
  it('fills the types the spec leaves out from the inherited limits (/proc/PID/limits as on a Docker host)', () => {
    const inherited = parseProcLimits(readFileSync('tests/fixtures/proc/limits-containerd-shim.txt', 'utf8'))
    expect(inherited).toContainEqual({ type: 'RLIMIT_NOFILE', soft: '20000', hard: '20000' })
    expect(inherited).toContainEqual({ type: 'RLIMIT_STACK', soft: '8388608', hard: '18446744073709551615' })
    expect(inherited.map(r => r.type)).not.toContain(undefined)
    expect(inherited).toHaveLength(15) // every row but "Max realtime timeout"
    const enc = specRlimits([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }], inherited).split('\n')
    expect(enc[0]).toBe('RLIMIT_NOFILE=1024:2048')
    expect(enc.filter(l => l.startsWith('RLIMIT_NOFILE='))).toHaveLength(1)
    expect(enc).toContain('RLIMIT_NPROC=96364:96364')
    expect(enc).toContain('RLIMIT_CORE=0:18446744073709551615')
    expect(specRlimits(undefined, inherited).split('\n')).toContain('RLIMIT_NOFILE=20000:20000')
  })
  it('raises the guest\'s fs.nr_open for an open-files limit above its default, capped at the kernel\'s ceiling', () => {
    expect(rlimitLines('RLIMIT_NOFILE=1048576:1048576')).toEqual(['ulimit -S -n 1048576; ulimit -H -n 1048576; ulimit -S -n 1048576'])
    expect(rlimitLines('RLIMIT_NOFILE=1024:18446744073709551615')).toEqual([
      'read _n </proc/sys/fs/nr_open; [ "$_n" -ge 1073741816 ] || echo 1073741816 >/proc/sys/fs/nr_open',
      'ulimit -S -n 1024; ulimit -H -n 1073741816; ulimit -S -n 1024',
    ])
  })
  it('converts units and infinity for busybox ulimit', () => {
    expect(rlimitLines('RLIMIT_NOFILE=1024:2048\nRLIMIT_STACK=8388608:18446744073709551615\nRLIMIT_CORE=0:1024\nRLIMIT_X=1:1')).toEqual([
      'ulimit -S -n 1024; ulimit -H -n 2048; ulimit -S -n 1024',
      'ulimit -S -s 8192; ulimit -H -s unlimited; ulimit -S -s 8192',
      'ulimit -S -c 0; ulimit -H -c 2; ulimit -S -c 0',
    ])
  })
  it.skipIf(!BUSYBOX)('applies nofile in a real busybox sh, lowering and raising within the hard limit', () => {
    const run = (enc: string) => execFileSync(BUSYBOX!, ['sh', '-c', `${rlimitLines(enc).join('\n')}\necho $(ulimit -Sn) $(ulimit -Hn)`], { encoding: 'utf8' }).trim()
    expect(run('RLIMIT_NOFILE=1024:2048')).toBe('1024 2048')
    expect(run('RLIMIT_NOFILE=100:100')).toBe('100 100')
  })
})

describe('in the VM init script', () => {
  const input = (settings: Record<string, string>) => ({
    cfg: { v: 1 as const, args: ['true'], env: [], settingsEnv: {}, cwd: '/', uid: 0, gid: 0, groups: [] },
    settings: { RUNCVM_INIT: false, RUNCVM_BOOT_TIMING: false, RUNCVM_CGROUPFS: '', ...settings },
    vm: { v: 1 as const, console: 'hvc0' as const, controlPort: 'p' }, net: { v: 1 as const, interfaces: [], routes: [] },
    fstab: [], image: { resolved: '/bin/true', system: { modprobe: false, kmod: false, apparmorParser: false, modprobeOnPath: false, dockerd: false } }, launch: launchPaths({ v: 1, console: 'hvc0', controlPort: 'p' }), packageModules: true,
  })
  it('sizes /dev/shm only with a size= value', () => {
    expect(buildVmInitScript(input({ RUNCVM_SHM_SIZE: '96m' }))).toContain('shm /dev/shm tmpfs mode=1777,nosuid,nodev,size=96m 0 0')
    expect(buildVmInitScript(input({ RUNCVM_SHM_SIZE: '1m,exec' }))).toContain('shm /dev/shm tmpfs mode=1777,nosuid,nodev 0 0')
  })
  it('sets sysctls and rlimits before the workload starts', () => {
    const text = buildVmInitScript(input({ RUNCVM_SYSCTL: 'net.core.somaxconn=512', RUNCVM_RLIMITS: 'RLIMIT_NOFILE=1:2' }))
    const at = (s: string) => text.indexOf(s)
    expect(at("'/proc/sys/net/core/somaxconn'")).toBeGreaterThan(at('wait $NP $MP'))
    expect(at('ulimit -S -n 1')).toBeGreaterThan(0)
    expect(at('ulimit -S -n 1')).toBeLessThan(at('exec 1>&8'))
  })
})
