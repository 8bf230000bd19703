// runcvm-ctr-entrypoint: the container's PID 1 as rewritten by runcvm-runtime
// (`runcvm-ctr-entrypoint <original entrypoint and args...>`). Saves what the VM needs into
// /.runcvm, hands the container's network to the VM (bridge + tap per interface), starts dnsmasq
// and virtiofsd, then execve's runcvm-init (container mode) supervising runcvm-ctr-qemu.
// Env: RUNCVM_* (see lib/settings.ts); RUNCVM_BREAK=prenet|postnet drops to a shell.
import { closeSync, existsSync, readFileSync } from 'node:fs'
import { openAppendSafe, writeFileAtomic, writeFileInPlace } from '../lib/fsx.js'
import { isatty } from 'node:tty'
import { readImageText } from '../lib/image-fs.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseSettings } from '../lib/settings.js'
import { writeConfig, writeNetwork, type NetworkState } from '../lib/state.js'
import { readNetwork } from '../lib/net/discover.js'
import { bridgeName, checkNetnsUnclaimed, planBridges, rewriteResolvConf } from '../lib/net/plan.js'
import { netWatchScript } from '../lib/net/hotplug.js'
import { parseIngressRedirects, ruleArgs, vmIpv4s, type PortRedirect } from '../lib/net/ingress.js'
import { rpFilterWarning } from '../lib/net/rp-filter.js'
import { $, applyCmds } from '../lib/sh.js'
import { planSshdGuard } from '../lib/vm/sshd.js'
import { parsePasswd } from '../lib/passwd.js'
import { dropWorkloadEnv, roleInputEnv, workloadConfig } from '../lib/workload-env.js'
import { displayOf } from '../lib/qemu/display.js'
import { buildVirtiofsdArgs } from '../lib/qemu/virtiofsd.js'
import { supervisionArgs } from '../lib/supervision.js'
import { hostTimer } from '../lib/vm/timing.js'
import {
  BIN, CONTROL_SOCKET, CTR_NETPLUG, CTR_QEMU, DNSMASQ_PID, DNSMASQ_RESOLV, NETPLUG_LOG, PKG_VIRTIOFSD_LOG, PKG_VIRTIOFSD_SOCKET, RUNCVM_GUEST, TTY_SOCKET, VIRTIOFSD_LOG, VIRTIOFSD_SOCKET, statePath,
} from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { ConfigError } from '../lib/errors.js'
import { warn } from '../lib/warnings.js'

/** dnsmasq daemonizes within milliseconds; a start that hangs must not hold up the boot. */
const DNSMASQ_START_TIMEOUT_MS = 10_000

const readText = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return undefined } }
/** RUNCVM_BREAK: an interactive shell on the container's terminal; the boot goes on when it exits. */
const breakShell = () => $({ stdio: 'inherit', nothrow: true })`${BIN.busybox} sh`

/**
 * Start virtiofsd detached, in its own session, logging to `log` (no Node in between: exec'ing it
 * directly saves a Node start). It outlives us: we execve runcvm-init next.
 */
function startVirtiofsd(args: string[], log: string): number | undefined {
  const fd = openAppendSafe(log)
  const child = $({ detached: true, stdio: ['ignore', fd, fd], nothrow: true })`${BIN.virtiofsd} ${args}`.child
  child?.unref()
  closeSync(fd)
  return child?.pid // the package shell execs its one command: this is virtiofsd's own pid
}

async function waitForSockets(paths: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!paths.every(p => existsSync(p))) {
    if (Date.now() > deadline) throw new ConfigError(`virtiofsd did not start (no ${paths.join(', ')}; see ${VIRTIOFSD_LOG})`)
    await sleep(5)
  }
}

/**
 * Docker's port redirects to the VM's addresses in this namespace (Swarm's routing mesh; see
 * lib/net/ingress.ts), read before our own rules exist and moved out of it: here they would drop
 * the mesh's bridged packets; the VM's init installs them in the VM. Docker writes them with the
 * host's iptables: nf_tables, or the legacy tables when /proc/net/ip_tables_names lists nat here.
 */
