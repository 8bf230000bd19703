// buildQemuArgs(VmSpec) → QEMU argv (without argv[0]). One helper per section, golden-tested
// (tests/golden/*.argv). Flags and their reasons follow upstream runcvm-ctr-qemu.
import type { DiskAttach, NicSpec, VmSpec } from './vm-spec.js'
import { GUEST_AGENT_PORT } from '../paths.js'
import { ConfigError } from '../errors.js'
import { plainPathProblem } from '../validate.js'

type Opt = string | number | boolean | undefined

/**
 * QemuOpts list `head,k=v,...`. A ',' inside a value is written ',,' (QEMU's escape); undefined
 * values are left out, booleans become on/off.
 */
export function qopts(head: string, kv: Record<string, Opt> = {}): string {
  const esc = (s: string) => s.replace(/,/g, ',,')
  const parts = [esc(head)]
  for (const [k, v] of Object.entries(kv)) {
    if (v === undefined) continue
    parts.push(`${k}=${esc(typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v))}`)
  }
  return parts.join(',')
}

export function machineArgs(vm: VmSpec): string[] {
  const kvm = vm.accel === 'kvm'
  return [
    // q35: PCIe chipset. sata/vmport/hpet off: devices a virtio guest never uses;
    // dump-guest-core=off keeps VM RAM out of QEMU core dumps.
    // smm=off: Differs from runcvm-ctr-qemu (smm=on): SMM is only needed by secure-boot firmware,
    // and the package ships OVMF_CODE.fd, the build without SMM_REQUIRE (SeaBIOS needs none);
    // smm=on makes QEMU exit on KVMs without SMM ("System Management Mode not supported by this
    // hypervisor": kvm-pvm, and kernels built without CONFIG_KVM_SMM, an option since Linux 6.2).
    '-machine', qopts('q35', { sata: false, vmport: false, smm: false, 'dump-guest-core': false, hpet: false, usb: vm.usb }),
    ...(kvm
      // Exactly one accelerator option. Upstream's `-enable-kvm` plus `-machine accel=kvm,
      // kernel_irqchip=on` name it twice; QEMU 7.2 maps both onto this -accel (kernel_irqchip is
      // a compat alias of the kvm accelerator's kernel-irqchip). kernel-irqchip=on: APIC, IOAPIC
      // and PIT in the host kernel (fast interrupts; also what -smp > 255 needs).
      // -cpu host,pmu=off: every host CPU feature, no guest perf counters (upstream). Never plain
      // `-cpu host` on kvm-pvm: it aborts ("failed to set MSR 0x10a").
      ? ['-accel', 'kvm,kernel-irqchip=on', '-cpu', 'host,pmu=off']
      // Multi-threaded TCG: one host thread per vCPU; max: every feature TCG can emulate.
      // tb-size: the translation cache's size (RUNCVM_TCG_TB_SIZE, lib/sizing.ts TCG_TB_SIZE_MIB).
      : ['-accel', `tcg,thread=multi,tb-size=${vm.tcgTbSizeMiB}`, '-cpu', 'max']),
    // The guest can end QEMU with a chosen status through port 0x501 (sbin/qemu-exit; ctr-exit decodes it).
    '-device', 'isa-debug-exit',
    // RTC in UTC, slewed (not stepped) to correct drift.
    '-rtc', 'base=utc,driftfix=slew',
  ]
}

export function displayArgs(vm: VmSpec): string[] {
  const d = vm.display
  const out: string[] = []
  if (d.frontend) out.push('-display', d.frontend)
  if (d.vga) {
    out.push('-vga', d.vga)
    if (d.vga !== 'none') {
      out.push('-device', 'virtio-tablet-pci', '-audiodev', 'none,id=snd0', '-device', 'intel-hda', '-device', 'hda-output,audiodev=snd0')
      // VNC only shows something with a VGA adaptor.
      if (d.vncDisplay !== undefined) out.push('-vnc', `:${d.vncDisplay},password=off`)
    }
  }
  return out
}

export function firmwareArgs(vm: VmSpec): string[] {
  const out: string[] = []
  // Silence SeaBIOS on the serial port (the patched bios.bin reads this opt/ name; unpatched
  // ones ignore it harmlessly).
  if (!vm.bios.debug) out.push('-fw_cfg', 'opt/org.seabios/etc/sercon-port,string=0')
  // Differs from runcvm-ctr-qemu (-bios OVMF.fd, Alpine's combined image): Debian ships OVMF
  // split into code and variables, which QEMU maps as two pflash devices.
  if (vm.bios.efi) {
    out.push('-drive', qopts('if=pflash', { format: 'raw', unit: 0, readonly: true, file: vm.bios.efi.code }))
    out.push('-drive', qopts('if=pflash', { format: 'raw', unit: 1, file: vm.bios.efi.vars }))
  }
  return out
}

