// runcvm-ctr-entrypoint: the container's PID 1 as rewritten by runcvm-runtime
// (`runcvm-ctr-entrypoint <original entrypoint and args...>`). Saves what the VM needs into
// /.runcvm, hands the container's network to the VM (bridge + tap per interface), starts dnsmasq
// and virtiofsd, then execve's runcvm-init (container mode) supervising runcvm-ctr-qemu.
// Env: RUNCVM_* (see lib/settings.ts); RUNCVM_BREAK=prenet|postnet drops to a shell.
import { copyFileSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseSettings } from '../lib/settings.js'
import { writeConfig, writeNetwork } from '../lib/state.js'
import { readNetwork } from '../lib/net/discover.js'
import { bridgeName, planBridges, rewriteResolvConf } from '../lib/net/plan.js'
import { rpFilterWarning } from '../lib/net/rp-filter.js'
import { $, applyCmds } from '../lib/sh.js'
import { planSshdGuard } from '../lib/vm/sshd.js'
import { parsePasswd } from '../lib/passwd.js'
import { workloadConfig } from '../lib/workload-env.js'
import { displayOf } from '../lib/qemu/display.js'
import { buildVirtiofsdArgs } from '../lib/qemu/virtiofsd.js'
import { hostTimer } from '../lib/vm/timing.js'
import {
  BIN, CTR_QEMU, DNSMASQ_PID, PKG_VIRTIOFSD_LOG, PKG_VIRTIOFSD_SOCKET, RUNCVM_GUEST, TTY_SOCKET, VIRTIOFSD_LOG, VIRTIOFSD_SOCKET,
} from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { ConfigError } from '../lib/errors.js'

/** dnsmasq daemonizes within milliseconds; a start that hangs must not hold up the boot. */
const DNSMASQ_START_TIMEOUT_MS = 10_000

const readText = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return undefined } }
/** RUNCVM_BREAK: an interactive shell on the container's terminal; the boot goes on when it exits. */
const breakShell = () => $({ stdio: 'inherit', nothrow: true })`${BIN.busybox} sh`

/**
 * Start virtiofsd detached, in its own session, logging to `log` (no Node in between: exec'ing it
 * directly saves a Node start). It outlives us: we execve runcvm-init next.
 */
function startVirtiofsd(args: string[], log: string): void {
  const fd = openSync(log, 'a')
  $({ detached: true, stdio: ['ignore', fd, fd], nothrow: true })`${BIN.virtiofsd} ${args}`.child?.unref()
}

async function waitForSockets(paths: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!paths.every(p => existsSync(p))) {
    if (Date.now() > deadline) throw new ConfigError(`virtiofsd did not start (no ${paths.join(', ')}; see ${VIRTIOFSD_LOG})`)
    await sleep(5)
  }
}

async function main(): Promise<never> {
  const mark = hostTimer(process.env.RUNCVM_BOOT_TIMING === '1')
  mark('ctr-entrypoint')
  const s = parseSettings(process.env)
  const passwd = parsePasswd(readText(`${s.RUNCVM_VM_MOUNTPOINT}/etc/passwd`))
  writeConfig(workloadConfig({ args: process.argv.slice(2), env: process.env, cwd: process.cwd(), passwd, settings: s }))
  if (s.RUNCVM_BREAK.includes('prenet')) await breakShell()

  const net = await readNetwork(BIN.ip)
  writeNetwork(net)
  // The VNC port is redirected into the VM when QEMU will serve VNC (lib/qemu/display.ts decides).
  const { vncDisplay } = displayOf(s)
  await applyCmds([...planBridges(net, { ip: BIN.ip, xtables: BIN.xtables, vncDisplay, precreateTap: true }), ...planSshdGuard(BIN.xtables)],
    { batchIp: BIN.ip, env: { ...process.env, XTABLES_LIBDIR: BIN.xtablesLibdir } })
  mark('ctr-network')
  const rp = (c: string) => readText(`/proc/sys/net/ipv4/conf/${c}/rp_filter`)
  const rpWarn = rpFilterWarning(rp('all'), Object.fromEntries(net.interfaces.map(n => [bridgeName(n.name), rp(bridgeName(n.name))])))
  if (rpWarn) process.stderr.write(`${rpWarn}\n`)

  // The container keeps Docker's resolver (dnsmasq forwards to it); the VM asks dnsmasq.
  const vmResolv = `${s.RUNCVM_VM_MOUNTPOINT}/etc/resolv.conf`
  const resolv = readText(vmResolv)
  if (resolv !== undefined) {
    try { copyFileSync(vmResolv, '/etc/resolv.conf') } catch { /* image without /etc */ }
    writeFileSync(vmResolv, rewriteResolvConf(resolv))
  }
  // dnsmasq forks into the background once it listens; its stderr says why when it cannot.
  const dns = await $({ nothrow: true, quiet: true, timeout: DNSMASQ_START_TIMEOUT_MS })`${BIN.dnsmasq} -u root --no-hosts --pid-file=${DNSMASQ_PID}`
  if (dns.exitCode !== 0) process.stderr.write(`RunCVM: Warning: dnsmasq did not start; DNS in the VM may not work: ${dns.stderr.trim()}\n`)

  const vfs = { sysAdmin: s.RUNCVM_SYS_ADMIN }
  startVirtiofsd(buildVirtiofsdArgs({ ...vfs, socket: VIRTIOFSD_SOCKET, source: s.RUNCVM_VM_MOUNTPOINT, cache: s.RUNCVM_VIRTIOFSD_CACHE }), VIRTIOFSD_LOG)
  // The package is read-only and immutable while the container runs: serve it with cache=always
  // (with cache=auto the guest would re-read every binary over virtiofs on each exec).
  startVirtiofsd(buildVirtiofsdArgs({ ...vfs, socket: PKG_VIRTIOFSD_SOCKET, source: RUNCVM_GUEST, cache: 'always' }), PKG_VIRTIOFSD_LOG)
  await waitForSockets([VIRTIOFSD_SOCKET, PKG_VIRTIOFSD_SOCKET], 10_000)
  mark('ctr-virtiofsd')
  if (s.RUNCVM_BREAK.includes('postnet')) await breakShell()

  // --tty-relay: with `-t`, runcvm-init keeps the pty's SIGWINCH and forwards sizes to the VM.
  return execve(BIN.runcvmInit, [BIN.runcvmInit, '--tty-relay', TTY_SOCKET, '--', CTR_QEMU])
}

runRole(main)
