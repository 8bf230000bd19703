// cgroup filesystems in the VM (upstream functions/cgroupfs). Pure: facts in, commands out.
//
// Modes (RUNCVM_CGROUPFS): none/systemd → nothing (leave it to the distribution);
// 1/cgroup1 → tmpfs on /sys/fs/cgroup + one cgroup v1 mount per enabled controller;
// hybrid/mixed → that plus cgroup2 on /sys/fs/cgroup/unified; 2/cgroup2 → cgroup2 on /sys/fs/cgroup.
// Default (empty): none when the entrypoint is systemd, else hybrid.
import type { Cmd } from '../sh.js'

export type CgroupMode = 'none' | 'cgroup1' | 'hybrid' | 'cgroup2'

export function cgroupMode(setting: string, entrypointIsSystemd: boolean): CgroupMode {
  switch (setting) {
    case '': return entrypointIsSystemd ? 'none' : 'hybrid'
    case 'none': case 'systemd': return 'none'
    case '1': case 'cgroup1': return 'cgroup1'
    case 'hybrid': case 'mixed': return 'hybrid'
    case '2': case 'cgroup2': return 'cgroup2'
    default: return 'none'
  }
}

export interface CgroupFacts {
  /** /etc/fstab text (a non-comment cgroup line means the image manages it). */
  fstab: string
  /** /proc/cgroups text, or undefined when absent (no kernel support). */
  procCgroups?: string
  sysFsCgroupExists: boolean
  /** Mount points currently mounted (from /proc/mounts). */
  mounted: ReadonlySet<string>
}

/** Enabled v1 controllers from /proc/cgroups (4th column = 1). */
export function enabledControllers(procCgroups: string): string[] {
  return procCgroups.split('\n')
    .filter(l => l.trim() !== '' && !l.startsWith('#'))
    .map(l => l.split(/\s+/))
    .filter(f => f[3] === '1')
    .map(f => f[0])
}

const CG2_OPTS = 'rw,nosuid,nodev,noexec,relatime'

/** Commands for `busybox` (mkdir/mount applets). Run them with keepGoing: a controller may be unsupported. */
export function planCgroupfs(mode: CgroupMode, f: CgroupFacts, busybox: string): Cmd[] {
  if (mode === 'none') return []
  const managed = f.fstab.split('\n').some(l => !l.startsWith('#') && l.includes('cgroup'))
  if (managed || f.procCgroups === undefined || !f.sysFsCgroupExists) return []
  const root = '/sys/fs/cgroup'
  const cmds: Cmd[] = []
  if (mode === 'cgroup1' || mode === 'hybrid') {
    if (!f.mounted.has(root)) cmds.push([busybox, 'mount', '-t', 'tmpfs', '-o', 'uid=0,gid=0,mode=0755', 'cgroup', root])
    for (const c of enabledControllers(f.procCgroups)) {
      const dir = `${root}/${c}`
      if (f.mounted.has(dir)) continue
      cmds.push([busybox, 'mkdir', '-p', dir], [busybox, 'mount', '-n', '-t', 'cgroup', '-o', c, 'cgroup', dir])
    }
  }
  if (mode === 'hybrid' && !f.mounted.has(`${root}/unified`)) {
    cmds.push([busybox, 'mkdir', '-p', `${root}/unified`], [busybox, 'mount', '-t', 'cgroup2', '-o', CG2_OPTS, 'cgroup2', `${root}/unified`])
  }
  if (mode === 'cgroup2' && !f.mounted.has(root)) {
    cmds.push([busybox, 'mkdir', '-p', root], [busybox, 'mount', '-t', 'cgroup2', '-o', CG2_OPTS, 'cgroup2', root])
  }
  return cmds
}

/** Mount points from /proc/mounts text. */
export const mountPoints = (procMounts: string): Set<string> =>
  new Set(procMounts.split('\n').map(l => l.split(' ')[1]).filter((x): x is string => !!x))