export function memoryArgs(vm: VmSpec): string[] {
  const backend = vm.memBackend === 'shm'
    // Shared file in /dev/shm: vhost-user (virtiofsd) must map guest RAM. Upstream notes that
    // prealloc=on slows this backend down. align=2M: QEMU aligns only hugetlbfs-backed RAM to
    // its page size by itself; aligned, the /dev/shm file's transparent huge pages (mounted
    // huge=within_size where the host allows it) are mapped whole: measured here with -m 1g
    // preallocated, all 1 GiB PMD-mapped and QEMU's page tables 0.45 MiB instead of 2.5 MiB.
    ? qopts('memory-backend-file', { id: 'mem', size: vm.memSize, 'mem-path': '/dev/shm', share: true, prealloc: vm.prealloc, align: '2M' })
    // memfd+hugetlb: upstream measured +15% CPU/net, 3.5x disk-intensive throughput.
    // hugetlbsize=2M: the page size the create step checked the host has enough of (without it
    // QEMU takes the host's default huge page size, which may be 1G). QEMU reserves the pages
    // when it maps guest RAM (reserve=on, the default), so a shortage stops QEMU at start.
    : qopts('memory-backend-memfd', { id: 'mem', size: vm.memSize, share: true, prealloc: vm.prealloc, hugetlb: true, hugetlbsize: '2M' })
  return ['-m', vm.memSize, '-numa', 'node,memdev=mem', '-object', backend]
}

export function smpArgs(vm: VmSpec): string[] {
  const n = vm.cpus
  return ['-smp', qopts(String(n), { cores: 1, threads: 1, sockets: n, maxcpus: n })]
}

export function virtiofsArgs(vm: VmSpec): string[] {
  const dev = (id: string, fs: { socket: string; tag: string; queueSize: number }) => [
    '-chardev', qopts('socket', { id, path: fs.socket }),
    '-device', qopts('vhost-user-fs-pci', { 'queue-size': fs.queueSize, chardev: id, tag: fs.tag, ats: false }),
  ]
  return [...dev('virtiofs', vm.virtiofs), ...(vm.pkgfs ? dev('virtiofspkg', vm.pkgfs) : [])]
}

export function nicArgs(n: NicSpec, id: number): string[] {
  return [
    '-netdev', qopts('tap', {
      id: `qemu${id}`, ifname: n.tap,
      // The tap is pre-created and enslaved by ctr-entrypoint: QEMU runs no ifup/ifdown script.
      script: 'no', downscript: 'no', vhost: n.vhost,
    }),
    // romfile= (empty): no PXE option ROM. We boot with -kernel, and without it QEMU needs
    // efi-virtio.rom on -L.
    '-device', qopts('virtio-net-pci', { netdev: `qemu${id}`, mac: n.mac, romfile: '' }),
  ]
}

/**
 * Free PCIe root ports left in every VM for NICs hot-plugged by `docker network connect`. 4: in
 * paired boots (TCG) 2, 4 and 8 ports differed by less than the run-to-run noise (see
 * docs/NETWORKING.md), so up to four networks can be connected to a running VM.
 */
export const HOTPLUG_PORTS = 4
/** Id of hot-plug root port `i`; a hot-added NIC names it as its `bus`. */
export const hotplugPortId = (i: number): string => `hp${i}`

/**
 * q35's root bus (pcie.0) takes no hot-plugged devices: a NIC added at run time needs an empty
 * pcie-root-port. Each gets its own chassis number (chassis/slot pairs must be unique); they come
 * after every boot-time device, so the boot devices keep their PCI addresses.
 */
export function hotplugPortArgs(count = HOTPLUG_PORTS): string[] {
  return Array.from({ length: count }, (_, i) => ['-device', qopts('pcie-root-port', { id: hotplugPortId(i), bus: 'pcie.0', chassis: i + 1 })]).flat()
}

export function diskArgs(d: DiskAttach, id: number, cpus: number, aio: VmSpec['diskAio']): string[] {
  // Only a plain absolute path: QEMU reads `nbd:`, `http:`, `json:{...}` ... at the start of a
  // relative file= as a protocol, never in one that starts with '/'.
  const why = plainPathProblem(d.file)
  if (why) throw new ConfigError(`RUNCVM_DISKS backing file '${d.file}' invalid: ${why}`)
  return [
    // cache=none: O_DIRECT, rely on guest flushes; aio=io_uring: lower overhead than libaio, or
    // QEMU's thread pool where the seccomp profile or the host forbid io_uring (RUNCVM_DISK_AIO);
    // discard/detect-zeroes=unmap: give freed and zeroed blocks back to the host file.
    '-drive', qopts(`id=drv${id}`, {
      file: d.file, if: 'none', format: 'raw', media: 'disk', cache: 'none', aio, discard: 'unmap', 'detect-zeroes': 'unmap',
    }),
    // A dedicated I/O thread per disk; queues follow the vCPUs, capped at 8 (upstream).
    '-object', `iothread,id=ioth${id}`,
    '-device', qopts('virtio-blk-pci', { drive: `drv${id}`, iothread: `ioth${id}`, 'queue-size': 1024, 'num-queues': Math.min(Math.max(cpus, 1), 8) }),
  ]
}

