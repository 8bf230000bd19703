// The VM's init as a busybox sh script ("plan in the container, apply in the VM", issue 4).
//
// DESIGN §4: a Node start in the VM costs ~2.4 s cold under TCG (reading Node over virtiofs and
// translating V8's start-up). So everything that can be decided before QEMU starts is decided by
// ctr-qemu at native speed from the saved state and the image (read through /vm): entrypoint
// resolution, init/systemd detection, the launch argv and env, hostname, tty gid, fstab, cgroup
// mode, the network plan. What only the VM knows (its mounts, /dev entries, NIC names by MAC,
// /proc/cgroups) is tested by the script itself with shell builtins and busybox applets, so the
// script is exactly upstream runcvm-vm-init's duties with no decision left to a slow process.
//
// Pure: facts in, script text out. Every value from state is quoted with sq() (any bytes but
// NUL). Golden tests: tests/golden/vm-init-*.sh.
import type { ConfigState, NetworkState, VmState } from '../state.js'
import { guestMac } from '../net/plan.js'
import { batchWord } from '../sh.js'
import { cgroupMode, type CgroupMode } from './cgroupfs.js'
import { buildInittab, buildVmStartScript, isInitEntrypoint, isSystemd, planLaunch, type LaunchPaths } from './launch.js'
import { groupId } from './mounts.js'
import { buildSshdScript } from './sshd.js'
import { BIN } from './bins.js'
import { RUNCVM_GUEST } from '../paths.js'

/** POSIX sh single-quoting: exact for any string without NUL (also inside assignments). */
export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

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
}

