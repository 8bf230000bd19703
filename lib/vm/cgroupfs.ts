// cgroup filesystems in the VM (upstream functions/cgroupfs). Pure. The VM's init script (lib/vm/init-script.ts cgroupLines) applies the mode.
//
// Modes (RUNCVM_CGROUPFS): none/systemd → nothing (leave it to the distribution);
// 1/cgroup1 → tmpfs on /sys/fs/cgroup + one cgroup v1 mount per enabled controller;
// hybrid/mixed → that plus cgroup2 on /sys/fs/cgroup/unified; 2/cgroup2 → cgroup2 on /sys/fs/cgroup.
// Default (empty): none when the entrypoint is systemd, else hybrid.

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
