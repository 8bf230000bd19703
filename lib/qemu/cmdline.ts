// The guest kernel command line (upstream runcvm-ctr-qemu APPEND), as a list of params serialized
// in one place. Pure.

export interface KernelParam { key: string; value?: string }

export interface CmdlineOpts {
  /** RUNCVM_KERNEL_ROOT: how this kernel family mounts the virtiofs root. */
  root: string
  /** The VM's init (/.runcvm/vm-init.sh, or runcvm-vm-init in the package). */
  init: string
  /** virtiofs tag of the package: our initramfs mounts it over /.runcvm/guest before switch_root. */
  pkgTag?: string
  /** Directory of the package's node binary (LD_ORIGIN_PATH for the init, see below). */
  originPath: string
  /** Console device (hvc0/ttyS0/tty0): only named on the command line in debug mode. */
  consoleDev: string
  /** Text console (headless/serial): nomodeset, no framebuffer driver work. */
  nomodeset: boolean
  debug: boolean
  /** RUNCVM_IPV6=on: IPv6 in the guest kernel (::1, link-local addresses, `[::]` sockets), as under runc. */
  ipv6: boolean
  /**
   * Leave the kernel's AppArmor on. Off (apparmor=0) only when the image cannot load profiles (no
   * apparmor_parser): an enabled AppArmor without its parser breaks dockerd in the VM, which then
   * cannot load its docker-default profile (lib/vm/guest-kernel.ts decides).
   */
  apparmor: boolean
  /** RUNCVM_KERNEL_APPEND, appended verbatim last so it can override anything before it. */
  append: string
}

const words = (s: string): KernelParam[] =>
  s.split(/\s+/).filter(Boolean).map(w => {
    const i = w.indexOf('=')
    return i < 0 ? { key: w } : { key: w.slice(0, i), value: w.slice(i + 1) }
  })

/** Boot-time savings, all from upstream: skip probes and self-tests a VM does not need. */
export const FAST_BOOT_PARAMS: readonly KernelParam[] = words(
  'scsi_mod.scan=none tsc=reliable no_timer_check rcupdate.rcu_expedited=1 ' +
  'i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k ' +
  'cryptomgr.notests pci=lastbus=0 selinux=0',
)

export function kernelParams(o: CmdlineOpts): KernelParam[] {
  return [
    ...words(o.root),
    { key: 'init', value: o.init },
    ...(o.pkgTag ? [{ key: 'runcvm.pkg', value: o.pkgTag }] : []),
    // Unknown key=value params become init's environment. For the Node fallback init
    // (runcvm-vm-init, whose DT_RPATH is $ORIGIN-relative; glibc finds $ORIGIN through
    // /proc/self/exe): an initramfs that unmounts /proc before switch_root leaves Node unable to
    // load libdl. This gives ld.so the origin directly. vm-init.sh unsets it.
    { key: 'LD_ORIGIN_PATH', value: o.originPath },
    { key: 'rw' },
    ...(o.nomodeset ? [{ key: 'nomodeset' }] : []),
    // Differs from runcvm-ctr-qemu: upstream always booted with ipv6.disable=1; IPv6 is on unless
    // RUNCVM_IPV6=off, so stock configs listening on [::] (nginx, apache, postfix) start as under runc.
    ...(o.ipv6 ? [] : [{ key: 'ipv6.disable', value: '1' }]),
    ...(o.apparmor ? [] : [{ key: 'apparmor', value: '0' }]),
    // panic=-1: reboot at once on panic, which -action reboot=shutdown turns into QEMU exiting
    // instead of hanging.
    { key: 'panic', value: '-1' },
    ...FAST_BOOT_PARAMS,
    // Only shows with RUNCVM_KERNEL_DEBUG=1 (quiet hides it otherwise).
    { key: 'systemd.show_status', value: '1' },
    o.debug ? { key: 'console', value: o.consoleDev } : { key: 'quiet' },
    ...words(o.append),
  ]
}

export const serializeParams = (ps: readonly KernelParam[]): string =>
  ps.map(p => (p.value === undefined ? p.key : `${p.key}=${p.value}`)).join(' ')

export const buildCmdline = (o: CmdlineOpts): string => serializeParams(kernelParams(o))
