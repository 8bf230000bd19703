// Every path RunCVM uses, in one place: the package tree, its two mount points, the state files,
// the container-side sockets, the virtio-serial port names and virtiofs tags. Constants (and
// one-line path builders) only, no logic.
//
// The same package tree is installed at RUNCVM_HOST on the host and bind-mounted read-only at
// RUNCVM_GUEST inside every RunCVM container; the container root is rbind-mounted at
// VM_MOUNTPOINT and served to the VM over virtiofs, so the VM sees the very same paths as the
// container. native/runcvm-paths.h is generated from this module (packaging/paths-header.ts) so
// the C helpers use the same strings.

/** Host install path of the package (drop-in: upstream installs here too). */
export const RUNCVM_HOST = '/opt/runcvm'
/** Where the package appears inside the container and the VM (upstream RUNCVM_GUEST). */
export const RUNCVM_GUEST = '/.runcvm/guest'
/** tmpfs in the container (and, through the /vm rbind, in the VM) holding RunCVM state. */
export const STATE_DIR = '/.runcvm'
/** The container's root re-mounted here; virtiofsd serves this tree as the VM's root. */
export const VM_MOUNTPOINT = '/vm'

/** Files of the package tree, relative to its root (dist/opt/runcvm, RUNCVM_HOST, RUNCVM_GUEST). */
export const PKG = {
  /** The dynamic loader every packaged ELF names as PT_INTERP (under RUNCVM_GUEST). */
  loader: 'lib/ld-linux-x86-64.so.2',
  libDir: 'lib',
  node: 'usr/bin/node',
  busybox: 'usr/bin/busybox',
  /** busybox applet links (bin/<applet> -> ../usr/bin/busybox). */
  appletDir: 'bin',
  scripts: 'scripts',
  kernels: 'kernels',
  ip: 'usr/sbin/ip',
  xtables: 'usr/sbin/xtables-nft-multi',
  xtablesLegacy: 'usr/sbin/xtables-legacy-multi',
  xtablesLibdir: 'usr/lib/xtables',
  dnsmasq: 'usr/sbin/dnsmasq',
  dropbear: 'usr/sbin/dropbear',
  dropbearkey: 'usr/bin/dropbearkey',
  dbclient: 'usr/bin/dbclient',
  mke2fs: 'usr/sbin/mke2fs',
  blkid: 'usr/sbin/blkid',
  mount: 'usr/bin/mount',
  qemu: 'usr/bin/qemu-system-x86_64',
  qemuModules: 'usr/lib/qemu-modules',
  qemuData: 'usr/share/qemu',
  ovmfCode: 'usr/share/OVMF/OVMF_CODE.fd',
  ovmfVars: 'usr/share/OVMF/OVMF_VARS.fd',
  terminfo: 'usr/share/terminfo',
  virtiofsd: 'usr/lib/qemu/virtiofsd',
  qemuGa: 'usr/bin/qemu-ga',
  runcvmInit: 'sbin/runcvm-init',
  kvmProbe: 'sbin/runcvm-kvm-probe',
  poweroff: 'bin/poweroff',
  init: 'bin/init',
  sh: 'bin/sh',
  /** busybox modprobe: the kernel's usermode modprobe for images without one (lib/vm/guest-kernel.ts). */
  modprobe: 'bin/modprobe',
} as const

