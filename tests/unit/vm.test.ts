import { describe, expect, it } from 'vitest'
import { cpuinfoHasVirt, decideAccel } from '../../lib/accel.js'
import { diskFstabLine, parseDisks, planDisk } from '../../lib/disks.js'
import { deriveExitCode } from '../../lib/vm/exit-code.js'
import { homeOf, parsePasswd, resolveHome } from '../../lib/vm/passwd.js'
import { cgroupMode } from '../../lib/vm/cgroupfs.js'
import { buildInittab, buildVmStartScript, cleanEnv, initStopSignal, isInitEntrypoint, parseUidGid, planLaunch, resolveOnPath } from '../../lib/vm/launch.js'
import { groupId } from '../../lib/vm/mounts.js'
import { shWord } from '../../lib/sh.js'
import type { ConfigState } from '../../lib/state.js'

describe('accelerator decision table', () => {
  const real = { kvmRw: true, cpuVirt: true, pvm: false }
  it.each([
    ['auto', real, 'kvm', false],
    ['auto', { ...real, pvm: true }, 'tcg', true],
    ['auto', { ...real, cpuVirt: false }, 'tcg', true],
    ['auto', { ...real, kvmRw: false }, 'tcg', true],
    ['kvm', { kvmRw: false, cpuVirt: false, pvm: true }, 'kvm', false],
    ['tcg', real, 'tcg', false],
  ] as const)('%s %o → %s', (setting, probe, accel, warns) => {
    const c = decideAccel(setting, probe)
    expect(c.accel).toBe(accel)
    expect(c.warning !== undefined).toBe(warns)
    if (warns) expect(c.warning).toMatch(/^RunCVM: Warning: .*TCG/)
  })
  it('reads vmx/svm from cpuinfo flags only', () => {
    expect(cpuinfoHasVirt('processor\t: 0\nflags\t\t: fpu vme vmx sse\n')).toBe(true)
    expect(cpuinfoHasVirt('flags\t\t: fpu svm\n')).toBe(true)
    expect(cpuinfoHasVirt('model name: vmx-ish\nflags\t\t: fpu sse\n')).toBe(false)
  })
})

describe('RUNCVM_DISKS', () => {
  it('parses specs', () => {
    expect(parseDisks('/d1,/data,ext4,1G;/d2,/var,ext4')).toEqual([
      { spec: '/d1,/data,ext4,1G', src: '/d1', dst: '/data', fs: 'ext4', size: '1G' },
      { spec: '/d2,/var,ext4', src: '/d2', dst: '/var', fs: 'ext4' },
    ])
    expect(parseDisks('')).toEqual([])
  })
  it.each([
    ['/d1,/data', "disk spec '/d1,/data' invalid: src, dst and fs must all be specified"],
    ['/x,/x,ext4', "disk spec '/x,/x,ext4' invalid: src '/x' cannot be same as dst"],
  ])('%s', (spec, msg) => expect(() => parseDisks(spec)).toThrow(msg))
  const tools = { busybox: '/bb', mke2fs: '/mke2fs', vmMount: '/vm' }
  const none = { srcExists: false, srcIsFile: false, dstExists: false, dstIsDir: false }
  it('filesystem checks use upstream texts', () => {
    const [d] = parseDisks('/d/1,/data,ext4')
    expect(() => planDisk(d, { ...none, srcExists: true }, tools)).toThrow("src '/d/1' must be a plain file if it exists")
    expect(() => planDisk(d, { ...none, dstExists: true }, tools)).toThrow("dst '/data' must be a directory if it exists")
    expect(() => planDisk(d, none, tools)).toThrow("size must be specified if src '/d/1' does not exist")
  })
  it('creates and formats a missing backing file from dst', () => {
    const [d] = parseDisks('/d/1,/data,ext4,1G')
    expect(planDisk(d, none, tools)).toEqual([
      ['/bb', 'mkdir', '-p', '/d'], ['/bb', 'truncate', '-s', '1G', '/d/1'], ['/bb', 'mkdir', '-p', '/vm/data'],
      ['/mke2fs', '-q', '-F', '-t', 'ext4', '-d', '/vm/data', '/d/1'],
    ])
    expect(planDisk(d, { ...none, srcExists: true, srcIsFile: true }, tools)).toEqual([['/bb', 'mkdir', '-p', '/vm/data']])
    expect(diskFstabLine(d, 'abcd')).toBe('UUID=abcd /data ext4 defaults,noatime 0 0')
  })
})

describe('exit code derivation', () => {
  it.each([
    [{ appCode: -1, exitStatus: 3, qemuStatus: 0 }, 255],
    [{ appCode: 300 }, 44],
    [{ exitStatus: 3, qemuStatus: 0 }, 3],
    [{ exitStatus: 137 }, 137],
    [{ qemuStatus: 5 }, 3], // qemu-exit 3 → 2*3-1
    [{ qemuStatus: 255 }, 128],
    [{ qemuStatus: 0 }, 0],
    [{}, 0],
  ])('%o → %d', (facts, code) => expect(deriveExitCode(facts)).toBe(code))
})

