// The VM's init as a busybox sh script ("plan in the container, apply in the VM").
//
// A Node start in the VM costs ~2.4 s cold under TCG (reading Node over virtiofs and translating
// V8's start-up; docs/BOOT-CHAIN.md). So everything that can be decided before QEMU starts is decided by
// ctr-qemu at native speed from the saved state and the image (read through /vm): entrypoint
// resolution, init/systemd detection, the launch argv and env, hostname, tty gid, fstab, cgroup
// mode, the network plan. What only the VM knows (its mounts, /dev entries, NIC names by MAC,
// /proc/cgroups) is tested by the script itself with shell builtins and busybox applets, so the
// script is exactly upstream runcvm-vm-init's duties with no decision left to a slow process.
//
// Pure: facts in, script text out. Every value from state is quoted with sq() (any bytes but
// NUL). Golden tests: tests/golden/vm-init-*.sh.
import type { ConfigState, NetworkState, VmState } from '../state.js'
import { cgroupMode, type CgroupMode } from './cgroupfs.js'
import { buildInittab, buildVmStartScript, initStopSignal, isInitEntrypoint, isSystemd, planLaunch, type LaunchPaths } from './launch.js'
import { moduleLines, type SystemFacts } from './guest-kernel.js'
import { groupId } from '../passwd.js'
import { buildSshdScript } from './sshd.js'
import { netLines } from './net.js'
import { ingressRestore } from '../net/ingress.js'
import { vmHotplugWatchScript } from '../net/hotplug.js'
import { rlimitLines, sysctlLines } from './guest-limits.js'
import { BIN, GUEST_AGENT_PORT, RUNCVM_GUEST, STATE_DIR, VIRTIO_PORTS_DIR, statePath } from '../paths.js'
import { STATE_SH } from '../state.js'
import { shQuote as sq } from '../cmd.js'


/** What the container side read from the image (under /vm) for the plan. */
export interface ImageFacts {
  /** args[0] found on PATH with symlinks followed inside the image (or args[0] as given). */
  resolved: string
  /** /etc/group text (tty gid for /dev fixes). */
  group?: string
  /** /etc/hostname text. */
  hostname?: string
  /** /etc/fstab text (a cgroup line means the image manages cgroups). */
  etcFstab?: string
  /** The image's own modprobe, kmod and apparmor_parser (lib/vm/guest-kernel.ts). */
  system: SystemFacts
}

export interface InitScriptInput {
  cfg: ConfigState
  settings: {
    RUNCVM_INIT: boolean; RUNCVM_BOOT_TIMING: boolean; RUNCVM_CGROUPFS: string
    /** --shm-size, --sysctl (net.*), --ulimit as the runtime encoded them (lib/vm/guest-limits.ts); '' or absent: none. */
    RUNCVM_SHM_SIZE?: string; RUNCVM_SYSCTL?: string; RUNCVM_RLIMITS?: string
    /** off: the guest kernel has no IPv6 (ipv6.disable=1), so Docker's IPv6 addresses are not set. */
    RUNCVM_IPV6?: 'on' | 'off'
  }
  vm: VmState
  net: NetworkState
  /** /.runcvm/fstab lines (tmpfs + disks, written by ctr-qemu). */
  fstab: readonly string[]
  image: ImageFacts
  /** The booted kernel's modules are the package's (a bundled kernel), not the image's. */
  packageModules: boolean
  /** runcvm-init's paths and stdio choice (lib/vm/launch.ts launchPaths, from the VmState). */
  launch: LaunchPaths
}

const CG2_OPTS = 'rw,nosuid,nodev,noexec,relatime'

/**
 * cgroup filesystems (lib/vm/cgroupfs.ts rules) as lines appended to the mount table $F: the mode
 * is decided here, /proc/cgroups and the current mounts are read in the VM.
 */