/** Package binaries as the container and the VM see them. */
export const BIN = {
  node: `${RUNCVM_GUEST}/${PKG.node}`,
  busybox: `${RUNCVM_GUEST}/${PKG.busybox}`,
  sh: `${RUNCVM_GUEST}/${PKG.sh}`,
  ip: `${RUNCVM_GUEST}/${PKG.ip}`,
  xtables: `${RUNCVM_GUEST}/${PKG.xtables}`,
  xtablesLegacy: `${RUNCVM_GUEST}/${PKG.xtablesLegacy}`,
  xtablesLibdir: `${RUNCVM_GUEST}/${PKG.xtablesLibdir}`,
  dnsmasq: `${RUNCVM_GUEST}/${PKG.dnsmasq}`,
  dropbear: `${RUNCVM_GUEST}/${PKG.dropbear}`,
  dropbearkey: `${RUNCVM_GUEST}/${PKG.dropbearkey}`,
  dbclient: `${RUNCVM_GUEST}/${PKG.dbclient}`,
  mke2fs: `${RUNCVM_GUEST}/${PKG.mke2fs}`,
  blkid: `${RUNCVM_GUEST}/${PKG.blkid}`,
  mount: `${RUNCVM_GUEST}/${PKG.mount}`,
  qemu: `${RUNCVM_GUEST}/${PKG.qemu}`,
  qemuModules: `${RUNCVM_GUEST}/${PKG.qemuModules}`,
  qemuData: `${RUNCVM_GUEST}/${PKG.qemuData}`,
  ovmfCode: `${RUNCVM_GUEST}/${PKG.ovmfCode}`,
  ovmfVars: `${RUNCVM_GUEST}/${PKG.ovmfVars}`,
  terminfo: `${RUNCVM_GUEST}/${PKG.terminfo}`,
  virtiofsd: `${RUNCVM_GUEST}/${PKG.virtiofsd}`,
  qemuGa: `${RUNCVM_GUEST}/${PKG.qemuGa}`,
  runcvmInit: `${RUNCVM_GUEST}/${PKG.runcvmInit}`,
  kvmProbe: `${RUNCVM_GUEST}/${PKG.kvmProbe}`,
  poweroff: `${RUNCVM_GUEST}/${PKG.poweroff}`,
  init: `${RUNCVM_GUEST}/${PKG.init}`,
  modprobe: `${RUNCVM_GUEST}/${PKG.modprobe}`,
} as const

/** PATH for programs RunCVM starts in the container with no image PATH (package tools only). */
export const GUEST_TOOLS_PATH = `${RUNCVM_GUEST}/usr/bin:${RUNCVM_GUEST}/${PKG.appletDir}`

/** Role scripts, as installed (`scripts/runcvm-<role>`). */
export const guestScript = (role: string): string => `${RUNCVM_GUEST}/${PKG.scripts}/runcvm-${role}`
export const hostScript = (role: string): string => `${RUNCVM_HOST}/${PKG.scripts}/runcvm-${role}`

export const RUNTIME_PATH = /* @__PURE__ */ hostScript('runtime')
export const CTR_ENTRYPOINT = /* @__PURE__ */ guestScript('ctr-entrypoint')
export const CTR_EXEC = /* @__PURE__ */ guestScript('ctr-exec')
export const CTR_QEMU = /* @__PURE__ */ guestScript('ctr-qemu')
/** The boot watchdog ctr-qemu starts beside QEMU. */
export const CTR_WATCHDOG = /* @__PURE__ */ guestScript('ctr-watchdog')
/** runcvm-init (container mode) runs these on SIGTERM and when its command ends. */
export const CTR_SHUTDOWN = /* @__PURE__ */ guestScript('ctr-shutdown')
export const CTR_EXIT = /* @__PURE__ */ guestScript('ctr-exit')
/** One reconcile pass of `docker network connect/disconnect` on the running VM (run by the link watcher). */
export const CTR_NETPLUG = /* @__PURE__ */ guestScript('ctr-netplug')
/** The link watcher's log (runcvm-ctr-netplug's lines). */
export const NETPLUG_LOG = '/.runcvm/netplug.log'
export const VM_EXEC = /* @__PURE__ */ guestScript('vm-exec')

/** Kernels: `<dir>/<dist>/<version>/{vmlinuz,initrd,modules/<version>}` plus `<dist>/latest`. */
export const GUEST_KERNELS = `${RUNCVM_GUEST}/${PKG.kernels}`

