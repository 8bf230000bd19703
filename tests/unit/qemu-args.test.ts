import { describe, expect, it } from 'vitest'
import { buildQemuArgs, diskArgs, qopts } from '../../lib/qemu/args.js'
import { buildCmdline, kernelParams, serializeParams } from '../../lib/qemu/cmdline.js'
import { consoleDevice, displayOf } from '../../lib/qemu/display.js'
import { buildVirtiofsdArgs, cacheArgs } from '../../lib/qemu/virtiofsd.js'
import type { VmSpec } from '../../lib/qemu/vm-spec.js'
import { parseSettings } from '../../lib/settings.js'

import { G, baseVmSpec, golden } from './vm-spec-fixture.js'
const cmdline = buildCmdline({ root: 'rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1', init: `${G}/scripts/runcvm-vm-init`, originPath: `${G}/usr/bin`, consoleDev: 'hvc0', nomodeset: true, debug: false, append: '', ipv6: true, apparmor: true })

/** One base spec (headless, 1 CPU, one NIC, TCG); each golden mutates a copy (crun base_config style). */
const base = (): VmSpec => baseVmSpec(cmdline)


describe('buildQemuArgs goldens', () => {
  it('headless tcg', () => golden('headless-tcg', base()))
  it('headless kvm', () => golden('headless-kvm', { ...base(), accel: 'kvm' }))
  it('serial, 2 cpus', () => golden('serial-2cpu', { ...base(), cpus: 2, display: displayOf(parseSettings({ RUNCVM_DISPLAY_MODE: 'serial' })) }))
  it('vnc display 1', () => golden('vnc', { ...base(), display: displayOf(parseSettings({ RUNCVM_DISPLAY_MODE: 'vnc', RUNCVM_QEMU_VNC_DISPLAY: '1' })) }))
  it('disks, 12 cpus (queues capped at 8), two NICs with vhost', () => golden('disks-12cpu', {
    ...base(), cpus: 12, disks: [{ file: '/disks/a' }, { file: '/disks/b,c' }],
    nics: [{ tap: 'tap-eth0', mac: '52:54:00:11:00:02', vhost: true }, { tap: 'tap-eth1', mac: '52:54:00:1f:07:02', vhost: true }],
  }))
  const ports = { stdin: 'org.runcvm.stdin', stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' }
  it('non-tty: console to fd 2, stdio ports (stdin with -i)', () => golden('headless-stdio-ports', { ...base(), stdioPorts: ports }))
  it('-t: tty port for window resizes', () => golden('headless-tty', { ...base(), ttyPort: { name: 'org.runcvm.tty', socket: '/run/.runcvm-tty' } }))
  it('non-tty serial without -i: ttyS0 to fd 2, no monitor on stdio, no stdin port', () => {
    const a = buildQemuArgs({ ...base(), display: displayOf(parseSettings({ RUNCVM_DISPLAY_MODE: 'serial' })), stdioPorts: { stdout: ports.stdout, stderr: ports.stderr } }).join(' ')
    expect(a).toContain('-chardev file,id=char0,path=/proc/self/fd/2,append=on -serial chardev:char0 ')
    expect(a).not.toMatch(/stdio|-mon chardev=char0|-echr|org\.runcvm\.stdin/)
    expect(a).toContain('-chardev file,id=runcvmout,path=/proc/self/fd/1,append=on -device virtserialport,chardev=runcvmout,name=org.runcvm.stdout')
  })
  it('hugetlb + prealloc + usb', () => golden('hugetlb', { ...base(), memBackend: 'hugetlb', prealloc: true, usb: true, memSize: '1024M' }))
  it('EFI, bios debug, no pkgfs', () => golden('efi', {
    ...base(), bios: { efi: { code: `${G}/usr/share/OVMF/OVMF_CODE.fd`, vars: '/run/.ovmf-vars.fd' }, debug: true }, pkgfs: undefined,
    nics: [{ tap: 'tap-eth0', mac: '52:54:00:11:00:02', vhost: false }],
  }))
  it('never passes plain -cpu host (aborts on kvm-pvm) and no kvm flags under tcg', () => {
    const kvm = buildQemuArgs({ ...base(), accel: 'kvm' })
    expect(kvm[kvm.indexOf('-cpu') + 1]).toBe('host,pmu=off')
    const tcg = buildQemuArgs(base()).join(' ')
    expect(tcg).not.toMatch(/kvm|kernel_irqchip/)
    expect(tcg).toContain('-accel tcg,thread=multi,tb-size=64 -cpu max')
    expect(buildQemuArgs({ ...base(), tcgTbSizeMiB: 32 }).join(' ')).toContain('-accel tcg,thread=multi,tb-size=32 -cpu max')
    expect(kvm.join(' ')).not.toMatch(/tb-size/)
  })
})

describe('qopts', () => {
  it('escapes commas, drops undefined, on/off booleans', () => {
    expect(qopts('drive', { file: '/a,b', x: undefined, share: true, prealloc: false, n: 3 })).toBe('drive,file=/a,,b,share=on,prealloc=off,n=3')
  })
})

describe('kernel cmdline', () => {
  it('quiet by default, console= in debug, append last', () => {
    expect(cmdline).toMatchInlineSnapshot(`"rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1 init=/.runcvm/guest/scripts/runcvm-vm-init LD_ORIGIN_PATH=/.runcvm/guest/usr/bin rw nomodeset panic=-1 scsi_mod.scan=none tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k cryptomgr.notests pci=lastbus=0 selinux=0 systemd.show_status=1 quiet"`)
    const dbg = kernelParams({ root: '', init: '/i', originPath: '/o', consoleDev: 'ttyS0', nomodeset: false, debug: true, append: 'foo=1 bar', ipv6: true, apparmor: true })
    expect(dbg.slice(-3)).toEqual([{ key: 'console', value: 'ttyS0' }, { key: 'foo', value: '1' }, { key: 'bar' }])
    expect(dbg.some(p => p.key === 'quiet' || p.key === 'nomodeset')).toBe(false)
  })
  it('IPv6 on unless RUNCVM_IPV6=off; apparmor=0 only when asked; append can override both', () => {
    const o = { root: '', init: '/i', originPath: '/o', consoleDev: 'hvc0', nomodeset: false, debug: false, append: '' }
    const on = serializeParams(kernelParams({ ...o, ipv6: true, apparmor: true }))
    expect(on).not.toMatch(/ipv6|apparmor/)
    const off = kernelParams({ ...o, ipv6: false, apparmor: false, append: 'apparmor=1' })
    expect(off.filter(p => p.key === 'ipv6.disable' || p.key === 'apparmor')).toEqual([
      { key: 'ipv6.disable', value: '1' }, { key: 'apparmor', value: '0' }, { key: 'apparmor', value: '1' },
    ])
    expect(off.at(-1)).toEqual({ key: 'apparmor', value: '1' })
  })
  it('console device per display mode', () => {
    expect(['headless', 'serial', 'vnc'].map(m => consoleDevice(m as 'vnc'))).toEqual(['hvc0', 'ttyS0', 'tty0'])
  })
})

describe('virtiofsd args', () => {
  it('upstream options; modcaps only with RUNCVM_SYS_ADMIN', () => {
    expect(buildVirtiofsdArgs({ socket: '/run/.virtiofs.sock', source: '/vm', cache: 'auto', sysAdmin: false }).join(' '))
      .toBe('-o cache=always -o timeout=1 -o announce_submounts -o xattr --socket-path=/run/.virtiofs.sock -o source=/vm -o sandbox=chroot')
    expect(buildVirtiofsdArgs({ socket: 's', source: '/vm', cache: 'always', sysAdmin: true }).slice(0, 2)).toEqual(['-o', 'modcaps=+sys_admin'])
  })
  it('auto keeps the page cache across opens with a 1 s attribute timeout; none and always pass through', () => {
    expect(cacheArgs('auto')).toEqual(['-o', 'cache=always', '-o', 'timeout=1'])
    expect(cacheArgs('none')).toEqual(['-o', 'cache=none'])
    expect(cacheArgs('always')).toEqual(['-o', 'cache=always'])
  })
})

describe('-drive file= takes plain absolute paths only', () => {
  it.each(['nbd:localhost:10809', 'http://x/y', 'json:{"file":{"driver":"nbd"}}', 'disks/d1', '/disks/../etc/x', '/d 1'])('%j refused', f => {
    expect(() => diskArgs({ file: f }, 0, 1, 'threads')).toThrow('RUNCVM_DISKS backing file')
  })
  it('a plain path passes', () => expect(diskArgs({ file: '/disks/d1' }, 0, 1, 'threads')[1]).toMatch(/^id=drv0,file=\/disks\/d1,/))
})