/**
 * Non-tty run: the console (kernel messages, RunCVM errors) writes to the container's stderr and
 * reads nothing; the workload's fds are virtio-serial ports: stdout/stderr as `file` chardevs on
 * the container's fds 1/2 (reopened through /proc/self/fd: a private file description, blocking,
 * and append=on never truncates), stdin (only with `-i`) as the stdio chardev, whose EOF closes
 * the port and so gives the workload EOF. Ports are raw: no onlcr `\r`, isatty() false.
 */
export function stdioPortArgs(vm: VmSpec): string[] {
  const p = vm.stdioPorts
  if (!p) return []
  const port = (id: string, name: string, chardev: string) => ['-chardev', chardev, '-device', qopts('virtserialport', { chardev: id, name })]
  return [
    ...port('runcvmout', p.stdout, qopts('file', { id: 'runcvmout', path: '/proc/self/fd/1', append: true })),
    ...port('runcvmerr', p.stderr, qopts('file', { id: 'runcvmerr', path: '/proc/self/fd/2', append: true })),
    ...(p.stdin ? port('runcvmin', p.stdin, qopts('stdio', { id: 'runcvmin', signal: false })) : []),
  ]
}

export function consoleArgs(vm: VmSpec): string[] {
  // Differs from runcvm-ctr-qemu (console on stdio in every mode): see stdioPortArgs.
  if (vm.stdioPorts && vm.display.mode !== 'vnc') {
    const out = ['-chardev', 'file,id=char0,path=/proc/self/fd/2,append=on']
    return vm.display.mode === 'headless' ? [...out, '-device', 'virtconsole,chardev=char0,id=console0'] : [...out, '-serial', 'chardev:char0']
  }
  switch (vm.display.mode) {
    case 'headless':
      // stdio on a virtio console (hvc0 in the guest).
      return ['-chardev', 'stdio,id=char0,mux=off,signal=off', '-device', 'virtconsole,chardev=char0,id=console0']
    case 'serial':
      // stdio multiplexed between ttyS0 and the QEMU monitor; escape key Ctrl-T (-echr 20)
      // because the default Ctrl-A clashes with shells and screen.
      return ['-chardev', 'stdio,id=char0,mux=on,signal=off', '-serial', 'chardev:char0', '-mon', 'chardev=char0', '-echr', '20']
    case 'vnc':
      return []
  }
}

export function controlArgs(vm: VmSpec): string[] {
  return [
    // Guest agent (qemu-ga in the VM, when present).
    '-chardev', qopts('socket', { id: 'qemuguest0', path: vm.sockets.agent, server: true, wait: false }),
    '-device', qopts('virtserialport', { chardev: 'qemuguest0', name: GUEST_AGENT_PORT }),
    // Stop requests to runcvm-init --vm (ctr-shutdown writes "stop").
    '-chardev', qopts('socket', { id: 'runcvmctl', path: vm.sockets.control, server: true, wait: false }),
    '-device', qopts('virtserialport', { chardev: 'runcvmctl', name: vm.controlPort }),
    // `-t`: window sizes from the container's runcvm-init (--tty-relay) to the VM's (--tty-port).
    ...(vm.ttyPort ? [
      '-chardev', qopts('socket', { id: 'runcvmtty', path: vm.ttyPort.socket, server: true, wait: false }),
      '-device', qopts('virtserialport', { chardev: 'runcvmtty', name: vm.ttyPort.name }),
    ] : []),
    // Human monitor (upstream path; ctr-shutdown sends system_powerdown) and QMP (the watchdog).
    '-monitor', `unix:${vm.sockets.monitor},server,nowait`,
    '-chardev', qopts('socket', { id: 'qmp0', path: vm.sockets.qmp, server: true, wait: false }),
    '-mon', 'chardev=qmp0,mode=control',
  ]
}

export function buildQemuArgs(vm: VmSpec): string[] {
  return [
    '-no-user-config', '-nodefaults', '-no-reboot',
    // A guest panic or reboot ends QEMU (and so the container) instead of hanging or looping.
    '-action', 'panic=none', '-action', 'reboot=shutdown',
    ...machineArgs(vm),
    ...displayArgs(vm),
    ...firmwareArgs(vm),
    // Upstream note: more vCPUs need more memory to keep the same virtiofs I/O performance.
    ...memoryArgs(vm),
    ...smpArgs(vm),
    // The virtio-serial bus for the console, the guest agent and the control port.
    '-device', 'virtio-serial-pci,id=serial0',
    '-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng0',
    ...virtiofsArgs(vm),
    ...vm.nics.flatMap((n, i) => nicArgs(n, i)),
    ...vm.disks.flatMap((d, i) => diskArgs(d, i, vm.cpus, vm.diskAio)),
    ...consoleArgs(vm),
    ...stdioPortArgs(vm),
    ...controlArgs(vm),
    ...hotplugPortArgs(),
    '-kernel', vm.kernel.path,
    '-initrd', vm.kernel.initrd,
    '-L', vm.dataDir,
    '-append', vm.kernel.cmdline,
  ]
}
