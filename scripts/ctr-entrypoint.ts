// runcvm-ctr-entrypoint: the container's PID 1 as rewritten by runcvm-runtime
// (`runcvm-ctr-entrypoint <original entrypoint and args...>`). Saves what the VM needs into
// /.runcvm, hands the container's network to the VM (bridge + tap per interface), starts dnsmasq
// and virtiofsd, then execve's runcvm-init (container mode) supervising runcvm-ctr-qemu.
// Env: RUNCVM_* (see lib/settings.ts); RUNCVM_BREAK=prenet|postnet drops to a shell.
import { copyFileSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { isatty } from 'node:tty'
import { spawn, spawnSync } from 'node:child_process'
import { parseSettings, type RunCvmSettings } from '../lib/settings.js'
import { writeConfig, writeNetwork } from '../lib/state.js'
import { readNetwork } from '../lib/net/discover.js'
import { bridgeName, checkNetnsUnclaimed, planBridges, rewriteResolvConf } from '../lib/net/plan.js'
import { rpFilterWarning } from '../lib/net/rp-filter.js'
import { applyCmds } from '../lib/sh.js'
import { planSshdGuard } from '../lib/vm/sshd.js'
import { cleanEnv, parseUidGid } from '../lib/vm/launch.js'
import { resolveHome } from '../lib/vm/passwd.js'
import { buildVirtiofsdArgs } from '../lib/qemu/virtiofsd.js'
import { BIN, PKG_VIRTIOFSD_LOG, PKG_VIRTIOFSD_SOCKET, TTY_SOCKET } from '../lib/vm/bins.js'
import { hostTimer } from '../lib/vm/timing.js'
import { RUNCVM_GUEST, VIRTIOFSD_LOG, VIRTIOFSD_SOCKET, guestScript } from '../lib/paths.js'
import { execve, reportAndExit } from '../lib/proc.js'
import { ConfigError } from '../lib/errors.js'
import { warn } from '../lib/warnings.js'

const readText = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return undefined } }
const shell = () => spawnSync(BIN.busybox, ['sh'], { stdio: 'inherit' })

/** Start virtiofsd detached (no Node in between: exec'ing it directly saves a Node start). */
function startVirtiofsd(args: string[], log: string): void {
  const fd = openSync(log, 'a')
  spawn(BIN.virtiofsd, args, { detached: true, stdio: ['ignore', fd, fd] }).unref()
}

function waitForSockets(paths: string[], ms: number): void {
  const deadline = Date.now() + ms
  const sab = new Int32Array(new SharedArrayBuffer(4))
  while (!paths.every(p => existsSync(p))) {
    if (Date.now() > deadline) throw new ConfigError(`virtiofsd did not start (no ${paths.join(', ')}; see ${VIRTIOFSD_LOG})`)
    Atomics.wait(sab, 0, 0, 5)
  }
}

function main(): never {
  const mark = hostTimer(process.env.RUNCVM_BOOT_TIMING === '1')
  mark('ctr-entrypoint')
  const s: RunCvmSettings = parseSettings(process.env)
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`)
  const ids = parseUidGid(s.RUNCVM_UIDGID)
  let workEnv = cleanEnv(env)
  const home = resolveHome(s.RUNCVM_HAS_HOME, process.env.HOME, readText(`${s.RUNCVM_VM_MOUNTPOINT}/etc/passwd`), ids.uid)
  if (!s.RUNCVM_HAS_HOME && home !== undefined) workEnv = [...workEnv.filter(kv => !kv.startsWith('HOME=')), `HOME=${home}`]
  writeConfig({
    v: 1, args: process.argv.slice(2), env: workEnv, cwd: process.cwd(), ...ids,
    settingsEnv: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('RUNCVM_')).map(([k, v]) => [k, v ?? ''])),
  })
  if (s.RUNCVM_BREAK.includes('prenet')) shell()

  const net = readNetwork(BIN.ip)
  checkNetnsUnclaimed(net)
  writeNetwork(net)
  const vncDisplay = s.RUNCVM_DISPLAY_MODE === 'vnc' ? (s.RUNCVM_QEMU_VNC_DISPLAY ?? 0) : s.RUNCVM_QEMU_VNC_DISPLAY
  applyCmds([...planBridges(net, { ip: BIN.ip, xtables: BIN.xtables, vncDisplay, precreateTap: true }), ...planSshdGuard(BIN.xtables)],
    { batchIp: BIN.ip, env: { ...process.env, XTABLES_LIBDIR: BIN.xtablesLibdir } })
  mark('ctr-network')
  const rp = (c: string) => readText(`/proc/sys/net/ipv4/conf/${c}/rp_filter`)
  const rpWarn = rpFilterWarning(rp('all'), Object.fromEntries(net.interfaces.map(n => [bridgeName(n.name), rp(bridgeName(n.name))])))
  const warnOpts = { tty: isatty(2), id: s.RUNCVM_CONTAINER_ID }
  if (rpWarn) warn(rpWarn, warnOpts)

  // The container keeps Docker's resolver (dnsmasq forwards to it); the VM asks dnsmasq.
  const vmResolv = `${s.RUNCVM_VM_MOUNTPOINT}/etc/resolv.conf`
  const resolv = readText(vmResolv)
  if (resolv !== undefined) {
    try { copyFileSync(vmResolv, '/etc/resolv.conf') } catch { /* image without /etc */ }
    writeFileSync(vmResolv, rewriteResolvConf(resolv))
  }
  const dns = spawnSync(BIN.dnsmasq, ['-u', 'root', '--no-hosts', '--pid-file=/run/.dnsmasq.pid'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (dns.status !== 0) warn(`RunCVM: Warning: dnsmasq did not start; DNS in the VM may not work: ${(dns.stderr ?? '').trim()}`, warnOpts)

  const vfs = { sysAdmin: s.RUNCVM_SYS_ADMIN }
  startVirtiofsd(buildVirtiofsdArgs({ ...vfs, socket: VIRTIOFSD_SOCKET, source: s.RUNCVM_VM_MOUNTPOINT, cache: s.RUNCVM_VIRTIOFSD_CACHE }), VIRTIOFSD_LOG)
  // The package is read-only and immutable while the container runs: serve it with cache=always
  // (DESIGN §4: cache=auto re-reads every binary on each exec).
  startVirtiofsd(buildVirtiofsdArgs({ ...vfs, socket: PKG_VIRTIOFSD_SOCKET, source: RUNCVM_GUEST, cache: 'always' }), PKG_VIRTIOFSD_LOG)
  waitForSockets([VIRTIOFSD_SOCKET, PKG_VIRTIOFSD_SOCKET], 10_000)
  mark('ctr-virtiofsd')
  if (s.RUNCVM_BREAK.includes('postnet')) shell()

  // --tty-relay: with `-t`, runcvm-init keeps the pty's SIGWINCH and forwards sizes to the VM.
  return execve(BIN.runcvmInit, [BIN.runcvmInit, '--tty-relay', TTY_SOCKET, '--', guestScript('ctr-qemu')])
}

try {
  main()
} catch (e) {
  reportAndExit(e)
}
