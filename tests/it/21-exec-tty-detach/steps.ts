// 21-exec-tty-detach: `docker exec -t` gives the command a pty as controlling tty with the client's
// window size and returns its status (also 137 for a signal death); `docker exec -d` runs detached.
// A pty for the docker client comes from util-linux `script` (the case needs it).
import { $ } from 'zx/core'
import { type Case, describe, fail, ok, sleep, startDetached } from '../harness'

export default {
  description: 'docker exec -t (pty, window size, exit status) and -d, as runc',
  needs: ['script'],
  timeoutMs: 240_000,
  async test(ctx) {
    const { docker, uniq, runtime, note } = ctx
    const vm = uniq('vm'), ref = uniq('ref')
    for (const [n, rt] of [[ref, 'runc'], [vm, runtime]]) await startDetached(ctx, rt, n, ['runcvm-test/bb', 'sleep', '1000'])
    const bad: string[] = []
    const d = await docker(['exec', '-d', vm, 'sh', '-c', 'echo detached >/tmp/d.txt'])
    ok(d.code === 0, `exec -d: ${describe(d)}`)
    let got = ''
    for (let i = 0; i < 20 && got !== 'detached\n'; i++) { await sleep(500); got = (await docker(['exec', vm, 'cat', '/tmp/d.txt'])).stdout }
    if (got !== 'detached\n') bad.push(`exec -d did not run: ${JSON.stringify(got)}`)

    const tty = async (name: string, cmd: string) => {
      const p = await $({ nothrow: true, quiet: true })`script -eqc ${`stty cols 123 rows 45; docker exec -it ${name} sh -c '${cmd}'`} /dev/null`
      return { code: p.exitCode ?? -1, out: p.stdout.replace(/\0/g, '').replace(/\r/g, '') }
    }
    for (const [what, cmd] of [['tty + size', 'tty; stty size; echo TERM=$TERM; exit 5'], ['signal death', 'kill -9 $$']]) {
      const [a, b] = [await tty(vm, cmd), await tty(ref, cmd)]
      note(`-t ${what}: runcvm exit ${a.code} ${JSON.stringify(a.out)}; runc exit ${b.code}`)
      if (a.code !== b.code) bad.push(`-t ${what}: exit ${a.code}, runc ${b.code}`)
    }
    // ^C typed on the client's terminal interrupts the command: 130, as runc.
    const ctrlC = async (name: string) => (await $({ nothrow: true, quiet: true })`sh -c ${`(sleep 8; printf '\\003'; sleep 4) | script -eqc 'docker exec -it ${name} sleep 100' /dev/null`}`).exitCode
    const [ca, cb] = [await ctrlC(vm), await ctrlC(ref)]
    note(`-t ^C: runcvm exit ${ca}, runc exit ${cb}`)
    if (ca !== cb) bad.push(`-t ^C: exit ${ca}, runc ${cb}`)
    // `script` may echo Docker's NUL bytes as "^@" before the output: match the lines themselves.
    const a = await tty(vm, 'tty; stty size; echo TERM=$TERM')
    if (a.code !== 0 || !/\/dev\/pts\/\d+\n45 123\nTERM=xterm\n$/.test(a.out)) bad.push(`-t output: exit ${a.code} ${JSON.stringify(a.out)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
