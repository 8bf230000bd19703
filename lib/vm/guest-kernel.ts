// What the guest kernel offers the image beyond the boot itself, decided from facts about the
// image (read in the container by lib/vm/init-facts.ts). Pure: facts in, kernel options and
// lines of the VM's init script out. No change to the image is ever needed:
//  - modules on demand: the kernel runs /proc/sys/kernel/modprobe (default /sbin/modprobe) for
//    every on-demand load (overlay, nf_tables, ip_tables and xt_*, bridge, veth, vxlan, ip_vs,
//    xfs, ...). An image without /sbin/modprobe (no kmod, or busybox with its applets in /bin)
//    gets the package's busybox modprobe, which reads the bound modules tree; an image that has
//    one keeps it (its /etc/modprobe.d applies, as on a real host);
//  - kmod-static-nodes.service (systemd) runs the image's kmod whenever the modules tree has a
//    modules.devname; the tree is ours, so an image without kmod would see the unit fail. There
//    the file is hidden (/dev/null bound over it, VM-side only), so the unit's condition is false
//    and it is skipped, as on a host whose kernel ships no such list;
//  - dockerd loads bridge and br_netfilter by running `modprobe` from its PATH (the kernel has no
//    on-demand load for br_netfilter), and without it cannot make networks that restrict
//    inter-container traffic (docker_gwbridge: swarm services fail). In an image with dockerd but
//    no modprobe on the standard PATH, the VM's init loads them in the background at boot, as
//    dockerd would have done;
//  - AppArmor stays on unless the image has no apparmor_parser: dockerd enables its profile
//    whenever the kernel has AppArmor on, and cannot load it without the parser;
//  - IPv6 as under runc, unless RUNCVM_IPV6=off.
import type { ImageFacts } from './init-script.js'
import { shQuote as sq } from '../cmd.js'
import { GUEST_KERNELS } from '../paths.js'

/** The kernel booted from the package (its modules tree is the package's), not from the image. */
export const isPackageKernel = (kernelPath: string): boolean => kernelPath.startsWith(`${GUEST_KERNELS}/`)

/** The image's own tools that decide what the VM provides (paths resolved inside the image). */
export interface SystemFacts {
  /** /sbin/modprobe exists (the kernel's default usermode helper path). */
  modprobe: boolean
  /** kmod (the program kmod-static-nodes.service runs) exists in /bin, /usr/bin, /sbin or /usr/sbin. */
  kmod: boolean
  /** apparmor_parser exists in /sbin or /usr/sbin. */
  apparmorParser: boolean
  /** modprobe exists in a directory of the standard PATH (what dockerd's exec of `modprobe` finds). */
  modprobeOnPath: boolean
  /** dockerd exists in a directory of the standard PATH. */
  dockerd: boolean
}

/** The PATH systemd and Docker give services and containers by default. */
const STD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** Paths the facts are read from: `first existing file in each list` (inside the image). */
export const SYSTEM_FACT_PATHS: Readonly<Record<keyof SystemFacts, readonly string[]>> = {
  modprobe: ['/sbin/modprobe'],
  kmod: ['/bin/kmod', '/usr/bin/kmod', '/sbin/kmod', '/usr/sbin/kmod'],
  apparmorParser: ['/sbin/apparmor_parser', '/usr/sbin/apparmor_parser'],
  modprobeOnPath: STD_PATH.map(d => `${d}/modprobe`),
  dockerd: STD_PATH.map(d => `${d}/dockerd`),
}

/** The modules dockerd asks modprobe for when it sets up its bridge networks. */
export const DOCKERD_MODULES = ['bridge', 'br_netfilter'] as const

export interface GuestKernelOpts { ipv6: boolean; apparmor: boolean }

/** Kernel command-line choices (lib/qemu/cmdline.ts applies them). */
export function guestKernelOpts(img: Pick<ImageFacts, 'system'>, s: { RUNCVM_IPV6: 'on' | 'off' }): GuestKernelOpts {
  return { ipv6: s.RUNCVM_IPV6 === 'on', apparmor: img.system.apparmorParser }
}

/**
 * Init-script lines for a kernel whose modules come from the package (`packageModules`; an
 * in-image kernel brings its own modules and tools, and nothing is done). `early` runs before
 * anything may load a module; `mounts` appends to the init script's mount table $F.
 */
export function moduleLines(img: Pick<ImageFacts, 'system'>, packageModules: boolean, modprobe: string): { early: string[]; mounts: string[] } {
  if (!packageModules) return { early: [], mounts: [] }
  const early = img.system.modprobe ? [] : [`printf %s ${sq(modprobe)} >/proc/sys/kernel/modprobe`]
  if (img.system.dockerd && !img.system.modprobeOnPath) early.push(`${sq(modprobe)} -a ${DOCKERD_MODULES.join(' ')} </dev/null 8>&- 9>&- &`)
  const mounts = img.system.kmod ? [] : [
    'read -r KV </proc/sys/kernel/osrelease',
    '[ ! -s "/lib/modules/$KV/modules.devname" ] || F="${F}/dev/null /lib/modules/$KV/modules.devname none bind 0 0$NL"',
  ]
  return { early, mounts }
}