export function cgroupLines(mode: CgroupMode, etcFstab: string): string[] {
  if (mode === 'none') return []
  if (etcFstab.split('\n').some(l => !l.startsWith('#') && l.includes('cgroup'))) return []
  const out = ['if [ -e /proc/cgroups ] && [ -d /sys/fs/cgroup ]; then']
  if (mode === 'cgroup1' || mode === 'hybrid') {
    out.push(
      '  fst /sys/fs/cgroup; [ -n "$T" ] || F="${F}cgroup /sys/fs/cgroup tmpfs uid=0,gid=0,mode=0755 0 0$NL"',
      '  while read -r c _ _ e _; do',
      `    case $c in ''|'#'*) continue ;; esac`,
      '    [ "$e" = 1 ] || continue',
      '    fst "/sys/fs/cgroup/$c"; [ -n "$T" ] || F="${F}cgroup /sys/fs/cgroup/$c cgroup $c 0 0$NL"',
      '  done </proc/cgroups',
    )
  }
  if (mode === 'hybrid') out.push(`  fst /sys/fs/cgroup/unified; [ -n "$T" ] || F="\${F}cgroup2 /sys/fs/cgroup/unified cgroup2 ${CG2_OPTS} 0 0$NL"`)
  if (mode === 'cgroup2') out.push(`  fst /sys/fs/cgroup; [ -n "$T" ] || F="\${F}cgroup2 /sys/fs/cgroup cgroup2 ${CG2_OPTS} 0 0$NL"`)
  out.push('fi')
  return out
}

/** `env -i NAME=value... file args...`: exactly this env, nothing of PID 1's. */
const envExec = (env: readonly string[], file: string, args: readonly string[]): string =>
  ['env', '-i', ...env.filter(kv => kv.indexOf('=') > 0), file, ...args].map(sq).join(' ')

