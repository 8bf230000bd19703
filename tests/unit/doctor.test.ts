import { describe, expect, it } from 'vitest'
import {
  checkKvm, doctorExitCode, formatReport, overlayFacts, runChecks, type Finding, type HostFacts,
} from '../../lib/doctor/checks.js'

const RT = '/opt/runcvm/scripts/runcvm-runtime'
/** A KVM host where everything is in place. */
const healthy = (): HostFacts => ({
  kernel: '6.1.0-27-amd64',
  cpu: { virt: 'vmx', hypervisor: false },
  kvmModules: ['kvm', 'kvm_intel'],
  nested: 'Y',
  devices: {
    kvm: { exists: true, isCharDev: true, mode: '0660', open: 'ok' },
    tun: { exists: true, isCharDev: true, mode: '0666', open: 'ok' },
    vhostNet: { exists: true, isCharDev: true, mode: '0600', open: 'ok' },
  },
  rpFilter: { all: '2\n', default: '2\n' },
  runc: { path: '/usr/sbin/runc', version: 'runc version 1.1.5' },
  pkg: { root: '/opt/runcvm', runtimeExecutable: true },
  daemonJson: { file: '/etc/docker/daemon.json', exists: true, runtimePath: RT },
  dockerd: { answers: true, runtimePath: RT, securityOptions: ['name=seccomp,profile=default'], cgroupVersion: '2', rootDir: '/var/lib/docker' },
  expect: { name: 'runcvm', path: RT },
  lsm: { apparmor: true },
  cgroup: 'v2',
  disk: [{ path: '/opt/runcvm', freeBytes: 50 * 2 ** 30 }],
  memory: { totalBytes: 16 * 2 ** 30, availableBytes: 12 * 2 ** 30 },
})
/** This development machine, as probed: kvm_pvm loaded, no /dev/kvm, no vmx/svm, a VM itself. */
const thisHost = (): HostFacts => overlayFacts(healthy(), {
  cpu: { virt: 'none', hypervisor: true }, kvmModules: ['kvm', 'kvm_pvm'], nested: undefined,
  devices: { kvm: { exists: false }, vhostNet: { exists: false } }, rpFilter: { all: '0\n', default: '0\n' }, cgroup: 'hybrid',
})
const byId = (fs: Finding[], id: string) => fs.find(f => f.id === id)!

