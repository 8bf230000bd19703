// runcvm-ctr-exec: the container side of `docker exec` (port of upstream runcvm-ctr-exec).
//
// runcvm-runtime rewrote process.json so runc starts us, as root in the container's /, with
//   argv: <uid:gid:groups> <cwd> <hasHome 0|1> <terminal true|false> <command> [args...]
//   env:  the exec's env (container env + docker exec -e/--env-file)
// We wait until the VM's dropbear is listening (bounded), then execve dbclient, which runs the
// command in the VM (lib/exec/codec.ts explains the encoding) and returns its exit status, with
// stdout/stderr kept apart (ssh channels) or a pty with -t.
//
// Env: RUNCVM_EXEC_VIA=node (on the docker exec) runs the VM side through runcvm-vm-exec (Node)
// instead of runcvm-init --request; for debugging only (Node costs ~0.3-1 s per start under TCG).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { StateError, messageOf } from '../lib/errors.js'
import { execve, runRole } from '../lib/proc.js'
import { readNetwork, writeExecRequest, type NetworkState } from '../lib/state.js'
import { parsePasswd } from '../lib/passwd.js'
import { parseCtrExecArgs, planCtrExec } from '../lib/exec/plan.js'
import { GUEST_TOOLS_PATH, SSHD_KEY, SSHD_READY } from '../lib/paths.js'

/** Upstream waited 15 s, then slept 2 s. We poll the readiness marker for up to 60 s: TCG boots on
 * a loaded host took 25-31 s here (a 30 s bound failed an exec issued right after `docker run -d`). */
const READY_TIMEOUT_MS = 60_000
const POLL_MS = 20
/** Upstream's text for an exec that gave up waiting (no "RunCVM:" prefix). */
const NOT_STARTED = 'RunCVM container not yet started'

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

async function main(): Promise<never> {
  const args = parseCtrExecArgs(process.argv.slice(2))
  const net = await waitReady()
  const passwd = parsePasswd(existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : undefined)
  const plan = planCtrExec({ args, env: process.env, passwd, net, nonce: `${process.pid}-${Date.now()}` })
  if (plan.file) writeExecRequest(plan.file.path, plan.file.content)
  return execve(plan.argv[0], plan.argv, { HOME: '/', PATH: GUEST_TOOLS_PATH })
}

runRole(main, {
  report: e => (e instanceof StateError && e.message === NOT_STARTED ? `Error: ${NOT_STARTED}\n` : `runcvm-ctr-exec: ${messageOf(e)}\n`),
})
