// One base VmSpec for the QEMU argv tests (headless, TCG, 1 CPU, 512M, one NIC, both virtiofs
// shares); each test file mutates copies of it, and the golden helper writes tests/golden/*.argv.
import { expect } from 'vitest'
import { buildQemuArgs } from '../../lib/qemu/args.js'
import { displayOf } from '../../lib/qemu/display.js'
import type { VmSpec } from '../../lib/qemu/vm-spec.js'
import { parseSettings } from '../../lib/settings.js'
import { TCG_TB_SIZE_MIB } from '../../lib/sizing.js'

export const G = '/.runcvm/guest'

export function baseVmSpec(cmdline: string): VmSpec {
  return {
    dataDir: `${G}/usr/share/qemu`, accel: 'tcg', tcgTbSizeMiB: TCG_TB_SIZE_MIB, usb: false, memSize: '512M', memBackend: 'shm', prealloc: false, cpus: 1,
    virtiofs: { socket: '/run/.virtiofs.sock', tag: 'runcvmfs', queueSize: 1024 },
    pkgfs: { socket: '/run/.virtiofs-pkg.sock', tag: 'runcvmpkg', queueSize: 1024 },
    nics: [{ tap: 'tap-eth0', mac: '52:54:00:11:00:02', vhost: false }],
    disks: [], diskAio: 'io_uring',
    display: displayOf(parseSettings({})),
    bios: { debug: false },
    sockets: { agent: '/run/.qemu-guest-agent', monitor: '/run/.qemu-monitor-socket', qmp: '/run/.qemu-qmp-socket', control: '/run/.runcvm-control' },
    controlPort: 'org.runcvm.control',
    kernel: { path: `${G}/kernels/debian/latest/vmlinuz`, initrd: `${G}/kernels/debian/latest/initrd`, cmdline },
  }
}

export const golden = (name: string, vm: VmSpec) =>
  expect(buildQemuArgs(vm).join('\n') + '\n').toMatchFileSnapshot(`../golden/${name}.argv`)
