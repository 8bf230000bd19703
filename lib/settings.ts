// Every RUNCVM_* option: one row each (name, kind, default, one-line doc, upstream truthiness).
// parseSettings(env) turns the container's environment into typed settings. Pure: no fs, no
// process.env reads; callers pass the env they mean (config.json's process.env for the runtime,
// the saved container env for the in-container roles).
import { ConfigError } from './errors.js'
import { RUNCVM_GUEST, VM_MOUNTPOINT } from './paths.js'
import { TCG_TB_SIZE_MAX_MIB, TCG_TB_SIZE_MIB, TCG_TB_SIZE_MIN_MIB } from './sizing.js'
import { shownValue, textProblem } from './validate.js'

/**
 * How upstream tested each variable; kept per row, never at call sites.
 * - 'one':      true only for the exact string "1"      (upstream `[ "$X" = "1" ]`)
 * - 'nonempty': true for any non-empty string          (upstream `[ -n "$X" ]`)
 * - 'on':       true only for the exact string "on"     (upstream `[ "$X" = "on" ]`)
 */
export type Truthiness = 'one' | 'nonempty' | 'on'

type Row =
  | { kind: 'bool'; truth: Truthiness; doc: string; internal?: boolean }
  | { kind: 'enum'; values: readonly string[]; default: string; doc: string; aliases?: Record<string, string>; internal?: boolean }
  | { kind: 'int'; min: number; max?: number; default?: number; doc: string; internal?: boolean }
  | { kind: 'string'; default?: string; doc: string; internal?: boolean; maxText?: number }
  | { kind: 'list'; values: readonly string[]; doc: string; internal?: boolean }

/** VM memory when the container has no memory limit and RUNCVM_MEM_SIZE is unset (MiB). */
export const MEM_SIZE_DEFAULT_MIB = 512

/**
 * The table. `internal` rows are set by runcvm-runtime on the container's env for later roles;
 * users do not set them (and anything they set is overwritten at create).
 */
