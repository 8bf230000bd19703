// 15-tty: `-t` gives the workload a terminal (fds 0-2 are ttys) and its output equals runc's,
// including single "\r\n" line endings; `-it` driven through script(1): the terminal size follows
// the client (45x123 set on script's pty), typed input reaches the workload, exit code returned.
import { $ } from 'zx/core'
import { type Case, describe, eq, ok, sameAs } from '../harness'

export default {
  description: '-t: workload on a tty, output as runc; -it via script: client window size, input, exit code',
  needs: ['script'],
  timeoutMs: 240_000,
  async test({ runcvm, runc, runtime, note }) {
    const flags = ['-t', 'runcvm-test/bb', 'sh', '-c', 'for f in 0 1 2; do [ -t $f ] && echo "tty$f"; done; echo err >&2; exit 4']
    const [a, b] = await Promise.all([runcvm(flags), runc(flags)])
    eq(b.stdout, 'tty0\r\ntty1\r\ntty2\r\nerr\r\n', 'runc reference')
    // With -t stderr shares the tty, so RunCVM's TCG-fallback warning is on stdout here; QEMU's
    // stdio chardev writes "\e[?7h" (auto-wrap on) when it restores the terminal at exit.
    const clean = { ...a, stdout: a.stdout.replace(/^RunCVM: Warning: [^\n]*(?:TCG|KVM)[^\n]*\r?\n/m, '').replace(/\u001b\[\?7h$/, '') }
    if (clean.stdout !== a.stdout) note(`-t: removed the accelerator warning / trailing ESC[?7h from stdout`)
    sameAs(clean, b, '-t')
    const cmd = `stty rows 45 cols 123; docker run -it --rm --pull=never --label runcvm-test=1 --runtime=${runtime} runcvm-test/bb sh -c 'stty size; read x; echo "got:$x"; exit 6'`
    // Input is typed before the VM reads it: it waits in the container's pty until the VM reads it.
    const p = await $({ nothrow: true, quiet: true, input: 'hello\n', timeout: 180_000 })`script -qec ${cmd} /dev/null`
    const out = p.stdout.replace(/\r/g, '')
    note(`-it: exit ${p.exitCode} ${JSON.stringify(out.slice(-60))}`)
    eq(p.exitCode, 6, `-it exit code (${JSON.stringify(p.stdout)})`)
    ok(out.includes('45 123\n'), `-it window size 45x123: ${JSON.stringify(out)}`)
    ok(out.includes('got:hello\n'), `-it input: ${JSON.stringify(out)}`)
  },
} satisfies Case