describe('passwd / HOME (moby#2968)', () => {
  const pw = 'root:x:0:0:root:/root:/bin/sh\n# c\nbad line\nuser:x:1000:1000::/home/user:/bin/sh\nnobody:x:65534:65534:n:/nonexistent:/bin/false\n'
  it('parses and looks up by uid or name', () => {
    expect(parsePasswd(pw)).toHaveLength(3)
    expect(homeOf(parsePasswd(pw), 1000)).toBe('/home/user')
    expect(homeOf(parsePasswd(pw), 'root')).toBe('/root')
  })
  it('keeps an explicit HOME, else the user\'s home, else /', () => {
    expect(resolveHome(true, '/custom', pw, 1000)).toBe('/custom')
    expect(resolveHome(false, '/root', pw, 1000)).toBe('/home/user')
    expect(resolveHome(false, '/root', pw, 4242)).toBe('/')
    expect(resolveHome(false, '/root', undefined, 0)).toBe('/')
  })
})

describe('cgroupfs', () => {
  it('mode defaults: none for systemd, else hybrid', () => {
    expect(cgroupMode('', true)).toBe('none')
    expect(cgroupMode('', false)).toBe('hybrid')
    expect(cgroupMode('mixed', true)).toBe('hybrid')
    expect(cgroupMode('2', false)).toBe('cgroup2')
    expect(cgroupMode('systemd', false)).toBe('none')
  })
})

