// 18-tty-resize-attach: a `-t` workload follows the client's window after start (Docker's resize
// API, which is what the CLI calls on SIGWINCH): it gets SIGWINCH and the new size, in the default
// console (hvc0) and in RUNCVM_DISPLAY_MODE=serial (ttyS0). `docker attach` to a running `-it`
// VM and `docker start -ai` of a created one carry input and output and return the exit code.
// A `docker exec -t` session follows its resizes as well. (Serial mode's monitor escape, which
// only a VM has: 19-serial-monitor.)
import { request } from 'node:http'
import { $ } from 'zx/core'
import { type Case, describe, fail, ok, startDetached } from '../harness'

/** POST to the local Docker API (what the CLI does on SIGWINCH; no client terminal needed). */
function post(path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: '/var/run/docker.sock', method: 'POST', path, headers: { 'Content-Type': 'application/json' } }, res => {
      let text = ''
      res.on('data', d => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}
const resize = async (id: string, rows: number, cols: number) => (await post(`/containers/${id}/resize?h=${rows}&w=${cols}`)).status

// Prints the size at start and on every SIGWINCH (busybox sh runs the trap between sleeps).
const WINCH = ['sh', '-c', 'trap "echo winch \\$(stty size)" WINCH; echo ready; while :; do sleep 0.1; done']

export default {
  description: '-t: window resizes after start reach the workload (hvc0, serial, exec -t); docker attach and docker start -ai work',
  needs: ['script'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, uniq, labels, runtime, waitForLog, note } = ctx
    const bad: string[] = []
    const modes: [string, string[]][] = [['hvc0', []], ['serial', ['-e', 'RUNCVM_DISPLAY_MODE=serial']]]
    const names = modes.map(([m]) => uniq(m))
    for (const [i, [, env]] of modes.entries()) {
      await startDetached(ctx, runtime, names[i], ['-i', '-t', ...env, 'runcvm-test/bb', ...WINCH])
    }
    for (const [i, [mode]] of modes.entries()) {
      const c = names[i]
      await waitForLog(c, /ready/, 120_000)
      for (const [rows, cols] of [[40, 100], [50, 132], [24, 80]]) {
        const t0 = Date.now()
        const status = await resize(c, rows, cols)
        ok(status === 200, `resize API answered ${status}`)
        try {
          await waitForLog(c, new RegExp(`winch ${rows} ${cols}\\b`), 10_000)
          note(`${mode}: resize to ${rows}x${cols} seen after ${Date.now() - t0} ms`)
        } catch (e) {
          bad.push(`${mode}: resize to ${rows}x${cols} not seen: ${(e as Error).message}`)
          break
        }
      }
    }

    // docker exec -t: the exec's pty follows its resize API too (dbclient forwards SIGWINCH).
    {
      const c = names[0]
      const ex = await post(`/containers/${c}/exec`, { Cmd: ['sh', '-c', 'trap "stty size >/tmp/winch" WINCH; echo up >/tmp/exec-up; while :; do sleep 0.1; done'], Tty: true, AttachStdout: true })
      const id = (JSON.parse(ex.text) as { Id?: string }).Id
      ok(ex.status === 201 && id, `exec create: ${ex.status} ${ex.text}`)
      const st = await post(`/exec/${id}/start`, { Detach: true, Tty: true })
      ok(st.status === 200, `exec start: ${st.status} ${st.text}`)
      const cat = async (f: string) => (await docker(['exec', c, 'sh', '-c', `cat ${f} 2>/dev/null`])).stdout
      for (let i = 0; i < 50 && (await cat('/tmp/exec-up')) !== 'up\n'; i++) await new Promise(r => setTimeout(r, 200))
      // The exec is running (with its start size): now a real change of size.
      const t0 = Date.now()
      const rs = await post(`/exec/${id}/resize?h=33&w=77`)
      ok(rs.status === 200 || rs.status === 201, `exec resize: ${rs.status} ${rs.text}`)
      let seen = ''
      while (Date.now() - t0 < 10_000 && (seen = await cat('/tmp/winch')) !== '33 77\n') await new Promise(r => setTimeout(r, 200))
      if (seen !== '33 77\n') bad.push(`exec -t resize: ${JSON.stringify(seen)}`)
      else note(`exec -t: resize to 33x77 seen after ${Date.now() - t0} ms`)
    }

    { // docker attach and docker start -ai, each with a pty for the client from script(1)
      const script = (cmd: string, input: string) =>
        $({ nothrow: true, quiet: true, input, timeout: 150_000 })`script -qec ${cmd} /dev/null`
      // docker attach: the VM is already running; each line typed is echoed back by the workload.
      const att = uniq('attach')
      await startDetached(ctx, runtime, att, ['-it', 'runcvm-test/bb',
        'sh', '-c', 'stty -echo; echo ready; while read x; do echo "echo:$x"; [ "$x" = quit ] && exit 7; done'])
      await waitForLog(att, /ready/, 120_000)
      const a = await script(`docker attach ${att}`, 'hello\nquit\n')
      const aout = a.stdout.replace(/\r/g, '')
      if (a.exitCode !== 7 || !aout.includes('echo:hello\n') || !aout.includes('echo:quit\n')) bad.push(`docker attach: exit ${a.exitCode} ${JSON.stringify(aout)}`)
      else note('docker attach: input echoed, exit 7')

      // docker start -ai: input typed before the VM has booted waits in the container's pty.
      const cr = uniq('start')
      const c = await docker(['create', '-it', '--pull=never', `--runtime=${runtime}`, '--name', cr, ...labels, 'runcvm-test/bb',
        'sh', '-c', 'read x; echo "got:$x"; exit 5'])
      ok(c.code === 0, `docker create -it: ${describe(c)}`)
      const s = await script(`docker start -ai ${cr}`, 'typed-ahead\n')
      const sout = s.stdout.replace(/\r/g, '')
      if (s.exitCode !== 5 || !sout.includes('got:typed-ahead\n')) bad.push(`docker start -ai: exit ${s.exitCode} ${JSON.stringify(sout)}`)
      else note('docker start -ai: typed-ahead input read, exit 5')
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