export const SETTINGS = {
  // --- user options (upstream README "Option reference") ---
  RUNCVM_KERNEL: { kind: 'string', doc: 'Kernel to boot: <dist> or <dist>/<version> under /opt/runcvm/kernels (default: chosen from the image\'s /etc/os-release)' },
  RUNCVM_KERNEL_APPEND: { kind: 'string', default: '', maxText: 1024, doc: 'Extra kernel command-line options' },
  RUNCVM_KERNEL_DEBUG: { kind: 'bool', truth: 'one', doc: 'Show kernel boot messages on the console (drops `quiet`)' },
  RUNCVM_KERNEL_MOUNT_LIB_MODULES: { kind: 'bool', truth: 'nonempty', doc: 'Mount the RunCVM kernel\'s modules over /lib/modules instead of /lib/modules/<version>' },
  RUNCVM_DISKS: { kind: 'string', default: '', doc: 'Disk backing files: <src>,<dst>,<fs>[,<size>][;...]' },
  RUNCVM_DISPLAY_MODE: { kind: 'enum', values: ['headless', 'serial', 'vnc'], default: 'headless', aliases: { default: 'headless' }, doc: 'Console: headless (hvc0), serial (ttyS0 + QEMU monitor, escape Ctrl-T), vnc (VGA + VNC server)' },
  RUNCVM_QEMU_DISPLAY: { kind: 'enum', values: ['', 'none', 'curses'], default: '', doc: 'QEMU display frontend: none or curses (experimental)' },
  RUNCVM_QEMU_VGA: { kind: 'enum', values: ['', 'none', 'std', 'virtio', 'cirrus'], default: '', doc: 'Guest VGA adaptor (vnc mode default: virtio)' },
  RUNCVM_QEMU_VNC_DISPLAY: { kind: 'int', min: 0, max: 65535 - 5900, doc: 'VNC display number (port 5900+N); also enables VNC in headless mode' },
  RUNCVM_QEMU_USB: { kind: 'bool', truth: 'on', doc: 'Enable the USB controller (value "on")' },
  RUNCVM_QEMU_NET_VHOST: { kind: 'bool', truth: 'one', doc: 'Use vhost-net for the VM\'s NICs (needs /dev/vhost-net on the host)' },
  RUNCVM_QEMU_MEM_PREALLOC: { kind: 'enum', values: ['off', 'on'], default: 'off', doc: 'Preallocate VM memory' },
  RUNCVM_QEMU_DEBUG: { kind: 'bool', truth: 'one', doc: 'Report QEMU\'s exit status and the container\'s memory events' },
  RUNCVM_QEMU_ARCH: { kind: 'enum', values: ['x86_64', 'arm64'], default: 'x86_64', aliases: { '': 'x86_64' }, doc: 'Guest architecture (arm64 is experimental and not packaged)' },
  RUNCVM_BIOS: { kind: 'enum', values: ['', 'EFI'], default: '', doc: 'Firmware: SeaBIOS (default) or EFI (OVMF)' },
  RUNCVM_BIOS_DEBUG: { kind: 'bool', truth: 'one', doc: 'Show SeaBIOS output' },
  RUNCVM_SYS_ADMIN: { kind: 'bool', truth: 'one', doc: 'Grant CAP_SYS_ADMIN and run virtiofsd with modcaps=+sys_admin' },
  RUNCVM_HUGETLB: { kind: 'bool', truth: 'one', doc: 'Back VM memory with memfd+hugetlb instead of /dev/shm (experimental)' },
  RUNCVM_MEM_SIZE: { kind: 'string', default: `${MEM_SIZE_DEFAULT_MIB}M`, doc: 'VM memory when no --memory is given; set by the runtime from --memory' },
  RUNCVM_VIRTIOFSD_CACHE: { kind: 'enum', values: ['auto', 'none', 'always'], default: 'auto', doc: 'virtiofsd cache policy for the container root' },
  RUNCVM_CGROUPFS: { kind: 'enum', values: ['', 'none', 'systemd', '1', 'cgroup1', '2', 'cgroup2', 'hybrid', 'mixed'], default: '', doc: 'cgroupfs mounts in the VM (default: none for systemd entrypoints, else hybrid)' },
  RUNCVM_BREAK: { kind: 'list', values: ['prenet', 'postnet', 'preqemu'], doc: 'Comma-separated breakpoints that drop to a shell during boot' },
  RUNCVM_RUNTIME_DEBUG: { kind: 'bool', truth: 'one', doc: 'Write runtime debug logs to /run/runcvm/debug/runcvm-<pid>.log (root-only, 0600, env values redacted)' },
  // --- ours (beyond upstream) ---
  RUNCVM_ACCEL: { kind: 'enum', values: ['auto', 'kvm', 'tcg'], default: 'auto', doc: 'Accelerator: auto (KVM if it can run the guest, else TCG with a warning), kvm, tcg' },
  RUNCVM_BOOT_TIMEOUT: { kind: 'int', min: 0, max: 2_147_483, doc: 'Seconds the VM may run without a sign of life from the guest before the container fails (0: no limit); default 120 under KVM, none under TCG' },
  RUNCVM_BOOT_TIMING: { kind: 'bool', truth: 'one', doc: 'Log per-phase boot timestamps to /.runcvm/timing.log' },
  RUNCVM_TCG_TB_SIZE: { kind: 'int', min: TCG_TB_SIZE_MIN_MIB, max: TCG_TB_SIZE_MAX_MIB, default: TCG_TB_SIZE_MIB, doc: 'TCG only: size of QEMU\'s translation cache in MiB (-accel tcg,tb-size=); counted in the container\'s memory limit' },
  RUNCVM_IPV6: { kind: 'enum', values: ['on', 'off'], default: 'on', doc: 'IPv6 in the guest kernel (::1, link-local addresses, [::] sockets); off boots it with ipv6.disable=1' },
  // --- internal: written by runcvm-runtime at create ---
  RUNCVM_GUEST: { kind: 'string', default: RUNCVM_GUEST, doc: 'Package mount point in the container and VM', internal: true },
  RUNCVM_INIT: { kind: 'bool', truth: 'one', doc: 'docker run --init was given: run RunCVM\'s VM init', internal: true },
  RUNCVM_HAS_HOME: { kind: 'bool', truth: 'one', doc: 'HOME was set by the image or docker run (moby#2968)', internal: true },
  RUNCVM_UIDGID: { kind: 'string', default: '0:0:', doc: 'Requested <uid>:<gid>:<additionalGids>', internal: true },
  RUNCVM_CPUS: { kind: 'int', min: 0, default: 0, doc: 'The spec\'s CPU limit: ceil(quota/period) capped by the cpuset (0: none); ctr-qemu caps it by the container\'s CPUs and the machine limit', internal: true },
  RUNCVM_VM_MOUNTPOINT: { kind: 'string', default: VM_MOUNTPOINT, doc: 'Where the container root is re-mounted for virtiofsd', internal: true },
  RUNCVM_TMPFS: { kind: 'string', default: '', doc: 'fstab lines for the VM\'s tmpfs mounts', internal: true },
  RUNCVM_SHM_SIZE: { kind: 'string', default: '', doc: 'size= of the engine\'s /dev/shm (--shm-size), for the VM\'s /dev/shm', internal: true },
  RUNCVM_SYSCTL: { kind: 'string', default: '', doc: 'The spec\'s net.* sysctls (--sysctl) as key=value lines, for the VM\'s /proc/sys', internal: true },
  RUNCVM_RLIMITS: { kind: 'string', default: '', doc: 'The spec\'s rlimits (--ulimit) as TYPE=soft:hard lines, for the VM\'s processes', internal: true },
  RUNCVM_KERNEL_PATH: { kind: 'string', default: '', doc: 'Kernel image path (in the container)', internal: true },
  RUNCVM_KERNEL_INITRAMFS_PATH: { kind: 'string', default: '', doc: 'initramfs path (in the container)', internal: true },
  RUNCVM_KERNEL_ROOT: { kind: 'string', default: '', doc: 'Kernel root= options for this kernel family', internal: true },
  RUNCVM_CONTAINER_ID: { kind: 'string', default: '', doc: 'Container id from runc\'s argv (written into warning lines)', internal: true },
  RUNCVM_DISK_AIO: { kind: 'enum', values: ['io_uring', 'threads'], default: 'io_uring', doc: 'AIO engine for RUNCVM_DISKS disks: io_uring unless the seccomp profile or the host forbids it', internal: true },
} as const satisfies Record<string, Row>

