// runcvm-ctr-exec: the container side of `docker exec` (port of upstream runcvm-ctr-exec).
//
// runcvm-runtime rewrote process.json so runc starts us, as root in the container's /, with
//   argv: <uid:gid:groups> <cwd> <hasHome 0|1> <terminal true|false> <command> [args...]
//   env:  RunCVM's own (lib/workload-env.ts roleEnv); the exec's env (container env + docker exec
//         -e/--env-file) as data in RUNCVM_WORKLOAD_ENV_*
// We wait until the VM's dropbear is listening (bounded; through a restart of it, too), then execve dbclient, which runs the
// command in the VM (lib/exec/codec.ts explains the encoding) and returns its exit status, with
// stdout/stderr kept apart (ssh channels) or a pty with -t.
//
// Env: RUNCVM_EXEC_VIA=node (on the docker exec) runs the VM side through runcvm-vm-exec (Node)
// instead of runcvm-init --request; for debugging only (Node costs ~0.3-1 s per start under TCG).
import { randomBytes } from 'node:crypto'
import { rmSync, statSync } from 'node:fs'
import { readImageText } from '../lib/image-fs.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from 'node:net'
import { RunCvmError, StateError, messageOf } from '../lib/errors.js'
import { execve, runRole } from '../lib/proc.js'
import { readNetwork, writeExecRequest, type NetworkState } from '../lib/state.js'
import { parsePasswd } from '../lib/passwd.js'
import { parseCtrExecArgs, planCtrExec, vmAddress } from '../lib/exec/plan.js'
import { roleInputEnv } from '../lib/workload-env.js'
import { DBCLIENT_HOME, GUEST_TOOLS_PATH, SSHD_HOST_KEY, SSHD_KEY, SSHD_PORT, SSHD_READY } from '../lib/paths.js'
import { ensurePrivateDir, readFileChecked, writeFileAtomic } from '../lib/fsx.js'
import { knownHostsLine } from '../lib/exec/hostkey.js'

/** Upstream waited 15 s, then slept 2 s. We poll the readiness marker for up to 60 s: TCG boots on
 * a loaded host took 25-31 s here (a 30 s bound failed an exec issued right after `docker run -d`). */
const READY_TIMEOUT_MS = 60_000
const POLL_MS = 20
/** Upstream's text for an exec that gave up waiting (no "RunCVM:" prefix). */
const NOT_STARTED = 'RunCVM container not yet started'

/** The VM restarts a dropbear that died within a second (lib/vm/sshd.ts); past this bound the exec
 * server is gone for good (or the VM hangs) and the exec fails with a RunCVM: Error line. */
const SERVER_TIMEOUT_MS = 5_000
const CONNECT_TIMEOUT_MS = 2_000
/** docker exec's status when the command could not be started (as runc's exec failures). */
const EXEC_FAILED = 126

/** The exec server cannot be reached: reported as `RunCVM: Error: ...` (not dbclient's raw text). */
class ExecServerError extends RunCvmError {}

const nonEmpty = (f: string): boolean => { try { return statSync(f).size > 0 } catch { return false } }

function ready(): NetworkState | undefined {
  if (!nonEmpty(SSHD_READY) || !nonEmpty(SSHD_KEY)) return undefined
  try { return readNetwork() } catch { return undefined }
}

async function waitReady(): Promise<NetworkState> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const net = ready()
    if (net) return net
    if (Date.now() >= deadline) throw new StateError(SSHD_READY, NOT_STARTED)
    await sleep(POLL_MS)
  }
}

/** One TCP connect to the VM's dropbear: undefined when it answers, else why not. */
function probePort(host: string, port: number): Promise<string | undefined> {
  return new Promise(resolve => {
    const sock = connect({ host, port })
    const done = (why?: string) => { clearTimeout(timer); sock.destroy(); resolve(why) }
    const timer = setTimeout(() => done(`no answer in ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS)
    sock.once('connect', () => done())
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message))
  })
}

/**
 * dbclient reports an unreachable server with its own raw text; check the port first (one
 * connect over the container's bridge, well under a millisecond when dropbear listens), waiting
 * through a restart of dropbear, and fail with our own line if it does not come back.
 */
async function waitServer(net: NetworkState): Promise<void> {
  const ip = vmAddress(net)
  if (!ip) return // planCtrExec reports it
  const deadline = Date.now() + SERVER_TIMEOUT_MS
  for (;;) {
    const why = await probePort(ip, SSHD_PORT)
    if (why === undefined) return
    if (Date.now() >= deadline) {
      throw new ExecServerError(`the VM's exec server (dropbear on ${ip}:${SSHD_PORT}) did not answer for ${SERVER_TIMEOUT_MS / 1000} s (${why}); cannot run the command in the VM`, { exitCode: EXEC_FAILED })
    }
    await sleep(50)
    await waitReady() // a restarted dropbear writes its marker again once it listens
  }
}

/**
 * Pin the VM's host key for dbclient (lib/exec/hostkey.ts): DBCLIENT_HOME/.ssh/known_hosts gets
 * the one line for the VM's address, written atomically (concurrent execs write the same content).
 */
function pinHostKey(net: NetworkState): void {
  const ip = vmAddress(net)
  if (!ip) return // planCtrExec reports it
  let line: string
  try {
    line = knownHostsLine(ip, readFileChecked(SSHD_HOST_KEY, 4096))
  } catch (e) {
    throw new ExecServerError(`cannot read the VM's exec server host key (${messageOf(e)}); cannot run the command in the VM`, { exitCode: EXEC_FAILED })
  }
  ensurePrivateDir(DBCLIENT_HOME)
  ensurePrivateDir(`${DBCLIENT_HOME}/.ssh`)
  writeFileAtomic(`${DBCLIENT_HOME}/.ssh/known_hosts`, line, 0o600)
}

async function main(): Promise<never> {
  const args = parseCtrExecArgs(process.argv.slice(2))
  const net = await waitReady()
  await waitServer(net)
  // The image's passwd (the container root is the image): inside the image, regular file, bounded.
  const passwd = parsePasswd(readImageText('', '/etc/passwd'))
  // The workload's env arrives as data (lib/workload-env.ts roleEnv); RUNCVM_* stay ours.
  const env = roleInputEnv(process.env)
  const plan = planCtrExec({ args, env, passwd, net, nonce: randomBytes(12).toString('hex') })
  pinHostKey(net)
  writeExecRequest(plan.file.path, plan.file.content)
  try {
    // A busybox sh in front of dbclient removes the request file when dbclient ends (lib/exec/plan.ts).
    return execve(plan.execArgv[0], plan.execArgv, { HOME: DBCLIENT_HOME, PATH: GUEST_TOOLS_PATH })
  } catch (e) {
    rmSync(plan.file.path, { force: true })
    throw e
  }
}

runRole(main, {
  report: e => (e instanceof StateError && e.message === NOT_STARTED ? `Error: ${NOT_STARTED}\n`
    : e instanceof ExecServerError ? `RunCVM: Error: ${e.message}\n` : `runcvm-ctr-exec: ${messageOf(e)}\n`),
})
