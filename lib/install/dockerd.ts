// How to make a running dockerd pick up a changed daemon.json. Pure decision; the installer
// gathers the facts and runs the result.
//
// dockerd re-reads daemon.json on SIGHUP and `runtimes` is one of the reloadable options
// (https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior), so a reload,
// not a restart, is enough: running containers are not disturbed.
// Differs from runcvm-install-runtime.sh: upstream always restarted dockerd (after a prompt).

export interface DockerdFacts {
  /** /proc/1/comm, e.g. 'systemd', 'init', 'docker-init'. */
  pid1: string
  /** `systemctl is-active docker` said active. */
  systemdActive: boolean
  /** pid of a running dockerd, if any. */
  dockerdPid?: number
}

export type ReloadPlan =
  | { how: 'systemd'; cmd: string[]; fallback: string[]; says: string }
  | { how: 'sighup'; pid: number; says: string }
  | { how: 'none'; says: string }

export function planReload(f: DockerdFacts): ReloadPlan {
  if (f.pid1 === 'systemd' && f.systemdActive) {
    return {
      how: 'systemd',
      cmd: ['systemctl', 'reload', 'docker'],
      // Units without ExecReload refuse `reload`; restart is the only way left there.
      fallback: ['systemctl', 'restart', 'docker'],
      says: 'Detected systemd-managed dockerd: systemctl reload docker',
    }
  }
  if (f.dockerdPid !== undefined) {
    // Covers sysvinit too: Debian's /etc/init.d/docker has no reload verb, and SIGHUP is what one would do.
    return { how: 'sighup', pid: f.dockerdPid, says: `Detected dockerd (pid ${f.dockerdPid}): sending SIGHUP to reload daemon.json` }
  }
  return { how: 'none', says: 'No running dockerd found; it will load the runcvm runtime when it starts' }
}