async function moveIngressRedirects(net: NetworkState, warnOpts: { tty: boolean; id?: string }): Promise<PortRedirect[]> {
  const env = { ...process.env, XTABLES_LIBDIR: BIN.xtablesLibdir }
  const legacy = (readText('/proc/net/ip_tables_names') ?? '').split('\n').includes('nat')
  const out: PortRedirect[] = []
  for (const bin of legacy ? [BIN.xtables, BIN.xtablesLegacy] : [BIN.xtables]) {
    const r = await $({ quiet: true, nothrow: true, env })`${bin} iptables -t nat -S PREROUTING`
    if (r.exitCode !== 0) continue
    const found = parseIngressRedirects(r.stdout, vmIpv4s(net))
    for (const f of found) {
      const d = await $({ quiet: true, nothrow: true, env })`${bin} iptables -t nat -D ${ruleArgs(f)}`
      if (d.exitCode !== 0) warn(`RunCVM: Warning: could not move Docker's redirect of ${f.proto} port ${f.dport} into the VM (${d.stderr.trim()}); the Swarm routing mesh may not reach it`, warnOpts)
    }
    out.push(...found)
  }
  return out
}

async function main(): Promise<never> {
  const mark = hostTimer(process.env.RUNCVM_BOOT_TIMING === '1')
  mark('ctr-entrypoint')
  const s = parseSettings(process.env)
  // The image's files: resolved inside the image, regular files only, bounded (lib/image-fs.ts).
  const passwd = parsePasswd(readImageText(s.RUNCVM_VM_MOUNTPOINT, '/etc/passwd'))
  // The workload's env arrives as data (lib/workload-env.ts roleEnv); it goes to the VM only, and
  // no program started from here (runcvm-init, ctr-qemu, QEMU...) gets it.
  const env = roleInputEnv(process.env)
  dropWorkloadEnv(process.env)
  writeConfig(workloadConfig({ args: process.argv.slice(2), env, cwd: process.cwd(), passwd, settings: s }))
  if (s.RUNCVM_BREAK.includes('prenet')) await breakShell()

  const net = await readNetwork(BIN.ip)
  checkNetnsUnclaimed(net)
  const redirects = await moveIngressRedirects(net, { tty: isatty(2), id: s.RUNCVM_CONTAINER_ID })
  if (redirects.length) net.redirects = redirects
  writeNetwork(net)
  // The VNC port is redirected into the VM when QEMU will serve VNC (lib/qemu/display.ts decides).
  const { vncDisplay } = displayOf(s)
  await applyCmds([...planBridges(net, { ip: BIN.ip, xtables: BIN.xtables, vncDisplay, precreateTap: true }), ...planSshdGuard(net, BIN.xtables)],
    { batchIp: BIN.ip, env: { ...process.env, XTABLES_LIBDIR: BIN.xtablesLibdir } })
  mark('ctr-network')
  // `docker network connect/disconnect` while the VM runs: a watcher hot-plugs the NIC.
  {
    const fd = openAppendSafe(NETPLUG_LOG)
    $({ detached: true, stdio: ['ignore', fd, fd], nothrow: true })`${BIN.busybox} sh -c ${netWatchScript(BIN.ip, CTR_NETPLUG)}`.child?.unref()
    closeSync(fd)
  }
  const rp = (c: string) => readText(`/proc/sys/net/ipv4/conf/${c}/rp_filter`)
  const rpWarn = rpFilterWarning(rp('all'), Object.fromEntries(net.interfaces.map(n => [bridgeName(n.name), rp(bridgeName(n.name))])))
  const warnOpts = { tty: isatty(2), id: s.RUNCVM_CONTAINER_ID }
  if (rpWarn) warn(rpWarn, warnOpts)

  // The container keeps Docker's resolver (dnsmasq forwards to it); the VM asks dnsmasq.
  // Docker's file is copied to the container's private /run for dnsmasq (not to the image's
  // /etc/resolv.conf, which would leave a change in the container's layer: `docker diff`).
  // With --read-only Docker binds it read-only: the VM's copy goes to /.runcvm and the VM's init
  // binds it over /etc/resolv.conf.
  const vmResolv = `${s.RUNCVM_VM_MOUNTPOINT}/etc/resolv.conf`
  const resolv = readImageText(s.RUNCVM_VM_MOUNTPOINT, '/etc/resolv.conf')
  if (resolv !== undefined) {
    // Never through a link planted at any of these names (lib/fsx.ts).
    writeFileAtomic(DNSMASQ_RESOLV, resolv, 0o600)
    try {
      writeFileInPlace(vmResolv, rewriteResolvConf(resolv))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EROFS') throw e
      writeFileAtomic(statePath('resolv'), rewriteResolvConf(resolv), 0o644) // bound over the VM's /etc/resolv.conf: readable
    }
  }
  // dnsmasq forks into the background once it listens; its stderr says why when it cannot.
  // --conf-file=/dev/null: never the image's /etc/dnsmasq.conf (dhcp-script, conf-dir... would run
  // or read the image's files as root here); /dev is the runtime's, not the image's.
  const resolvFile = resolv !== undefined ? [`--resolv-file=${DNSMASQ_RESOLV}`] : []
  const dnsArgv = [BIN.dnsmasq, '--conf-file=/dev/null', '-u', 'root', '--no-hosts', `--pid-file=${DNSMASQ_PID}`, ...resolvFile]
  const dns = await $({ nothrow: true, quiet: true, timeout: DNSMASQ_START_TIMEOUT_MS })`${dnsArgv}`
  if (dns.exitCode !== 0) warn(`RunCVM: Warning: dnsmasq did not start; DNS in the VM may not work: ${dns.stderr.trim()}`, warnOpts)

  const vfs = { sysAdmin: s.RUNCVM_SYS_ADMIN }
  const rootPid = startVirtiofsd(buildVirtiofsdArgs({ ...vfs, socket: VIRTIOFSD_SOCKET, source: s.RUNCVM_VM_MOUNTPOINT, cache: s.RUNCVM_VIRTIOFSD_CACHE }), VIRTIOFSD_LOG)
  // The package is read-only and immutable while the container runs: serve it with cache=always
  // (with cache=auto the guest would re-read every binary over virtiofs on each exec).
  const pkgPid = startVirtiofsd(buildVirtiofsdArgs({ ...vfs, socket: PKG_VIRTIOFSD_SOCKET, source: RUNCVM_GUEST, cache: 'always' }), PKG_VIRTIOFSD_LOG)
  await waitForSockets([VIRTIOFSD_SOCKET, PKG_VIRTIOFSD_SOCKET], 10_000)
  mark('ctr-virtiofsd')
  if (s.RUNCVM_BREAK.includes('postnet')) await breakShell()

  // --tty-relay: with `-t`, runcvm-init keeps the pty's SIGWINCH and forwards sizes to the VM.
  // --signal-relay: `docker kill -s HUP|USR1|...` goes to the workload over the control port
  // (forwarded to QEMU's group, SIGHUP or SIGINT would end the VM).
  // runcvm-init is the parent of virtiofsd and dnsmasq (we become it): it ends the container when
  // a virtiofsd dies (the VM has lost its root or its package) and restarts a killed dnsmasq.
  // Differs from upstream: upstream's container kept running with a VM cut off from its root.
  return execve(BIN.runcvmInit, [BIN.runcvmInit, ...supervisionArgs({ rootPid, pkgPid, dns: dns.exitCode === 0 ? dnsArgv : undefined, containerId: s.RUNCVM_CONTAINER_ID }),
    '--tty-relay', TTY_SOCKET, '--signal-relay', CONTROL_SOCKET, '--', CTR_QEMU])
}

runRole(main)