export type SettingName = keyof typeof SETTINGS

type ValueOf<R> =
  R extends { kind: 'bool' } ? boolean
  : R extends { kind: 'enum'; values: readonly (infer V)[] } ? V
  : R extends { kind: 'int'; default: number } ? number
  : R extends { kind: 'int' } ? number | undefined
  : R extends { kind: 'string'; default: string } ? string
  : R extends { kind: 'string' } ? string | undefined
  : R extends { kind: 'list'; values: readonly (infer V)[] } ? V[]
  : never

export type RunCvmSettings = { -readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> }

/** Turn an OCI `env` array (`NAME=value`) into a map. The last definition wins, as in execve. */
export function envOf(env: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of env ?? []) {
    const i = kv.indexOf('=')
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return out
}

function truthy(value: string | undefined, truth: Truthiness): boolean {
  if (value === undefined) return false
  switch (truth) {
    case 'one': return value === '1'
    case 'nonempty': return value !== ''
    case 'on': return value === 'on'
  }
}

function parseOne(name: string, row: Row, raw: string | undefined): unknown {
  switch (row.kind) {
    case 'bool':
      return truthy(raw, row.truth)
    case 'enum': {
      if (raw === undefined) return row.default
      const v = row.aliases?.[raw] ?? raw
      if (!row.values.includes(v)) {
        const shown = row.values.filter(x => x !== '').join(', ')
        throw new ConfigError(`${name} '${shownValue(raw)}' invalid, must be one of: ${shown}`)
      }
      return v === '' ? row.default : v
    }
    case 'int': {
      if (raw === undefined || raw === '') return row.default
      if (!/^\d+$/.test(raw) || Number(raw) < row.min || (row.max !== undefined && Number(raw) > row.max)) {
        const range = row.max === undefined ? `>= ${row.min}` : `from ${row.min} to ${row.max}`
        throw new ConfigError(`${name} '${shownValue(raw)}' invalid, must be a whole number ${range}`)
      }
      return Number(raw)
    }
    case 'string': {
      const why = raw !== undefined && row.maxText !== undefined ? textProblem(raw, row.maxText) : undefined
      if (why) throw new ConfigError(`${name} '${shownValue(raw!)}' invalid, ${why}`)
      return raw ?? row.default
    }
    case 'list': {
      if (raw === undefined || raw === '') return []
      const items = raw.split(',').map(s => s.trim()).filter(Boolean)
      for (const it of items) {
        if (!row.values.includes(it)) {
          throw new ConfigError(`${name} '${shownValue(raw)}' invalid, must be a comma-separated list of: ${row.values.join(', ')}`)
        }
      }
      return items
    }
  }
}

/** Parse every RUNCVM_* setting from `env`. Throws ConfigError naming the first bad variable. */
export function parseSettings(env: Readonly<Record<string, string | undefined>>): RunCvmSettings {
  const out: Record<string, unknown> = {}
  for (const [name, row] of Object.entries(SETTINGS) as [string, Row][]) {
    out[name] = parseOne(name, row, env[name])
  }
  return out as RunCvmSettings
}
