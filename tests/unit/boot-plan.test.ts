// planVmBoot (lib/vm/boot-plan.ts) on real fixtures: each captured `docker run` config.json goes
// through the real create rewrite, then through what ctr-entrypoint saves (workloadConfig), then
// the planner with the probes of one variant. Goldens: tests/golden/boot-<variant>.txt (the whole
// plan: vm.json, fstab, disk commands, copies, QEMU's argv and environment, the init script).
import { describe, expect, it } from 'vitest'
import { rewriteCreateConfig } from '../../lib/oci/rewrite-create.js'
import type { Spec } from '../../lib/oci/spec.js'
import { parsePasswd } from '../../lib/passwd.js'
import { envOf, parseSettings, type RunCvmSettings } from '../../lib/settings.js'
import type { ConfigState, NetworkState } from '../../lib/state.js'
import { planVmBoot, probesFromState, type BootPlan, type BootProbes } from '../../lib/vm/boot-plan.js'
import { roleInputEnv, workloadConfig } from '../../lib/workload-env.js'
import { BUNDLED_DEBIAN, configFixture } from './helpers.js'

const PASSWD = parsePasswd('root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n')
const NET1: NetworkState = { v: 1, routes: [], interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' }] }
const NET2: NetworkState = {
  v: 1,
  interfaces: [
    { name: 'eth0', mac: '02:42:0a:f4:05:03', mtu: 1500, ip: '10.244.5.3', prefix: 24, gateway: '10.244.5.1' },
    { name: 'eth1', mac: '02:42:0a:e7:e9:03', mtu: 9000, ip: '10.231.233.3', prefix: 24 },
  ],
  routes: [{ dst: '10.9.0.0/16', gateway: '10.231.233.1', dev: 'eth1' }],
}
const UUIDS = ['0b8c7a1e-5d3f-4c2a-9e61-7f0d2b4a6c88', '5e2f9c40-1a7b-4d8e-b3c6-92d1e0f4a7b5']
const none = { srcExists: false, srcIsFile: false, dstExists: false, dstIsDir: false }

/** The container as ctr-qemu finds it: fixture -> create rewrite -> ctr-entrypoint's saved config. */
function container(fixture: string, env: string[] = []): { cfg: ConfigState; s: RunCvmSettings } {
  const spec: Spec = configFixture(fixture)
  spec.process.env = [...(spec.process.env ?? []), ...env]
  const out = rewriteCreateConfig(spec, { settings: parseSettings(envOf(spec.process.env)), kernel: BUNDLED_DEBIAN, hostRoot: '/opt/runcvm', rootPath: spec.root.path })
  const cenv = roleInputEnv(envOf(out.process.env))
  const runtimeSettings = parseSettings(cenv)
  const cfg = workloadConfig({ args: out.process.args!.slice(1), env: cenv, cwd: out.process.cwd, passwd: PASSWD, settings: runtimeSettings })
  return { cfg, s: parseSettings(cfg.settingsEnv) }
}

const probes = (over: Partial<BootProbes> = {}): BootProbes => ({
  accel: 'tcg', hostCpus: 4, tty: false, stdinOpen: false, pkgfs: true, disks: [], newUuids: [], net: NET1,
  image: { resolved: '/bin/busybox', group: 'root:x:0:\ntty:x:5:\n', hostname: 'c0ffee\n', etcFstab: '', system: NO_TOOLS }, ...over,
})

/** A busybox image: no modprobe, kmod, apparmor_parser or dockerd. */
const NO_TOOLS = { modprobe: false, kmod: false, apparmorParser: false, modprobeOnPath: false, dockerd: false }
/** A Debian image with systemd, dockerd and apparmor_parser but no kmod (no modprobe). */
const SYSTEM_IMAGE = {
  resolved: '/usr/lib/systemd/systemd', group: 'root:x:0:\n', hostname: 'c0ffee\n', etcFstab: '',
  system: { modprobe: false, kmod: false, apparmorParser: true, modprobeOnPath: false, dockerd: true },
}

const VARIANTS: Record<string, () => { fixture: string; env?: string[]; probes: BootProbes }> = {
  'headless-tcg-stdio': () => ({ fixture: 'config-run-plain.json', probes: probes() }),
  'headless-kvm-stdin-nopkgfs': () => ({ fixture: 'config-run-plain.json', probes: probes({ accel: 'kvm', stdinOpen: true, pkgfs: false }) }),
  'tty-sized': () => ({ fixture: 'config-run-tty.json', probes: probes({ tty: true, ttySize: { rows: 40, cols: 132 }, stdinOpen: true }) }),
  'tty-unsized-init': () => ({ fixture: 'config-run-init.json', env: ['RUNCVM_KERNEL_DEBUG=1'], probes: probes({ tty: true, stdinOpen: true }) }),
  'serial-it': () => ({ fixture: 'config-run-it.json', env: ['RUNCVM_DISPLAY_MODE=serial'], probes: probes({ tty: true, ttySize: { rows: 24, cols: 80 }, stdinOpen: true }) }),
  'vnc-efi-multinic': () => ({ fixture: 'config-run-network-user.json', env: ['RUNCVM_DISPLAY_MODE=vnc', 'RUNCVM_BIOS=EFI', 'RUNCVM_QEMU_VNC_DISPLAY=2'], probes: probes({ net: NET2 }) }),
  // systemd as the entrypoint in an image with dockerd and apparmor_parser but no kmod, IPv6 off:
  // AppArmor kept, the package's modprobe, bridge/br_netfilter at boot, modules.devname hidden,
  // the stop listener with systemd's poweroff signal, ipv6.disable=1.
  'systemd-dockerd-ipv6-off': () => ({
    fixture: 'config-run-plain.json', env: ['RUNCVM_IPV6=off', 'RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,2G'],
    probes: probes({ image: SYSTEM_IMAGE, disks: [{ ...none, dstExists: true, dstIsDir: true }], newUuids: UUIDS.slice(0, 1) }),
  }),
  'disks-tmpfs-mem-cpus': () => ({
    fixture: 'config-run-mem-cpus-volume-tmpfs.json',
    env: ['RUNCVM_DISKS=/disks/new,/data,ext4,1G;/disks/old,/var/lib/docker,ext4', 'RUNCVM_HUGETLB=1', 'RUNCVM_QEMU_MEM_PREALLOC=on'],
    probes: probes({ disks: [{ ...none, dstExists: true, dstIsDir: true }, { ...none, srcExists: true, srcIsFile: true, uuid: 'e0a1b2c3-0000-4000-8000-000000000001' }], newUuids: UUIDS }),
  }),
}

/** The whole plan as reviewable text. */
function render(p: BootPlan): string {
  return [
    '== vm.json', JSON.stringify(p.vmState, null, 2),
    '== fstab', ...p.fstab,
    '== disk commands', ...p.disks.flatMap(d => d.cmds.map(c => c.join(' '))),
    '== copies', ...p.copies.map(([f, t]) => `${f} -> ${t}`),
    `== qemu ${p.qemu.file}`, ...Object.entries(p.qemu.env).map(([k, v]) => `env ${k}=${v}`), ...p.qemu.args,
    '== init script', p.initScript,
  ].join('\n')
}

describe('planVmBoot goldens', () => {
  it.each(Object.keys(VARIANTS))('%s', async name => {
    const v = VARIANTS[name]()
    const { cfg, s } = container(v.fixture, v.env)
    const plan = planVmBoot(cfg, s, v.probes)
    await expect(render(plan)).toMatchFileSnapshot(`../golden/boot-${name}.txt`)
    // The VM's Node init fallback plans again from what ctr-qemu saved: the same init script.
    const again = probesFromState(plan.vmState, plan.fstab, s.RUNCVM_DISKS, v.probes.net, v.probes.image)
    expect(planVmBoot(cfg, s, again).initScript).toBe(plan.initScript)
  })
})

describe('planVmBoot decisions', () => {
  const { cfg, s } = container('config-run-plain.json')
  const plan = (over: Partial<BootProbes> = {}, set: Partial<RunCvmSettings> = {}) => planVmBoot(cfg, { ...s, ...set }, probes(over))
  it('memory: RUNCVM_MEM_SIZE as the runtime set it, the settings default without it', () => {
    expect(plan().vmSpec.memSize).toBe('512M') // the fixture has no memory limit
    expect(plan({}, { RUNCVM_MEM_SIZE: '2048M' }).vmSpec.memSize).toBe('2048M')
    const bare = { ...cfg, settingsEnv: {} }
    expect(planVmBoot(bare, parseSettings({}), probes()).vmSpec.memSize).toBe('512M')
  })
  it.each([
    ['headless', '', true], ['headless', 'none', true], ['headless', 'std', false], ['serial', '', true], ['vnc', '', false], ['vnc', 'none', false],
  ] as const)('nomodeset for %s with VGA %j: %s', (mode, vga, want) => {
    const cmdline = plan({}, { RUNCVM_DISPLAY_MODE: mode, RUNCVM_QEMU_VGA: vga }).vmSpec.kernel.cmdline
    expect(cmdline.split(' ').includes('nomodeset')).toBe(want)
  })
  it('stdio: ports without -t (stdin only with -i), the console and a tty port with -t', () => {
    expect(plan().vmState.stdio).toEqual({ stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' })
    expect(plan({ stdinOpen: true }).vmState.stdio).toEqual({ stdin: 'org.runcvm.stdin', stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' })
    const t = plan({ tty: true, stdinOpen: true, ttySize: { rows: 5, cols: 6 } })
    expect(t.vmState).toMatchObject({ ttyPort: 'org.runcvm.tty', ttySize: { rows: 5, cols: 6 } })
    expect(t.vmState.stdio).toBeUndefined()
    expect(t.vmSpec.stdioPorts).toBeUndefined()
    expect(t.vmSpec.ttyPort).toEqual({ name: 'org.runcvm.tty', socket: '/run/.runcvm-tty' })
  })
  it('no fstab without tmpfs or disks; the package tag only with its virtiofsd', () => {
    expect(plan().fstab).toEqual([])
    expect(plan({ pkgfs: false }).vmState.pkgTag).toBeUndefined()
    expect(plan({ pkgfs: false }).vmSpec.pkgfs).toBeUndefined()
    expect(plan().vmState.pkgTag).toBe('runcvmpkg')
  })
  it('the kernel boots the init script ctr-qemu writes', () =>
    expect(plan().vmSpec.kernel.cmdline).toMatch(/(^| )init=\/\.runcvm\/vm-init\.sh( |$)/))
  it('a bad disk spec is refused with upstream\'s text', () =>
    expect(() => plan({ disks: [none], newUuids: UUIDS }, { RUNCVM_DISKS: '/disks/x,/data,ext4' })).toThrow("disk spec '/disks/x,/data,ext4' invalid: size must be specified"))
})
