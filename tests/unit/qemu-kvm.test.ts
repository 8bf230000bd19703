// The KVM path of the QEMU argv, proven without a KVM host: golden files for the KVM variants,
// and invariants checked over every combination of accelerator, firmware, memory backend,
// display, console and disks. (tests/pkg/kvm-argv.sh feeds the goldens' machine/accel/cpu options
// to the packaged QEMU, which must accept them up to opening /dev/kvm.)
import { describe, expect, it } from 'vitest'
import { buildQemuArgs } from '../../lib/qemu/args.js'
import { buildCmdline } from '../../lib/qemu/cmdline.js'
import { displayOf } from '../../lib/qemu/display.js'
import type { VmSpec } from '../../lib/qemu/vm-spec.js'
import { parseSettings } from '../../lib/settings.js'
import { machineMaxCpus } from '../../lib/sizing.js'

import { G, baseVmSpec, golden } from './vm-spec-fixture.js'
const cmdline = buildCmdline({ root: 'rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1', init: '/.runcvm/vm-init.sh', originPath: `${G}/usr/bin`, consoleDev: 'hvc0', nomodeset: true, debug: false, ipv6: true, apparmor: false, append: '' })
const EFI = { code: `${G}/usr/share/OVMF/OVMF_CODE.fd`, vars: '/run/.ovmf-vars.fd' }
const PORTS = { stdin: 'org.runcvm.stdin', stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' }

function kvm(): VmSpec {
  return { ...baseVmSpec(cmdline), accel: 'kvm', memSize: '2048M', cpus: 4, stdioPorts: PORTS }
}
const display = (mode: string, extra: Record<string, string> = {}) => displayOf(parseSettings({ RUNCVM_DISPLAY_MODE: mode, ...extra }))

describe('KVM goldens', () => {
  it('KVM + EFI', () => golden('kvm-efi', { ...kvm(), bios: { efi: EFI, debug: false } }))
  it('KVM + hugetlb + prealloc', () => golden('kvm-hugetlb-prealloc', { ...kvm(), memBackend: 'hugetlb', prealloc: true, memSize: '8192M' }))
  it('KVM + disks (aio=threads: Docker 25+ seccomp) + vhost-net', () => golden('kvm-disks-vhost', {
    ...kvm(), cpus: 16, disks: [{ file: '/disks/a' }, { file: '/disks/b' }], diskAio: 'threads',
    nics: [{ tap: 'tap-eth0', mac: '52:54:00:11:00:02', vhost: true }, { tap: 'tap-eth1', mac: '52:54:00:1f:07:02', vhost: true }],
  }))
  it('KVM serial console (-t)', () => golden('kvm-serial', { ...kvm(), stdioPorts: undefined, display: display('serial'), ttyPort: { name: 'org.runcvm.tty', socket: '/run/.runcvm-tty' } }))
  it('KVM VNC', () => golden('kvm-vnc', { ...kvm(), stdioPorts: undefined, display: display('vnc') }))
})

// Every combination: accelerator x firmware x memory backend x prealloc x display x console x disks.
const combos: [string, VmSpec][] = []
for (const accel of ['kvm', 'tcg'] as const) {
  for (const efi of [false, true]) {
    for (const memBackend of ['shm', 'hugetlb'] as const) {
      for (const prealloc of [false, true]) {
        for (const mode of ['headless', 'serial', 'vnc']) {
          for (const tty of [false, true]) {
            for (const disks of [0, 2]) {
              for (const pkgfs of [true, false]) {
                const base = kvm()
                combos.push([`${accel} efi=${efi} ${memBackend} prealloc=${prealloc} ${mode} tty=${tty} disks=${disks} pkgfs=${pkgfs}`, {
                  ...base, accel, memBackend, prealloc, display: display(mode),
                  cpus: machineMaxCpus(accel), // the largest -smp the accelerator allows
                  bios: { debug: false, ...(efi ? { efi: EFI } : {}) },
                  stdioPorts: tty ? undefined : PORTS, ...(tty ? { ttyPort: { name: 'org.runcvm.tty', socket: '/run/.runcvm-tty' } } : {}),
                  disks: Array.from({ length: disks }, (_, i) => ({ file: `/disks/d${i}` })), diskAio: disks ? 'threads' : 'io_uring',
                  ...(pkgfs ? {} : { pkgfs: undefined }),
                }])
              }
            }
          }
        }
      }
    }
  }
}

/** Values of every occurrence of option `o`. */
const values = (a: string[], o: string) => a.flatMap((x, i) => (x === o ? [a[i + 1]] : []))
const TCG_ONLY = [/\btcg\b/, /tb-size=/, /thread=multi/, /^max$/]
const KVM_ONLY = [/\bkvm\b/, /kernel[-_]irqchip/, /^host\b/, /-enable-kvm/]

describe(`argv invariants over ${combos.length} combinations`, () => {
  it.each(combos)('%s', (_name, vm) => {
    const a = buildQemuArgs(vm)
    const backend = values(a, '-object').find(o => o.startsWith('memory-backend-'))!
    // vhost-user-fs (virtiofsd) maps guest RAM: the backend must be shared.
    if (values(a, '-device').some(d => d.startsWith('vhost-user-fs-pci'))) expect(backend).toMatch(/(^|,)share=on(,|$)/)
    // Exactly one accelerator, named once: one -accel, no -enable-kvm, no accel= on -machine.
    expect(values(a, '-accel')).toHaveLength(1)
    expect(a).not.toContain('-enable-kvm')
    expect(values(a, '-machine').join()).not.toMatch(/accel=/)
    // Nothing of the other accelerator in the argv.
    const accelCpu = [...values(a, '-accel'), ...values(a, '-cpu'), ...values(a, '-machine')]
    for (const re of vm.accel === 'kvm' ? TCG_ONLY : KVM_ONLY) for (const v of [...accelCpu, ...a]) expect(v).not.toMatch(re)
    // smm is never forced on (only the secure-boot OVMF needs it; KVMs without SMM refuse it).
    expect(a.join(' ')).not.toMatch(/smm=on/)
    // -smp within the machine's limit for this accelerator.
    expect(Number(values(a, '-smp')[0].split(',')[0])).toBeLessThanOrEqual(machineMaxCpus(vm.accel))
    // Memory backend: the one asked for, with its page-size rule.
    expect(backend).toMatch(vm.memBackend === 'hugetlb' ? /^memory-backend-memfd,.*hugetlb=on,hugetlbsize=2M/ : /^memory-backend-file,.*mem-path=\/dev\/shm,.*align=2M/)
    expect(backend).toContain(`prealloc=${vm.prealloc ? 'on' : 'off'}`)
    // Disks use the AIO engine decided at create, nothing else.
    for (const d of values(a, '-drive').filter(d => d.startsWith('id=drv'))) expect(d).toContain(`aio=${vm.diskAio}`)
    // EFI firmware: two pflash drives (code read-only), never with SeaBIOS.
    expect(values(a, '-drive').filter(d => d.startsWith('if=pflash'))).toHaveLength(vm.bios.efi ? 2 : 0)
    // The boot watchdog's signs of life need the virtio-serial controller at its QOM path.
    expect(values(a, '-device')).toContain('virtio-serial-pci,id=serial0')
  })
})