/** The shebang of a role bundle: host roles name the package's loader (see docs/ARCHITECTURE.md). */
export const shebang = (where: 'host' | 'guest'): string =>
  where === 'host' ? `#!${RUNCVM_HOST}/${PKG.loader} ${RUNCVM_HOST}/${PKG.node}` : `#!${BIN.node}`

// --- on the host, outside the package ---

/** Host directory for RunCVM's run-time files (tmpfs: cleared at boot; --uninstall removes it). */
export const HOST_RUN_DIR = '/run/runcvm'
/** The host's warnings log (lib/warnings.ts): one line per warning, `<ISO time> <container id> <text>`. */
export const HOST_WARNINGS_LOG = `${HOST_RUN_DIR}/warnings.log`
/** runcvm-doctor's name on PATH, and the directory the installer links it into by default. */
export const DOCTOR_NAME = 'runcvm-doctor'
export const HOST_BIN_DIR = '/usr/local/bin'
/** The doctor script the link points at, relative to a package root. */
export const DOCTOR_SCRIPT = `${PKG.scripts}/${DOCTOR_NAME}`
/** The installer image: where `docker run -v /opt/runcvm:/runcvm IMAGE` mounts the host's package dir. */
export const INSTALLER_IMAGE_TARGET = '/runcvm'

// --- /.runcvm: state shared by the container and the VM (lib/state.ts reads and writes them) ---

/** File names inside the state dir. */
export const STATE_FILES = {
  config: 'config.json',
  network: 'network.json',
  vm: 'vm.json',
  /** fstab lines for the VM (tmpfs + disks); plain text because `mount -a --fstab` reads it. */
  fstab: 'fstab',
  /** Written by the application (upstream feature): its exit code, any integer, taken & 255. */
  exitcode: 'exitcode',
  /** The workload's exit status, "S\n" (runcvm-init --vm --exit-file, or a RunCVM failure). */
  exitStatus: 'exit-status',
  /** RUNCVM_BOOT_TIMING=1: `<phase> <seconds>` lines from every role. */
  timing: 'timing.log',
  /** vm-init is running (one of the boot watchdog's signs of life). */
  booted: 'booted',
  /** --init mode: the console job runs the workload once only (upstream /.runcvm/once). */
  once: 'once',
  /** --init mode: the console job busybox init runs (a busybox sh script, see lib/vm/launch.ts). */
  vmStart: 'vm-start.sh',
  /** The VM's init: a busybox sh script written by ctr-qemu (lib/vm/init-script.ts); kernel init=. */
  vmInit: 'vm-init.sh',
  /** Written by vm-init.sh in the VM: the table of its one `mount -a` (devpts, shm, fstab, cgroups). */
  mounts: 'vm-mounts.fstab',
  /**
   * The VM's resolv.conf when Docker's (bound at /etc/resolv.conf) cannot be rewritten
   * (`--read-only` binds it read-only): vm-init.sh binds this one over it.
   */
  resolv: 'resolv.conf',
  /**
   * util-linux's table of the VM init's mounts (LIBMOUNT_UTAB; its default /run/mount/utab would
   * land in the image's /run, a change `docker diff` shows).
   */
  utab: 'mount-utab',
} as const

export type StateFile = keyof typeof STATE_FILES
export const statePath = (file: StateFile, dir = STATE_DIR): string => `${dir}/${STATE_FILES[file]}`

/** dropbear for `docker exec` (lib/vm/sshd.ts): keys, readiness marker, exec request files. */
export const SSHD_DIR = `${STATE_DIR}/dropbear`
/** Client private key (dbclient -i); only root in the container (and the VM's root) can read it. */
export const SSHD_KEY = `${SSHD_DIR}/key`
export const SSHD_AUTHORIZED_KEYS = `${SSHD_DIR}/authorized_keys`
/** The name the patched dropbear looks for by default; passed explicitly anyway. */
export const SSHD_HOST_KEY = `${SSHD_DIR}/dropbear_ed25519_host_key`
/** Readiness marker: dropbear's pid file, written after it listens. */
export const SSHD_READY = `${SSHD_DIR}/dropbear.pid`