describe('launch', () => {
  const cfg: ConfigState = { v: 1, args: ['sh', '-c', 'echo hi'], env: ['PATH=/bin', 'RUNCVM_CPUS=2', 'RUNCVM_FOO=1', 'A=b'], settingsEnv: {}, cwd: '/tmp', uid: 1000, gid: 100, groups: [10, 11], cpus: 1 }
  const paths = { runcvmInit: '/g/sbin/runcvm-init', exitFile: '/.runcvm/exit-status', controlPort: 'org.runcvm.control' }
  it('vm mode', () => {
    expect(planLaunch(cfg, paths, 'vm')).toEqual({
      file: '/g/sbin/runcvm-init',
      argv: ['/g/sbin/runcvm-init', '--vm', '--exit-file', '/.runcvm/exit-status', '--control-port', 'org.runcvm.control',
        '--uid', '1000', '--gid', '100', '--groups', '10,11', '--cwd', '/tmp', '--', 'sh', '-c', 'echo hi'],
      env: ['PATH=/bin', 'A=b'],
    })
  })
  it('no-fork mode, no groups', () => {
    expect(planLaunch({ ...cfg, groups: [] }, paths, 'no-fork').argv.slice(1, 9)).toEqual(['--no-fork', '--uid', '1000', '--gid', '100', '--cwd', '/tmp', '--'])
  })
  it('no-fork mode with a stop signal: runcvm-init listens on the control port for it', () => {
    expect(planLaunch({ ...cfg, groups: [] }, paths, 'no-fork', 38).argv.slice(1, 6))
      .toEqual(['--no-fork', '--control-port', 'org.runcvm.control', '--stop-signal', '38'])
  })
  it.each([
    ['/lib/systemd/systemd', '/sbin/init', 38], // SIGRTMIN+4 (glibc): poweroff; +3 would only halt
    ['/usr/lib/systemd/systemd', 'systemd', 38],
    ['/bin/busybox', 'init', 12], // SIGUSR2: busybox init's poweroff
    ['/sbin/init', '/sbin/init', undefined], // sysvinit & co: ACPI power button only
  ] as const)('initStopSignal(%s, %s) = %s', (resolved, arg0, sig) => expect(initStopSignal(resolved, arg0)).toBe(sig))
  it('supplementary groups are deduplicated (docker: --group-add of a gid /etc/group already gives)', () => {
    const argv = planLaunch({ ...cfg, gid: 1000, groups: [1000, 2000, 2000] }, paths, 'vm').argv
    expect(argv[argv.indexOf('--groups') + 1]).toBe('1000,2000')
  })
  it('non-tty: workload fds on the stdio ports (stdin only when given); -t: window size', () => {
    const io = { stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' }
    const tail = (p: Parameters<typeof planLaunch>[1]) => { const a = planLaunch(cfg, p, 'vm').argv; return a.slice(a.indexOf('/tmp') + 1, a.indexOf('--')) }
    expect(tail({ ...paths, stdio: io })).toEqual(['--stdin', '/dev/null', '--stdout', 'port:org.runcvm.stdout', '--stderr', 'port:org.runcvm.stderr'])
    expect(tail({ ...paths, stdio: { ...io, stdin: 'org.runcvm.stdin' } })).toEqual(['--stdin', 'port:org.runcvm.stdin', '--stdout', 'port:org.runcvm.stdout', '--stderr', 'port:org.runcvm.stderr'])
    expect(tail({ ...paths, ttySize: { rows: 40, cols: 132 } })).toEqual(['--tty-size', '40,132'])
    expect(tail(paths)).toEqual([])
  })
  it('-t: the resize port goes to the VM supervisor only', () => {
    const p = { ...paths, ttySize: { rows: 40, cols: 132 }, ttyPort: 'org.runcvm.tty' }
    const vm = planLaunch(cfg, p, 'vm').argv
    expect(vm.slice(1, vm.indexOf('--uid'))).toEqual(['--vm', '--exit-file', paths.exitFile, '--control-port', paths.controlPort, '--tty-port', 'org.runcvm.tty'])
    expect(planLaunch(cfg, p, 'no-fork').argv).not.toContain('--tty-port')
  })
  it.each([
    ['/lib/systemd/systemd', '/sbin/init', true],
    ['/usr/lib/systemd/systemd', 'systemd', true],
    ['/sbin/init', '/sbin/init', true],
    ['/bin/busybox', '/sbin/init', true],
    ['/bin/busybox', 'sh', false],
    ['/usr/bin/sleep', 'sleep', false],
  ])('isInitEntrypoint(%s, %s) = %s', (resolved, arg0, want) => expect(isInitEntrypoint(resolved, arg0)).toBe(want))
  it('PATH lookup and uid:gid parsing', () => {
    const files = new Set(['/usr/bin/env', '/bin/sh'])
    expect(resolveOnPath('sh', '/usr/bin:/bin', p => files.has(p))).toBe('/bin/sh')
    expect(resolveOnPath('./x', '/bin', () => false)).toBe('./x')
    expect(resolveOnPath('nope', '/bin', () => false)).toBeUndefined()
    expect(parseUidGid('1000:1000:')).toEqual({ uid: 1000, gid: 1000, groups: [] })
    expect(parseUidGid('0:0:4,24')).toEqual({ uid: 0, gid: 0, groups: [4, 24] })
  })
  it('cleanEnv drops every RUNCVM_* name', () => expect(cleanEnv(['RUNCVM_X=1', 'X=RUNCVM_Y', 'E='])).toEqual(['X=RUNCVM_Y', 'E=']))
  it('--init console script: exact env and argv, once only, then power off', () => {
    const l = planLaunch({ ...cfg, args: ['sh', '-c', "echo 'x'\ny"] }, paths, 'vm')
    expect(buildVmStartScript(l, { busybox: '/bb', onceFile: '/.runcvm/once' })).toBe(
      "[ -e '/.runcvm/once' ] && exec '/bb' poweroff -f\n: > '/.runcvm/once'\n" +
      "'/bb' env -i 'PATH=/bin' 'A=b' '/g/sbin/runcvm-init' '--vm' '--exit-file' '/.runcvm/exit-status' '--control-port' 'org.runcvm.control' " +
      "'--uid' '1000' '--gid' '100' '--groups' '10,11' '--cwd' '/tmp' '--' 'sh' '-c' 'echo '\\''x'\\''\ny'\nexec '/bb' poweroff -f\n")
  })
  it('inittab', () => {
    expect(buildInittab({ console: 'hvc0', vmStart: '/g/scripts/runcvm-vm-start', poweroff: '/g/bin/poweroff' })).toBe(
      'hvc0::respawn:-/g/scripts/runcvm-vm-start\nnull::ctrlaltdel:/g/bin/poweroff\nnull::restart:/g/bin/poweroff\nnull::shutdown:/g/bin/poweroff\n')
  })
})

describe('/dev fixes', () => {
  it('tty group id from /etc/group, 5 when absent', () => {
    expect(groupId('root:x:0:\ntty:x:7:\n', 'tty', 5)).toBe(7)
    expect(groupId(undefined, 'tty', 5)).toBe(5)
  })
})

describe('shell quoting for batches', () => {
  it('quotes only what needs it', () => {
    expect(shWord('/sys/fs/cgroup')).toBe('/sys/fs/cgroup')
    expect(shWord("it's a b")).toBe(`'it'\\''s a b'`)
    expect(shWord('')).toBe("''")
  })
})

describe('buildShScript', () => {
  it('one script: ip runs as a here-doc batch, failures stop unless keepGoing, background last', async () => {
    const { buildShScript } = await import('../../lib/sh.js')
    const cmds = [['/bb', 'mount', '-o', 'remount,rw', '/'], ['/ip', 'link', 'set', 'lo', 'up'], ['/ip', 'addr', 'add', '1.2.3.4/8', 'dev', 'eth0'], ['/bb', 'mkdir', "it's"]]
    expect(buildShScript(cmds, { batchIp: '/ip' })).toBe(
      "/bb mount -o remount,rw / || exit $?\n/ip -batch - <<'RUNCVM_EOF' || exit $?\nlink set lo up\naddr add 1.2.3.4/8 dev eth0\nRUNCVM_EOF\n/bb mkdir 'it'\\''s' || exit $?\n")
    expect(buildShScript([['/ip', 'x']], { batchIp: '/ip', keepGoing: true, background: [['/bb', 'arping', '-U']] })).toBe(
      "/ip -force -batch - <<'RUNCVM_EOF'\nx\nRUNCVM_EOF\n/bb arping -U &\n")
    expect(buildShScript([['/bb', 'mount', '-t', 'proc', 'proc', '/proc'], ['/x', 'y']], { applets: '/bb', keepGoing: true })).toBe('mount -t proc proc /proc\n/x y\n')
  })
})
