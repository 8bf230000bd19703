// 70-hostile-env: an image built by this case that tries to run code on the container side (root,
// next to QEMU, outside the VM) through its environment and its config files:
//   ENV NODE_OPTIONS=--require /evil.js (Node roles), LD_PRELOAD / LD_LIBRARY_PATH (every bundled
//   dynamic binary: ld.so prints an error for a preload it cannot find), BASH_ENV / ENV (shells),
//   OPENSSL_CONF (Node reads it at start-up), /etc/dnsmasq.conf with log-facility (a file dnsmasq
//   creates at start) and dhcp-script + leasefile-ro (a script dnsmasq runs at start), and
//   /etc/ld.so.preload (glibc's loader preloads what it names into every dynamic program: the
//   package's loader must not read it; ld.so prints an error for a preload it cannot find).
// Every payload writes a marker file into the container root (which the VM sees as its /). The case
// asserts: no marker after `docker run` nor after a `docker exec` that adds its own NODE_OPTIONS;
// no ld.so complaint on stderr; and the workload in the VM still sees every one of these variables
// exactly as runc's workload does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Case, type Res, describe, fail, startDetached } from '../harness'

const EVIL_SH = '#!/bin/sh\ntouch /pwned-sh-"$1"\n'
const FILES: Record<string, string> = {
  'evil.js': "require('fs').writeFileSync('/pwned-node', String(process.pid))\n",
  'evil.sh': EVIL_SH,
  'evil.cnf': 'openssl_conf = x\n[x]\nengines = e\n[e]\nevil = evil_section\n[evil_section]\ndynamic_path = /pwned-openssl.so\ninit = 1\n',
  'dnsmasq.conf': 'log-facility=/pwned-dnsmasq.log\nlog-queries\nleasefile-ro\ndhcp-script=/evil.sh\n',
  'ld.so.preload': '/pwned-ld-preload.so\n',
  Dockerfile: [
    'FROM runcvm-test/bb',
    'COPY evil.js evil.sh evil.cnf /',
    'COPY dnsmasq.conf ld.so.preload /etc/',
    'RUN ["/bin/chmod", "755", "/evil.sh"]',
    'ENV NODE_OPTIONS="--require /evil.js" LD_PRELOAD=/pwned-preload.so LD_LIBRARY_PATH=/pwned-lib BASH_ENV=/evil.sh ENV=/evil.sh OPENSSL_CONF=/evil.cnf FOO=bar',
    '',
  ].join('\n'),
}
const PROBE = 'echo "NODE_OPTIONS=$NODE_OPTIONS LD_PRELOAD=$LD_PRELOAD LD_LIBRARY_PATH=$LD_LIBRARY_PATH BASH_ENV=$BASH_ENV ENV=$ENV OPENSSL_CONF=$OPENSSL_CONF FOO=$FOO X=$X"; ls -d /pwned* 2>/dev/null; true'

export default {
  description: 'a hostile image (NODE_OPTIONS, LD_PRELOAD, BASH_ENV, OPENSSL_CONF, /etc/dnsmasq.conf, /etc/ld.so.preload) runs nothing outside the VM; the workload keeps its env',
  needs: ['runcvm'],
  timeoutMs: 240_000,
  async test(ctx) {
    const { docker, runcvm, runc, uniq, runtime, note } = ctx
    const image = `runcvm-test/x-hostile-${uniq('img').replace(/[^a-z0-9-]/g, '')}`
    let vm: string | undefined
    const dir = mkdtempSync(join(tmpdir(), 'runcvm-x-hostile-'))
    try {
      for (const [f, text] of Object.entries(FILES)) writeFileSync(join(dir, f), text)
      const b = await docker(['build', '-q', '--pull=false', ...ctx.labels, '-t', image, dir])
      if (b.code !== 0) fail(`building the hostile image: ${describe(b)}`)
      const bad: string[] = []
      vm = uniq('vm')
      // docker run: same output as runc (env seen by the workload, no marker), nothing on stderr.
      const a: Res = await runcvm([image, 'sh', '-c', PROBE]), r: Res = await runc([image, 'sh', '-c', PROBE])
      note(`run: ${JSON.stringify(a.stdout)}`)
      const stderr = a.stderr.replace(/^RunCVM: Warning: [^\n]*(?:TCG|KVM)[^\n]*\n?/gm, '')
      if (a.code !== 0 || a.stdout !== r.stdout || stderr !== '') bad.push(`docker run differs from runc:\n    runcvm: ${describe(a)}\n    runc:   ${describe(r)}`)
      if (/^\/pwned/m.test(a.stdout)) bad.push(`a payload ran at docker run: ${JSON.stringify(a.stdout)}`)
      // docker exec with its own hostile -e (the exec env goes through ctr-exec): no marker, env kept.
      await startDetached(ctx, runtime, vm, [image, 'sleep', '1000'])
      const e: Res = await docker(['exec', '-e', 'X=1', '-e', 'NODE_OPTIONS=--require /evil.js', vm, 'sh', '-c', PROBE])
      const want = r.stdout.replace('X=', 'X=1')
      note(`exec: ${JSON.stringify(e.stdout)}`)
      if (e.code !== 0 || e.stdout !== want || e.stderr !== '') bad.push(`docker exec: expected stdout ${JSON.stringify(want)}, got ${describe(e)}`)
      const l: Res = await docker(['exec', vm, 'sh', '-c', 'ls -d /pwned* 2>/dev/null; true'])
      if (l.stdout.trim() !== '') bad.push(`payload markers in the container root after exec: ${JSON.stringify(l.stdout)}`)
      if (bad.length) fail(bad.join('\n'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
      if (vm) await docker(['rm', '-f', vm])
      await docker(['rmi', '-f', image])
    }
  },
} satisfies Case