// --- the container's own /run: a tmpfs mounted last, so NOT visible in the VM ---

export const VIRTIOFSD_SOCKET = '/run/.virtiofs.sock'
export const VIRTIOFSD_LOG = '/run/.virtiofsd.log'
/** Where virtiofsd writes its pid files (QEMU's local state dir + run/virtiofsd, built in). */
export const VIRTIOFSD_PID_DIR = '/var/run/virtiofsd'
/** Second virtiofsd: the package, read-only, cache=always (see ctr-entrypoint). */
export const PKG_VIRTIOFSD_SOCKET = '/run/.virtiofs-pkg.sock'
export const PKG_VIRTIOFSD_LOG = '/run/.virtiofsd-pkg.log'
export const QEMU_GUEST_AGENT_SOCKET = '/run/.qemu-guest-agent'
export const QEMU_MONITOR_SOCKET = '/run/.qemu-monitor-socket'
export const QMP_SOCKET = '/run/.qemu-qmp-socket'
/** QEMU's end of the control port ("stop" from ctr-shutdown). */
export const CONTROL_SOCKET = '/run/.runcvm-control'
/** `-t`: QEMU's end of the tty port (container runcvm-init --tty-relay writes window sizes). */
export const TTY_SOCKET = '/run/.runcvm-tty'
/**
 * dbclient's HOME for `docker exec`: its `.ssh/known_hosts` pins the VM's host key (lib/exec/hostkey.ts).
 * On the container's own /run, which the VM cannot see, so nothing in the VM can plant links there.
 */
export const DBCLIENT_HOME = '/run/.runcvm-dbclient'
/** Writable copy of the OVMF variable store. */
export const OVMF_VARS_COPY = '/run/.ovmf-vars.fd'
export const DNSMASQ_PID = '/run/.dnsmasq.pid'
/** Docker's resolv.conf as the container got it: dnsmasq's upstream servers. */
export const DNSMASQ_RESOLV = '/run/.dnsmasq-resolv.conf'
/** HOST_WARNINGS_LOG as the container sees it (the runtime binds it here at create; not in the VM). */
export const CTR_WARNINGS_LOG = '/run/.runcvm-warnings.log'

// --- names the VM sees: virtiofs tags and virtio-serial ports (/dev/virtio-ports/<name>) ---

/** virtiofs tag of the container root (kernel root=, lib/kernel.ts; kernels/initramfs-init.sh). */
export const ROOT_TAG = 'runcvmfs'
/** virtiofs tag of the package (mounted over RUNCVM_GUEST in the VM). */
export const PKG_TAG = 'runcvmpkg'
/** Our virtio-serial port for "stop" requests (runcvm-init --control-port). */
export const CONTROL_PORT = 'org.runcvm.control'
/** Non-tty runs: the workload's stdio ports (runcvm-init --stdin/--stdout/--stderr port:NAME). */
export const STDIO_PORTS = { stdin: 'org.runcvm.stdin', stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' } as const
/** `-t`: window resizes (container runcvm-init --tty-relay -> VM --tty-port). */
export const TTY_PORT = 'org.runcvm.tty'
/** The QEMU guest agent's port (its usual name). */
export const GUEST_AGENT_PORT = 'org.qemu.guest_agent.0'
export const VIRTIO_PORTS_DIR = '/dev/virtio-ports'

// --- addresses (network facts with the same role: fixed names both sides rely on) ---

/** dropbear listens here inside the VM for `docker exec` (upstream value). */
export const SSHD_PORT = 22222
/** Link-local address given to the container bridge (never leaves the container). */
export const QEMU_BRIDGE_IP = '169.254.1.1'
/** Address the VM uses as its DNS server; DNAT'd to dnsmasq in the container. */
export const RUNCVM_DNS_IP = '169.254.169.254'
