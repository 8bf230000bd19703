// tests/it/system.ts — helpers for the system-workload cases (4x): the locally built system image
// (systemd, docker.io, mariadb, nginx; tests/it/images/build.sh), waiting for systemd and dockerd
// in a VM, and a busybox image made inside a VM from the package's static busybox (no registry).
import { readFileSync } from 'node:fs'
import { type Ctx, describe, fail, sleep } from './harness'

export const SYSTEM = 'runcvm-test/system'
export const SYSTEM_APPARMOR = 'runcvm-test/system-apparmor'
/** The ext4 disk for /var/lib/docker that upstream's README recommends for Docker in a VM. */
export const DOCKER_DISK = 'RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,2G'
/**
 * dockerd as the VM's workload (no systemd), with containerd started first, as its own service
 * would be: dockerd's built-in start of containerd gives up after a fixed wait that a loaded TCG
 * host can exceed ("timeout waiting for containerd").
 */
export const DOCKERD = '(containerd >/dev/null 2>&1 &) && exec dockerd --containerd=/run/containerd/containerd.sock'

/** Host load average (1 min), for timing notes: numbers on this 2-core host depend on it. */
export const load = (): string => { try { return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] } catch { return '?' } }

export interface Settled { state: string; ms: number; failed: string }

/**
 * Polls `systemctl is-system-running` in container `c` until systemd has settled (running or
 * degraded; starting/initializing keep polling). `t0` is when `docker run -d` was issued.
 */
export async function waitSystemd(ctx: Ctx, c: string, t0: number, timeoutMs = 420_000): Promise<Settled> {
  for (;;) {
    const r = await ctx.docker(['exec', c, 'systemctl', 'is-system-running'])
    const state = r.stdout.trim()
    if (state === 'running' || state === 'degraded') {
      const ms = performance.now() - t0
      const failed = (await ctx.docker(['exec', c, 'systemctl', '--failed', '--no-legend', '--plain'])).stdout.trim()
      return { state, ms, failed }
    }
    if (performance.now() - t0 > timeoutMs) fail(`systemd in ${c} did not settle in ${timeoutMs / 1000}s (last: ${describe(r)})`)
    const st = await ctx.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', c])
    if (!st.stdout.startsWith('running')) fail(`${c} stopped while systemd was starting: ${st.stdout.trim()}; logs: ${(await ctx.docker(['logs', c])).stderr.slice(-2000)}`)
    await sleep(1000)
  }
}

/** Fails with the failed units and their journal tails when systemd is not `running`. */
export async function expectRunning(ctx: Ctx, c: string, s: Settled): Promise<void> {
  if (s.state === 'running') return
  const units = s.failed.split('\n').map(l => l.split(/\s+/)[0]).filter(Boolean)
  const logs = await Promise.all(units.map(async u => `--- ${u}\n${(await ctx.docker(['exec', c, 'journalctl', '-u', u, '-n', '15', '--no-pager'])).stdout}`))
  fail(`systemd is ${s.state}; failed units:\n${s.failed}\n${logs.join('\n')}`)
}

/** Waits until `docker info` answers inside the VM (dockerd started, by systemd or by hand). */
export async function waitDockerd(ctx: Ctx, c: string, timeoutMs = 300_000): Promise<void> {
  const t0 = Date.now()
  for (;;) {
    const r = await ctx.docker(['exec', c, 'docker', 'info', '--format', '{{.Driver}}'])
    if (r.code === 0 && r.stdout.trim()) return
    if (Date.now() - t0 > timeoutMs) fail(`dockerd in ${c} did not answer in ${timeoutMs / 1000}s: ${describe(r)}`)
    await sleep(2000)
  }
}

/**
 * Imports a busybox image named `tag` inside the VM's Docker: the package's static busybox (at
 * /.runcvm/guest in every RunCVM VM) plus one link per applet, `docker import`ed there. This is
 * test set-up only; the image under test never needs it.
 */
export async function importBusybox(ctx: Ctx, c: string, tag = 'bb'): Promise<void> {
  const script = [
    'set -e', 'd=$(mktemp -d)', 'chmod 755 $d', 'mkdir -p $d/bin $d/tmp', 'chmod 1777 $d/tmp', 'cp /.runcvm/guest/usr/bin/busybox $d/bin/busybox',
    // `busybox --list` names busybox itself: keep the binary.
    'for a in $($d/bin/busybox --list); do [ -e $d/bin/$a ] || ln -s busybox $d/bin/$a; done',
    `tar -C $d -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' - ${tag} >/dev/null`, 'rm -rf $d',
  ].join('\n')
  const r = await ctx.docker(['exec', c, 'sh', '-c', script])
  if (r.code !== 0) fail(`importing busybox as ${tag} in ${c}: ${describe(r)}`)
}
