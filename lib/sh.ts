// The one place that runs planned commands (Cmd[] from the plan* functions).
//
// Differs from STYLE §3 ("sh.ts imports zx/core"): applyCmds uses node:child_process directly.
// Every role on the boot path is startup-sensitive (DESIGN §4: a Node start in the VM costs
// 0.3-1.1 s under TCG, and zx/core adds 15-35 ms per start even on the host) and the plans are
// plain argv lists with no pipes or globbing, which is all spawnSync needs.
import { spawnSync } from 'node:child_process'
import { ExecError } from './errors.js'
import { batchWord, shWord, type Cmd } from './cmd.js'

export interface ApplyOpts {
  env?: NodeJS.ProcessEnv
  /** Keep going after a failing command (upstream `|| true`); failures are returned. */
  keepGoing?: boolean
  /**
   * Run consecutive commands of this `ip` binary as ONE `ip -batch -` process. In the VM each
   * exec costs 10-200 ms under TCG (DESIGN §4), and vm-init runs a dozen ip commands.
   */
  batchIp?: string
  /**
   * Run ALL the commands as ONE `<batchSh> sh -c` script (busybox): see buildShScript. With
   * keepGoing, the returned failures are all commands if the script's status was non-zero.
   */
  batchSh?: string
  /** With batchSh: commands the script starts in the background at its end. */
  background?: readonly Cmd[]
  /** Where command output goes: 'inherit' (default) or 'ignore'. */
  stdio?: 'inherit' | 'ignore'
}

function runOne(cmd: Cmd, o: ApplyOpts, input?: string): number | null {
  const r = spawnSync(cmd[0], cmd.slice(1), {
    env: o.env ?? process.env,
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', o.stdio ?? 'inherit', o.stdio === 'ignore' ? 'ignore' : 'inherit'],
  })
  if (r.error) return null
  return r.status
}

export interface ScriptOpts {
  /** Group consecutive commands of this ip binary into one `ip -batch` fed by a here-document. */
  batchIp?: string
  keepGoing?: boolean
  /** Commands started in the background at the end (not waited for). */
  background?: readonly Cmd[]
  /**
   * The busybox running the script: its own commands are written as bare applet names, which
   * busybox sh (FEATURE_SH_STANDALONE, on in Debian's busybox-static) runs without an exec.
   * Measured in the VM under TCG: exec of busybox from a virtiofs cache=always mount ~41 ms,
   * cache=auto ~390 ms; an in-shell applet costs a fork or nothing.
   */
  applets?: string
}

/**
 * One POSIX shell script running `cmds` in order: a single process spawn from Node instead of one
 * per command (in the VM under TCG a Node spawn costs 40-400 ms, an exec from sh ~30 ms).
 * Without keepGoing the script stops at the first failure with its status.
 */
export function buildShScript(cmds: readonly Cmd[], o: ScriptOpts = {}): string {
  const lines: string[] = []
  const onFail = o.keepGoing ? '' : ' || exit $?'
  const word = (c: Cmd) => (o.applets !== undefined && c[0] === o.applets ? c.slice(1) : c).map(shWord).join(' ')
  for (let i = 0; i < cmds.length;) {
    if (o.batchIp !== undefined && cmds[i][0] === o.batchIp) {
      let j = i
      while (j < cmds.length && cmds[j][0] === o.batchIp) j++
      const body = cmds.slice(i, j).map(c => c.slice(1).map(batchWord).join(' ')).join('\n')
      lines.push(`${shWord(o.batchIp)} ${o.keepGoing ? '-force ' : ''}-batch - <<'RUNCVM_EOF'${onFail}\n${body}\nRUNCVM_EOF`)
      i = j
      continue
    }
    lines.push(word(cmds[i]) + onFail)
    i++
  }
  for (const c of o.background ?? []) lines.push(`${word(c)} &`)
  return lines.join('\n') + '\n'
}

/** Run commands in order. Throws ExecError on the first failure unless keepGoing. */
export function applyCmds(cmds: readonly Cmd[], o: ApplyOpts = {}): Cmd[] {
  const failed: Cmd[] = []
  let i = 0
  while (i < cmds.length) {
    const cmd = cmds[i]
    if (o.batchIp !== undefined && cmd[0] === o.batchIp) {
      let j = i
      while (j < cmds.length && cmds[j][0] === o.batchIp) j++
      const group = cmds.slice(i, j)
      const batchArgs = o.keepGoing ? ['-force', '-batch', '-'] : ['-batch', '-']
      const script = group.map(c => c.slice(1).map(batchWord).join(' ')).join('\n') + '\n'
      const status = runOne([o.batchIp, ...batchArgs], o, script)
      if (status !== 0) {
        if (!o.keepGoing) throw new ExecError([o.batchIp, ...batchArgs], status, `ip batch failed (status ${status}):\n${script}`)
        failed.push(...group)
      }
      i = j
      continue
    }
    if (o.batchSh !== undefined) {
      // Everything in one shell (see buildShScript).
      const script = buildShScript(cmds, { batchIp: o.batchIp, keepGoing: o.keepGoing, applets: o.batchSh, background: o.background })
      const status = runOne([o.batchSh, 'sh', '-c', script], o)
      if (status !== 0 && !o.keepGoing) throw new ExecError([o.batchSh, 'sh', '-c', script], status)
      return status === 0 ? [] : [...cmds]
    }
    const status = runOne(cmd, o)
    if (status !== 0) {
      if (!o.keepGoing) throw new ExecError(cmd, status)
      failed.push(cmd)
    }
    i++
  }
  return failed
}