export function buildVmInitScript(i: InitScriptInput): string {
  const { cfg, vm, net, image: img } = i
  const bb = sq(BIN.busybox)
  // Only a value of the tmpfs size= form is written into the mount table.
  const shmSize = /^[0-9]{1,20}[kKmMgG%]?$/.test(i.settings.RUNCVM_SHM_SIZE ?? '') ? i.settings.RUNCVM_SHM_SIZE : ''
  const arg0 = cfg.args[0] ?? ''
  const L: string[] = [
    `#!${BIN.busybox} sh`,
    '# RunCVM VM init (PID 1), generated by ctr-qemu from /.runcvm state (lib/vm/init-script.ts).',
    '# Apply only: every decision was taken in the container. Failures of single steps are ignored',
    '# (upstream runcvm-vm-init `|| true`); output goes to /dev/null, warnings to the console.',
    'unset LD_ORIGIN_PATH',
    `PATH=${RUNCVM_GUEST}/bin:${RUNCVM_GUEST}/usr/bin:${RUNCVM_GUEST}/usr/sbin`,
    `[ -e /proc/self ] || ${bb} mount -t proc proc /proc`,
    `[ -d /sys/class ] || ${bb} mount -t sysfs sysfs /sys`,
    "NL='",
    "'",
    // pkg check only: fst (below) reads a snapshot.
    'fsp() { T=; while read -r _ fd ft _; do [ "$fd" = "$1" ] && T=$ft; done </proc/mounts; }',
  ]
  const mark = (phase: string) => { if (i.settings.RUNCVM_BOOT_TIMING) L.push(STATE_SH.timing(phase)) }
  if (i.settings.RUNCVM_BOOT_TIMING) L.push(`[ -n "$RUNCVM_PKG" ] || { ${STATE_SH.timing('init-ready')}; }`)
  if (vm.pkgTag) {
    // The package again, read-only with cache=always, unless the initramfs mounted it already;
    // then re-exec from it so every applet fork/exec (/proc/self/exe) reads cached pages.
    L.push(
      `fsp ${sq(RUNCVM_GUEST)}`,
      `if [ "$T" != virtiofs ] && [ -z "$RUNCVM_PKG" ]; then`,
      `  ${bb} mount -t virtiofs -o ro ${sq(vm.pkgTag)} ${sq(RUNCVM_GUEST)} && [ -f "$0" ] && export RUNCVM_PKG=1 && exec ${bb} sh "$0"`,
      'fi',
      'unset RUNCVM_PKG',
    )
  }
  // One snapshot of the mounts (as the Node init had); fst reads it with builtins only.
  L.push(
    'MNT=$(cat /proc/mounts)',
    // fst DIR: T, O = type and options of the last mount on DIR ('' when none).
    'fst() { T= O= _d=$1; set -f; _i=$IFS; IFS=$NL; for _l in $MNT; do IFS=\' \'; set -- $_l; IFS=$NL; [ "$2" = "$_d" ] && T=$3 O=$4; done; IFS=$_i; set +f; }',
  )
  mark('vm-init')
  // Setup output to /dev/null; fds 8/9 keep PID 1's stdout/stderr (opened first if the kernel
  // left them closed: a failed redirection of `exec` would end the shell).
  L.push('[ -e /proc/self/fd/1 ] || exec 1>/dev/null', '[ -e /proc/self/fd/2 ] || exec 2>/dev/null', 'exec 8>&1 9>&2 >/dev/null 2>&1')
  // Modules on demand from the package's tree (lib/vm/guest-kernel.ts), before anything loads one.
  const mods = moduleLines(img, i.packageModules, BIN.modprobe)
  L.push(...mods.early)
  // / and /.runcvm rw (Alpine's initramfs ignores `rw`) when they are not; /run as the image has it.
  L.push(
    `for m in / ${sq(STATE_DIR)}; do fst "$m"; case ,$O, in *,ro,*) mount -o remount,rw "$m" ;; esac; done`,
    'fst /run; [ "$T" != tmpfs ] || umount -fl /run',
  )
  // Network, one `ip -batch` in the background.
  L.push(
    'nic() { D=; for d in /sys/class/net/*; do a=; read -r a <"$d/address"; [ "$a" = "$1" ] && { D=${d##*/}; return 0; }; done; return 1; }',
    ...netLines(net, BIN.ip, i.settings.RUNCVM_IPV6 !== 'off'),
  )
  // Every other mount in ONE `mount -a` (util-linux, X-mount.mkdir), in the background too, over a
  // table built here with builtins: /dev/pts, /dev/shm, the state fstab (tmpfs + disks), its bind
  // over /etc/fstab, and the cgroup filesystems (v1 mounts cost ~50 ms each under TCG).
  L.push(
    'F=',
    'fst /dev/pts; [ -n "$T" ] || F="${F}devpts /dev/pts devpts gid=5,mode=620,ptmxmode=666 0 0$NL"',
    `fst /dev/shm; [ -n "$T" ] || F="\${F}shm /dev/shm tmpfs mode=1777,nosuid,nodev${shmSize ? `,size=${shmSize}` : ''} 0 0$NL"`,
  )
  if (i.fstab.length) {
    if (i.fstab.some(l => /\sext[234]\s/.test(l))) L.push('modprobe ext4')
    L.push(`F=$F${sq(i.fstab.map(l => l + '\n').join(''))}`)
    L.push(`[ ! -e /etc/fstab ] || F=$F${sq(`${statePath('fstab')} /etc/fstab none bind 0 0\n`)}`)
  }
  // --read-only: Docker's resolv.conf is bound read-only; ctr-entrypoint left the VM's copy in state.
  L.push(`[ ! -e ${sq(statePath('resolv'))} ] || F=$F${sq(`${statePath('resolv')} /etc/resolv.conf none bind 0 0\n`)}`)
  L.push(...mods.mounts)
  L.push(...cgroupLines(cgroupMode(i.settings.RUNCVM_CGROUPFS, isSystemd(img.resolved)), img.etcFstab ?? ''))
  L.push(
    'MP=',
    `if [ -n "$F" ]; then printf %s "$F" >${sq(statePath('mounts'))}; LIBMOUNT_UTAB=${sq(statePath('utab'))} ${sq(BIN.mount)} -a --fstab ${sq(statePath('mounts'))} -o X-mount.mkdir 8>&- 9>&- & MP=$!; fi`,
  )
  // Meanwhile: /dev fixes on a devtmpfs /dev (upstream runcvm-vm-init's fix-ups), hostname.
  const tty = groupId(img.group, 'tty', 5)
  L.push(
    'fst /dev',
    'if [ "$T" = devtmpfs ]; then',
    '  for f in stdin:0 stdout:1 stderr:2; do [ -e "/dev/${f%:*}" ] || ln -sfn "/proc/self/fd/${f#*:}" "/dev/${f%:*}"; done',
    '  [ ! -e /proc/kcore ] || ln -sfn /proc/kcore /dev/core',
    '  [ -L /dev/ptmx ] || ln -sfn pts/ptmx /dev/ptmx',
    '  chmod 0666 /dev/null /dev/zero /dev/random /dev/urandom /dev/tty /dev/pts/ptmx',
    // One chmod for all ttyN (a devtmpfs has tty0..tty63; each applet run is a fork under TCG).
    `  set --; for f in /dev/tty*; do case \${f#/dev/tty} in '') ;; *[!0-9]*) ;; *) set -- "$@" "$f" ;; esac; done; [ $# = 0 ] || chmod 620 "$@"`,
    `  chown 0:${tty} /dev/tty*`,
    'fi',
    '[ -e /dev/fd ] || [ -L /dev/fd ] || ln -s /proc/self/fd /dev/fd',
  )
  const hostname = img.hostname?.trim()
  if (hostname) L.push(`printf %s ${sq(hostname)} >/proc/sys/kernel/hostname`)
  // systemd-detect-virt would see a container and skip units with ConditionVirtualization=!container.
  // The runtime removed /.dockerenv from Docker's init layer (lib/oci/init-layer.ts); this is for
  // other storage drivers.
  L.push('[ ! -e /.dockerenv ] || mv -f /.dockerenv /.dockerenv.runcvm')
  mark('vm-dev')
  L.push('wait $NP $MP')
  mark('vm-net-mounts')
  // Swarm's routing mesh: Docker's port redirects for the VM's addresses (lib/net/ingress.ts), in
  // the VM's nat table before the workload starts.
  const rules = ingressRestore(net.redirects)
  if (rules) {
    L.push(
      `XTABLES_LIBDIR=${sq(BIN.xtablesLibdir)} ${sq(BIN.xtables)} iptables-restore --noflush <<'RUNCVM_EOF' 8>&- 9>&- || echo "RunCVM: Warning: the published ports' redirects (Swarm routing mesh) could not be set in the VM" >&9`,
      ...rules.trimEnd().split('\n'),
      'RUNCVM_EOF',
    )
  }
  // Gratuitous ARP: peers learn the VM's MAC for the container IP.
  for (const n of net.interfaces.filter(n => n.ip !== undefined)) {
    L.push(`arping -U -c 1 -w 1 -I ${sq(n.name)} ${sq(n.ip!)} </dev/null 8>&- 9>&- &`)
  }
  // --sysctl (net.*) once the NICs exist (per-interface keys), --ulimit before anything starts.
  L.push(...sysctlLines(i.settings.RUNCVM_SYSCTL ?? ''), ...rlimitLines(i.settings.RUNCVM_RLIMITS ?? ''))
  L.push(STATE_SH.booted())
  mark('vm-setup')
  L.push(
    `if [ -e ${sq(BIN.qemuGa)} ] && [ -e ${VIRTIO_PORTS_DIR}/${GUEST_AGENT_PORT} ]; then`,
    `  setsid env -i ${sq(BIN.qemuGa)} --retry-path --statedir ${sq(STATE_DIR)} </dev/null 8>&- 9>&- &`,
    'fi',
    // dropbear for `docker exec` (lib/vm/sshd.ts): keys + listen in the background.
    `setsid env -i ${bb} sh -c ${sq(buildSshdScript(net))} </dev/null 8>&- 9>&- &`,
    // `docker network connect` while the VM runs: configures each hot-plugged NIC when the kernel
    // announces it, from the plan the container side left in /.runcvm (lib/net/hotplug.ts).
    `setsid env -i ${bb} sh -c ${sq(vmHotplugWatchScript(BIN.ip, BIN.busybox))} </dev/null 8>&- 9>&- &`,
  )
  const lp = i.launch
  if (i.settings.RUNCVM_INIT) {
    // --init: busybox init as PID 1; its console entry runs the workload once (vm-start.sh).
    const launch = planLaunch(cfg, lp, 'vm')
    L.push(
      `printf %s ${sq(buildVmStartScript(launch, { busybox: BIN.busybox, onceFile: statePath('once') }))} >${sq(statePath('vmStart'))}`,
      `printf %s ${sq(buildInittab({ console: vm.console, vmStart: `${BIN.busybox} sh ${statePath('vmStart')}`, poweroff: BIN.poweroff }))} >/etc/inittab`,
      `rm -f ${sq(statePath('once'))}`,
    )
    mark('vm-exec-init')
    L.push('exec 8>&- 9>&-', `[ ! -x ${sq(BIN.init)} ] || exec env -i ${sq(BIN.init)}`)
  } else {
    const isInit = isInitEntrypoint(img.resolved, arg0)
    const launch = planLaunch(cfg, lp, isInit ? 'no-fork' : 'vm', isInit ? initStopSignal(img.resolved, arg0) : undefined)
    const con = sq(`/dev/${vm.console}`)
    L.push(
      'exec 1>&8 2>&9 8>&- 9>&-',
      // The workload's stdio is the console device (the kernel gave PID 1 /dev/console).
      `if [ -e ${con} ] && ! [ /proc/self/fd/1 -ef ${con} ]; then exec <${con} >${con} 2>${con}; fi`,
    )
    mark('vm-exec')
    L.push(`[ ! -x ${sq(launch.file)} ] || exec ${envExec(launch.env, launch.file, launch.argv.slice(1))}`)
  }
  // Only reached when the program is missing: PID 1 must not exit (kernel panic without a word).
  L.push(
    `echo 'RunCVM: Error: VM init failed: cannot start the workload' >&2`,
    STATE_SH.exitStatus(1),
    'exec poweroff -f',
  )
  return L.join('\n') + '\n'
}
