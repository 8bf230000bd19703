// The installer's probes and program runs on the host, through zx/core (`$` quotes every argv
// element, `nothrow` turns a failing program into an exit code, `timeout` bounds a wedged
// dockerd). The decisions they feed are pure: lib/install/dockerd.ts and friends.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { $, which } from '../sh.js'
import type { DockerdFacts } from './dockerd.js'

/** Programs the installer asks never hang it: a dockerd that does not answer is an error, not a wait. */
const TIMEOUT = '30s'
const run = $({ quiet: true, nothrow: true, timeout: TIMEOUT })

export interface RunResult { ok: boolean; out: string; err: string }

/** Run one program (argv array, no shell string). */
export async function runProgram(argv: readonly string[]): Promise<RunResult> {
  const [cmd, ...args] = argv
  const p = await run`${cmd} ${args}`
  return { ok: p.exitCode === 0, out: p.stdout, err: p.stderr.trim() || (p.exitCode === null ? `killed (${p.signal})` : '') }
}

export const onPath = async (bin: string): Promise<boolean> => (await which(bin, { nothrow: true })) !== null

/** `docker info` answers (the client is installed and dockerd is up). */
export const dockerAnswers = async (): Promise<boolean> => (await runProgram(['docker', 'info'])).ok

/** The path dockerd lists for the runtime `name` in `docker info`, or undefined. */
export async function listedRuntimePath(name = 'runcvm'): Promise<string | undefined> {
  const r = await runProgram(['docker', 'info', '--format', '{{json .Runtimes}}'])
  if (!r.ok) return undefined
  try {
    return (JSON.parse(r.out) as Record<string, { path?: string }> | null)?.[name]?.path
  } catch {
    return undefined
  }
}

/**
 * Whether any running container uses the runcvm runtime. Running containers bind-mount the
 * package tree by inode, so a retired tree must outlive them. When docker cannot tell: true.
 */
export async function runcvmContainersRunning(): Promise<boolean> {
  if (!(await onPath('docker'))) return true
  const ps = await runProgram(['docker', 'ps', '-q'])
  if (!ps.ok) return true
  const ids = ps.out.split('\n').filter(Boolean)
  if (!ids.length) return false
  const rt = await runProgram(['docker', 'inspect', '--format', '{{.HostConfig.Runtime}}', ...ids])
  return !rt.ok || rt.out.split('\n').includes('runcvm')
}

/** PID 1's name, a running dockerd's pid and whether systemd runs docker.service. */
export async function probeDockerd(): Promise<DockerdFacts> {
  const comm = (pid: string) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() } catch { return '' } }
  let dockerdPid: number | undefined
  try {
    const p = readFileSync('/var/run/docker.pid', 'utf8').trim()
    if (/^\d+$/.test(p) && comm(p) === 'dockerd') dockerdPid = Number(p)
  } catch { /* no pid file */ }
  if (dockerdPid === undefined) {
    const p = readdirSync('/proc').find(d => /^\d+$/.test(d) && comm(d) === 'dockerd')
    if (p) dockerdPid = Number(p)
  }
  const pid1 = comm('1')
  const systemdActive = pid1 === 'systemd' && (await runProgram(['systemctl', 'is-active', '--quiet', 'docker'])).ok
  return { pid1, systemdActive, dockerdPid }
}

/** Whether process `pid` exists (an installer whose staging directory may still be in use). */
export const processAlive = (pid: number): boolean => existsSync(`/proc/${pid}`)