export interface InitScriptInput {
  cfg: ConfigState
  settings: { RUNCVM_INIT: boolean; RUNCVM_BOOT_TIMING: boolean; RUNCVM_CGROUPFS: string }
  vm: VmState
  net: NetworkState
  /** /.runcvm/fstab lines (tmpfs + disks, written by ctr-qemu). */
  fstab: readonly string[]
  image: ImageFacts
  /** runcvm-init's paths and stdio choice (lib/vm/launch.ts; built from VmState by init-facts). */
  launch: LaunchPaths
  /** State file paths (/.runcvm/...). */
  paths: { state: string; exitStatus: string; vmStart: string; once: string; fstab: string; mounts: string; booted: string; timing: string }
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

/**
 * NICs by MAC (lib/vm/net.ts rules): each interface's 52:54:00 MAC is looked up in
 * /sys/class/net by the script (N<i> = the kernel's name, empty when missing), and one
 * `ip -force -batch` gets the renames (via <name>-tmp: eth0 and eth1 may swap), addresses, MTU,
 * default route and the routes of found interfaces.
 */
export function netLines(net: NetworkState, ip: string): string[] {
  const out: string[] = ['M=', `B=${sq('link set lo up\n')}`]
  net.interfaces.forEach((n, i) => {
    out.push(`N${i}=; if nic ${sq(guestMac(n.mac))}; then N${i}=$D; B=$B${sq('link set dev ')}"$D"${sq(` name ${batchWord(`${n.name}-tmp`)}\n`)}; else M="$M\${M:+, }"${sq(n.name)}; fi`)
  })
  net.interfaces.forEach((n, i) => {
    const lines = [
      `link set dev ${batchWord(`${n.name}-tmp`)} name ${batchWord(n.name)}`,
      ...(n.ip !== undefined ? [`addr add ${batchWord(`${n.ip}/${n.prefix ?? 32}`)} broadcast + dev ${batchWord(n.name)}`] : []),
      `link set dev ${batchWord(n.name)} up mtu ${n.mtu}`,
      ...(n.gateway !== undefined ? [`route add default via ${batchWord(n.gateway)}`] : []),
    ]
    out.push(`[ -z "$N${i}" ] || B=$B${sq(lines.join('\n') + '\n')}`)
  })
  for (const r of net.routes) {
    const i = net.interfaces.findIndex(n => n.name === r.dev)
    if (i < 0) continue
    out.push(`[ -z "$N${i}" ] || B=$B${sq(`route add ${batchWord(r.dst)} via ${batchWord(r.gateway)} dev ${batchWord(r.dev)}\n`)}`)
  }
  out.push(`[ -z "$M" ] || echo "RunCVM: Warning: no VM NIC for $M" >&9`)
  // In the background (one exec of a dynamic binary, ~0.2-0.3 s under TCG) while the mounts run.
  out.push(`${sq(ip)} -force -batch - <<RUNCVM_EOF 8>&- 9>&- &`, '$B', 'RUNCVM_EOF', 'NP=$!')
  return out
}

/** `env -i NAME=value... file args...`: exactly this env, nothing of PID 1's. */
const envExec = (env: readonly string[], file: string, args: readonly string[]): string =>
  ['env', '-i', ...env.filter(kv => kv.indexOf('=') > 0), file, ...args].map(sq).join(' ')

export function buildVmInitScript(i: InitScriptInput): string {
  const { cfg, vm, net, image: img, paths: P } = i
  const bb = sq(BIN.busybox)
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
  const mark = (phase: string) => { if (i.settings.RUNCVM_BOOT_TIMING) L.push(`read -r u _ </proc/uptime; echo "vm:${phase} $u" >>${sq(P.timing)}`) }
  if (i.settings.RUNCVM_BOOT_TIMING) L.push(`[ -n "$RUNCVM_PKG" ] || { read -r u _ </proc/uptime; echo "vm:init-ready $u" >>${sq(P.timing)}; }`)
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
  // / and /.runcvm rw (Alpine's initramfs ignores `rw`) when they are not; /run as the image has it.
  L.push(
    `for m in / ${sq(P.state)}; do fst "$m"; case ,$O, in *,ro,*) mount -o remount,rw "$m" ;; esac; done`,
    'fst /run; [ "$T" != tmpfs ] || umount -fl /run',
  )
  // Network (IPv6 is off on the kernel cmdline), one `ip -batch` in the background.
  L.push(
    'nic() { D=; for d in /sys/class/net/*; do a=; read -r a <"$d/address"; [ "$a" = "$1" ] && { D=${d##*/}; return 0; }; done; return 1; }',
    ...netLines(net, BIN.ip),
  )
  // Every other mount in ONE `mount -a` (util-linux, X-mount.mkdir), in the background too, over a
  // table built here with builtins: /dev/pts, /dev/shm, the state fstab (tmpfs + disks), its bind
  // over /etc/fstab, and the cgroup filesystems (v1 mounts cost ~50 ms each under TCG).
  L.push(
    'F=',
    'fst /dev/pts; [ -n "$T" ] || F="${F}devpts /dev/pts devpts gid=5,mode=620,ptmxmode=666 0 0$NL"',
    'fst /dev/shm; [ -n "$T" ] || F="${F}shm /dev/shm tmpfs mode=1777,nosuid,nodev 0 0$NL"',
  )
  if (i.fstab.length) {
    if (i.fstab.some(l => /\sext[234]\s/.test(l))) L.push('modprobe ext4')
    L.push(`F=$F${sq(i.fstab.map(l => l + '\n').join(''))}`)
    L.push(`[ ! -e /etc/fstab ] || F=$F${sq(`${P.fstab} /etc/fstab none bind 0 0\n`)}`)
  }
  L.push(...cgroupLines(cgroupMode(i.settings.RUNCVM_CGROUPFS, isSystemd(img.resolved)), img.etcFstab ?? ''))
  L.push(
    'MP=',
    `if [ -n "$F" ]; then printf %s "$F" >${sq(P.mounts)}; ${sq(BIN.mount)} -a --fstab ${sq(P.mounts)} -o X-mount.mkdir 8>&- 9>&- & MP=$!; fi`,
  )
  // Meanwhile: /dev fixes on a devtmpfs /dev (lib/vm/mounts.ts planDevFixes), hostname.
  const tty = groupId(img.group, 'tty', 5)
  L.push(
    'fst /dev',
    'if [ "$T" = devtmpfs ]; then',
    '  for f in stdin:0 stdout:1 stderr:2; do [ -e "/dev/${f%:*}" ] || ln -sfn "/proc/self/fd/${f#*:}" "/dev/${f%:*}"; done',
    '  [ ! -e /proc/kcore ] || ln -sfn /proc/kcore /dev/core',
    '  [ -L /dev/ptmx ] || ln -sfn pts/ptmx /dev/ptmx',
    '  chmod 666 /dev/null /dev/random /dev/urandom /dev/zero /dev/tty /dev/pts/ptmx',
    // One chmod for all ttyN (a devtmpfs has tty0..tty63; each applet run is a fork under TCG).
    `  set --; for f in /dev/tty*; do case \${f#/dev/tty} in '') ;; *[!0-9]*) ;; *) set -- "$@" "$f" ;; esac; done; [ $# = 0 ] || chmod 620 "$@"`,
    `  chown 0:${tty} /dev/tty*`,
    'fi',
    '[ -e /dev/fd ] || [ -L /dev/fd ] || ln -s /proc/self/fd /dev/fd',
  )
  const hostname = img.hostname?.trim()
  if (hostname) L.push(`printf %s ${sq(hostname)} >/proc/sys/kernel/hostname`)
  // systemd-detect-virt would see a container and skip units with ConditionVirtualization=!container.
  L.push('[ ! -e /.dockerenv ] || mv -f /.dockerenv /.dockerenv.runcvm')
  mark('vm-dev')
  L.push('wait $NP $MP')
  mark('vm-net-mounts')
  // Gratuitous ARP: peers learn the VM's MAC for the container IP.
  for (const n of net.interfaces.filter(n => n.ip !== undefined)) {
    L.push(`arping -U -c 1 -w 1 -I ${sq(n.name)} ${sq(n.ip!)} </dev/null 8>&- 9>&- &`)
  }
  L.push(`printf '' >${sq(P.booted)}`)
  mark('vm-setup')
  L.push(
    `if [ -e ${sq(BIN.qemuGa)} ] && [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then`,
    `  setsid env -i ${sq(BIN.qemuGa)} --retry-path --statedir ${sq(P.state)} </dev/null 8>&- 9>&- &`,
    'fi',
    // dropbear for `docker exec` (lib/vm/sshd.ts): keys + listen in the background.
    `setsid env -i ${bb} sh -c ${sq(buildSshdScript(net))} </dev/null 8>&- 9>&- &`,
  )
  const lp = i.launch
  if (i.settings.RUNCVM_INIT) {
    // --init: busybox init as PID 1; its console entry runs the workload once (vm-start.sh).
    const launch = planLaunch(cfg, lp, 'vm')
    L.push(
      `printf %s ${sq(buildVmStartScript(launch, { busybox: BIN.busybox, onceFile: P.once }))} >${sq(P.vmStart)}`,
      `printf %s ${sq(buildInittab({ console: vm.console, vmStart: `${BIN.busybox} sh ${P.vmStart}`, poweroff: BIN.poweroff }))} >/etc/inittab`,
      `rm -f ${sq(P.once)}`,
    )
    mark('vm-exec-init')
    L.push('exec 8>&- 9>&-', `[ ! -x ${sq(BIN.init)} ] || exec env -i ${sq(BIN.init)}`)
  } else {
    const launch = planLaunch(cfg, lp, isInitEntrypoint(img.resolved, arg0) ? 'no-fork' : 'vm')
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
    `echo 1 >${sq(P.exitStatus)}`,
    'exec poweroff -f',
  )
  return L.join('\n') + '\n'
}
