// lib/vm/launch.ts: how the VM starts the workload (runcvm-init argv, env, --init console job).
import { describe, expect, it } from 'vitest'
import { buildInittab, buildVmStartScript, initStopSignal, isInitEntrypoint, planLaunch, resolveOnPath } from '../../lib/vm/launch.js'
import type { ConfigState } from '../../lib/state.js'

describe('launch', () => {
  const cfg: ConfigState = { v: 1, args: ['sh', '-c', 'echo hi'], env: ['PATH=/bin', 'RUNCVM_CPUS=2', 'RUNCVM_FOO=1', 'A=b'], settingsEnv: {}, cwd: '/tmp', uid: 1000, gid: 100, groups: [10, 11] }
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
  it('PATH lookup', () => {
    const files = new Set(['/usr/bin/env', '/bin/sh'])
    expect(resolveOnPath('sh', '/usr/bin:/bin', p => files.has(p))).toBe('/bin/sh')
    expect(resolveOnPath('./x', '/bin', () => false)).toBe('./x')
    expect(resolveOnPath('nope', '/bin', () => false)).toBeUndefined()
  })
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
