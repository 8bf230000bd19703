// Table for planReload: which reload mechanism for which host.
import type { DockerdFacts } from '../../lib/install/dockerd.js'

export const dockerdPlanCases: { name: string; facts: DockerdFacts; how: string }[] = [
  { name: 'systemd with an active docker.service', facts: { pid1: 'systemd', systemdActive: true, dockerdPid: 10 }, how: 'systemd' },
  { name: 'systemd, but dockerd started by hand', facts: { pid1: 'systemd', systemdActive: false, dockerdPid: 10 }, how: 'sighup' },
  { name: 'sysvinit / plain dockerd (container, CI)', facts: { pid1: 'init', systemdActive: false, dockerdPid: 77 }, how: 'sighup' },
  { name: 'no dockerd running', facts: { pid1: 'docker-init', systemdActive: false }, how: 'none' },
]