describe('runcvm-doctor checks', () => {
  it('a healthy KVM host: all ok or info, exit 0', () => {
    const f = runChecks(healthy())
    expect(f.filter(x => x.status === 'warn' || x.status === 'problem')).toEqual([])
    expect(byId(f, 'kvm').title).toBe('KVM usable: vmx, kvm_intel, /dev/kvm 0660 (nested virtualisation enabled)')
    expect(doctorExitCode(f)).toBe(0)
  })

  it('this host (kvm-pvm, no /dev/kvm): KVM warning naming kvm-pvm and TCG, with the fix; exit 2', () => {
    const f = runChecks(thisHost())
    const kvm = byId(f, 'kvm')
    expect(kvm.status).toBe('warn')
    expect(kvm.title).toBe('KVM is kvm-pvm only (and /dev/kvm is absent): VMs run under TCG')
    expect(kvm.fix!.join('\n')).toMatch(/nested virtualisation/)
    expect(kvm.fix!.join('\n')).toMatch(/modprobe kvm_intel/)
    expect(byId(f, 'vhost-net').status).toBe('info')
    expect(byId(f, 'cgroup').title).toBe('cgroups v1 with a cgroup2 mount (hybrid): supported')
    expect(f.filter(x => x.status === 'problem')).toEqual([])
    expect(doctorExitCode(f)).toBe(2)
  })

  it('a simulated broken host: missing tun, strict rp_filter, unregistered runtime; exit 1', () => {
    const facts = overlayFacts(healthy(), {
      devices: { tun: { exists: false } }, rpFilter: { all: '1\n', default: '1\n' },
      daemonJson: { exists: true, runtimePath: undefined }, dockerd: { runtimePath: undefined },
    })
    const f = runChecks(facts)
    expect(byId(f, 'tun')).toMatchObject({ status: 'problem', title: '/dev/net/tun is missing' })
    expect(byId(f, 'tun').fix![0]).toBe('modprobe tun')
    expect(byId(f, 'rp-filter')).toMatchObject({ status: 'warn', title: 'Strict reverse-path filtering on the host (all=1, default=1)' })
    expect(byId(f, 'rp-filter').fix![0]).toMatch(/--set-rp-filter/)
    expect(byId(f, 'daemon-json')).toMatchObject({ status: 'problem', title: 'The runcvm runtime is not registered in /etc/docker/daemon.json' })
    expect(byId(f, 'daemon-json').fix![0]).toMatch(/runcvm-install-runtime/)
    expect(doctorExitCode(f)).toBe(1)
  })

  it('registered in daemon.json but dockerd not reloaded: the reload commands', () => {
    const f = byId(runChecks(overlayFacts(healthy(), { dockerd: { runtimePath: undefined } })), 'dockerd')
    expect(f.status).toBe('problem')
    expect(f.title).toMatch(/has not loaded \/etc\/docker\/daemon.json since runcvm was registered/)
    expect(f.fix).toEqual(expect.arrayContaining(['systemctl reload docker   # systemd']))
  })

  it('KVM cases: no vmx/svm, /dev/kvm absent with vmx, not openable, kvm_pvm next to kvm_intel', () => {
    expect(checkKvm(overlayFacts(healthy(), { cpu: { virt: 'none' }, kvmModules: ['kvm'] })).title).toBe('The CPU exposes no VMX/SVM: VMs run under TCG')
    const noDev = checkKvm(overlayFacts(healthy(), { cpu: { virt: 'svm' }, kvmModules: [], devices: { kvm: { exists: false } } }))
    expect(noDev.title).toBe('The CPU has svm but /dev/kvm is absent: VMs run under TCG')
    expect(noDev.fix![0]).toMatch(/^modprobe kvm_amd/)
    expect(checkKvm(overlayFacts(healthy(), { devices: { kvm: { exists: true, isCharDev: true, mode: '0600', open: 'EACCES' } } })).title)
      .toBe('/dev/kvm cannot be opened (EACCES, mode 0600): VMs run under TCG')
    expect(checkKvm(overlayFacts(healthy(), { kvmModules: ['kvm', 'kvm_intel', 'kvm_pvm'] })).status).toBe('ok')
    // runcvm-kvm-probe's verdict: a VM that cannot run (broken nested entry, another hypervisor)
    const busy = checkKvm(overlayFacts(healthy(), { kvmProbe: { ok: false, stage: 'create-vm', errno: 'EBUSY' } }))
    expect(busy).toMatchObject({ status: 'warn', title: 'KVM cannot create a VM (EBUSY: another hypervisor, e.g. VirtualBox or VMware, may be holding VT-x/AMD-V): VMs run under TCG' })
    expect(checkKvm(overlayFacts(healthy(), { kvmProbe: { ok: true, maxVcpus: 710 } })).title).toBe('KVM usable: vmx, kvm_intel, /dev/kvm 0660, a test VM ran (max 710 vCPUs) (nested virtualisation enabled)')
  })

  it('runc missing, package missing, dockerd down, rootless, SELinux, low disk and memory', () => {
    const f = runChecks(overlayFacts(healthy(), {
      runc: { path: undefined, error: 'runc not found (looked in ...)' }, pkg: { runtimeExecutable: false }, dockerd: { answers: false, runtimePath: undefined },
      lsm: { selinux: 'enforcing' }, disk: [{ path: '/opt', freeBytes: 2 ** 28 }], memory: { totalBytes: 2 ** 30, availableBytes: 2 ** 28 },
    }))
    expect(byId(f, 'runc').status).toBe('problem')
    expect(byId(f, 'package').status).toBe('problem')
    expect(byId(f, 'dockerd').status).toBe('warn')
    expect(byId(f, 'selinux').status).toBe('warn')
    expect(byId(f, 'disk')).toMatchObject({ status: 'warn', title: '/opt: only 0.3 GiB free' })
    expect(byId(f, 'memory')).toMatchObject({ status: 'warn', title: 'memory: only 0.3 GiB available' })
    const rootless = runChecks(overlayFacts(healthy(), { dockerd: { securityOptions: ['name=seccomp,profile=default', 'name=rootless'] } }))
    expect(byId(rootless, 'rootless').status).toBe('problem')
  })

  it('shows the last three warnings of the host log', () => {
    const lines = ['a', 'b', 'c', 'd'].map(x => `2026-11-30T12:00:00.000Z id RunCVM: Warning: ${x}`)
    const w = byId(runChecks(overlayFacts(healthy(), { warnings: { file: '/run/runcvm/warnings.log', lines } })), 'recent-warnings')
    expect(w.status).toBe('info')
    expect(w.detail).toEqual(lines.slice(1))
  })

  it('report: one labelled line per finding, fix lines, summary with the exit status', () => {
    const text = formatReport(runChecks(thisHost()))
    expect(text).toMatch(/^RunCVM doctor: checks of this host\n\nWARN    KVM is kvm-pvm only/)
    expect(text).toMatch(/\n        fix: For KVM speed/)
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^\d+ ok, 1 warning\(s\), 0 problem\(s\); exit status 2 \(works, with warnings\)$/)
  })

  it('overlayFacts replaces top-level keys and merges objects one level deep', () => {
    const f = overlayFacts(healthy(), { devices: { tun: { exists: false } }, kvmModules: ['kvm'] })
    expect(f.devices.tun).toEqual({ exists: false })
    expect(f.devices.kvm.exists).toBe(true)
    expect(f.kvmModules).toEqual(['kvm'])
  })
})
