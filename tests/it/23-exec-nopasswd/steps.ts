// 23-exec-nopasswd: `docker exec` into an image with no /etc at all (busybox only: no passwd, no
// group, no shells): dropbear must still accept our key for root, exec must not print dbclient or
// dropbear noise, HOME falls back to "/" as runc's does, and `-t` works too (pty login records
// must not need a passwd entry). Compared with runc's exec on the same image. Also an image whose
// root has /sbin/nologin as shell.
import { $ } from 'zx/core'
import { type Case, type Res, describe, fail, startDetached } from '../harness'

export default {
  description: 'docker exec (plain and -t) in an image without /etc/passwd, and with root\'s shell /sbin/nologin, as runc',
  needs: ['script'],
  timeoutMs: 240_000,
  async test(ctx) {
    const { docker, uniq, runtime, note } = ctx
    const vm = uniq('vm'), ref = uniq('ref')
    for (const [n, rt] of [[ref, 'runc'], [vm, runtime]]) await startDetached(ctx, rt, n, ['runcvm-test/bb-nopasswd', 'sleep', '1000'])
    const bad: string[] = []
    for (const args of [['sh', '-c', 'echo $HOME $(id -u); echo err >&2; exit 4'], ['-u', '1000:1000', 'sh', '-c', 'echo $HOME $(id -u)']]) {
      const flags = args[0] === '-u' ? args.slice(0, 2) : [], cmd = args.slice(flags.length)
      const a: Res = await docker(['exec', ...flags, vm, ...cmd]), b: Res = await docker(['exec', ...flags, ref, ...cmd])
      if (a.code !== b.code || a.stdout !== b.stdout || a.stderr !== b.stderr) bad.push(`${args.join(' ')}:\n    runcvm: ${describe(a)}\n    runc:   ${describe(b)}`)
    }
    const p = await $({ nothrow: true, quiet: true })`script -eqc ${`docker exec -it ${vm} sh -c 'echo tty-ok; exit 6'`} /dev/null`
    note(`-t: exit ${p.exitCode} ${JSON.stringify(p.stdout.replace(/\r/g, ''))}`)
    if (p.exitCode !== 6 || !p.stdout.includes('tty-ok')) bad.push(`-t without /etc/passwd: exit ${p.exitCode}, stdout ${JSON.stringify(p.stdout)}`)
    // An image whose root may not log in (shell /sbin/nologin, not in /etc/shells): exec does not
    // go through root's login shell, so it still works, as under runc.
    const nl = uniq('nologin'), nlRef = uniq('nologin-ref')
    const lock = ['sh', '-c', 'sed -i "s#^root:.*#root:x:0:0:root:/root:/sbin/nologin#" /etc/passwd; sleep 1000']
    for (const [n, rt] of [[nlRef, 'runc'], [nl, runtime]]) await startDetached(ctx, rt, n, ['runcvm-test/bb', ...lock])
    const probe = ['sh', '-c', 'grep ^root: /etc/passwd; echo $HOME $(id -u)']
    let a: Res = await docker(['exec', nl, ...probe])
    for (let i = 0; i < 20 && !a.stdout.includes('nologin'); i++) a = await docker(['exec', nl, ...probe]) // sed ran at boot
    const b: Res = await docker(['exec', nlRef, ...probe])
    if (a.code !== b.code || a.stdout !== b.stdout || a.stderr !== b.stderr) bad.push(`exec with root's shell /sbin/nologin:\n    runcvm: ${describe(a)}\n    runc:   ${describe(b)}`)
    else note(`root shell /sbin/nologin: exec works (${JSON.stringify(a.stdout.split('\n')[0])})`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
