// 73-hostile-files: images whose files the runtime (root on the host, at `runc create`) or the
// container-side programs (root next to QEMU) would read, made hostile:
//   escape  /etc/os-release is a relative symlink climbing out of the image to a host file this
//           case writes (ID=runcvm-evil-host). Followed on the host, the runtime would pick an
//           unknown distribution and refuse; resolved inside the image it is missing.
//   fifo    /etc/os-release is a FIFO: a blocking open would hang `docker run` for ever.
//   zero    /etc/os-release -> ../usr/lib/os-release -> /dev/zero: an unbounded read eats memory.
//   huge    an 8 MiB /etc/os-release starting with ID=runcvm-evil-huge: read whole, the runtime
//           would pick that unknown distribution; bounded reads treat it as absent.
//   nss     /etc/nsswitch.conf names an `evil` NSS module for passwd, group and hosts, and
//           libnss_evil.so.2 (built here with gcc; its constructor creates /pwned-nss-<pid>) is in
//           every library directory of the image: the package's libc must never read the image's
//           nsswitch.conf nor load modules from the image.
// Each must boot as plain busybox does (default kernel), print the workload's output, say nothing
// about the host file on stderr, and (nss) leave no marker after `docker run` and `docker exec`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { type Case, describe, fail, startDetached } from '../harness'

const NSS_C = `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void pwn(void) {
  char p[64]; snprintf(p, sizeof p, "/pwned-nss-%d", (int)getpid());
  int fd = open(p, O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd);
}
`
const LIB_DIRS = ['/lib', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64']

export default {
  description: 'hostile image files (os-release escaping the image, a FIFO, /dev/zero, 8 MiB; an nsswitch.conf with its own NSS module) never reach the host-side runtime or container-side programs: every image boots, no marker',
  needs: ['runcvm'],
  timeoutMs: 420_000,
  async test(ctx) {
    const { docker, runcvm, uniq, runtime, note } = ctx
    const tag = uniq('img').replace(/[^a-z0-9-]/g, '')
    const hostDir = mkdtempSync(join(tmpdir(), 'runcvm-x-files-host-'))
    const dir = mkdtempSync(join(tmpdir(), 'runcvm-x-files-'))
    const images: string[] = []
    let vm: string | undefined
    try {
      writeFileSync(join(hostDir, 'os-release'), 'ID=runcvm-evil-host\n')
      writeFileSync(join(dir, 'huge-os-release'), 'ID=runcvm-evil-huge\n' + '#'.repeat(8 << 20) + '\n')
      writeFileSync(join(dir, 'nss.c'), NSS_C)
      writeFileSync(join(dir, 'nsswitch.conf'), 'passwd: evil files\ngroup: evil files\nshadow: evil files\nhosts: evil files dns\n')
      const cc = await $({ nothrow: true, quiet: true })`gcc -shared -fPIC -O2 -o ${join(dir, 'libnss_evil.so.2')} ${join(dir, 'nss.c')}`
      if (cc.exitCode !== 0) fail(`gcc (needed to build the test's NSS module): ${cc.stderr}`)
      const ESC = '../'.repeat(12) + hostDir.replace(/^\//, '') + '/os-release'
      const DOCKERFILES: Record<string, string[]> = {
        escape: [`RUN ["/bin/ln", "-sf", "${ESC}", "/etc/os-release"]`],
        fifo: ['RUN ["/bin/rm", "-f", "/etc/os-release"]', 'RUN ["/bin/mkfifo", "/etc/os-release"]'],
        zero: ['RUN ["/bin/mkdir", "-p", "/usr/lib"]', 'RUN ["/bin/ln", "-sf", "/dev/zero", "/usr/lib/os-release"]', 'RUN ["/bin/ln", "-sf", "../usr/lib/os-release", "/etc/os-release"]'],
        huge: ['COPY huge-os-release /etc/os-release'],
        nss: ['COPY nsswitch.conf /etc/nsswitch.conf', ...LIB_DIRS.map(d => `COPY libnss_evil.so.2 ${d}/libnss_evil.so.2`)],
      }
      for (const [k, lines] of Object.entries(DOCKERFILES)) {
        writeFileSync(join(dir, 'Dockerfile'), ['FROM runcvm-test/bb', ...lines, ''].join('\n'))
        const image = `runcvm-test/x-files-${k}-${tag}`
        const b = await docker(['build', '-q', '--pull=false', ...ctx.labels, '-t', image, dir])
        if (b.code !== 0) fail(`building the ${k} image: ${describe(b)}`)
        images.push(image)
      }
      const bad: string[] = []
      for (const image of images) {
        const k = image.replace(/^runcvm-test\/x-files-/, '').replace(`-${tag}`, '')
        const r = await runcvm([image, 'sh', '-c', 'echo booted-$(uname -r | cut -c1); ls -d /pwned* 2>/dev/null; true'], { timeoutMs: 180_000 })
        if (r.code !== 0 || !/^booted-\d\n$/.test(r.stdout)) bad.push(`${k}: docker run did not boot the VM as usual: ${describe(r)}`)
        if (/runcvm-evil/.test(r.stdout + r.stderr)) bad.push(`${k}: the hostile os-release was read: ${describe(r)}`)
        else note(`${k}: booted (${Math.round(r.ms / 100) / 10} s)`)
      }
      // nss: also a docker exec (ctr-exec, dbclient) and the markers seen from the VM afterwards.
      vm = uniq('vm')
      await startDetached(ctx, runtime, vm, [images[images.length - 1], 'sleep', '1000'])
      const e = await docker(['exec', vm, 'sh', '-c', 'id -u; ls -d /pwned* 2>/dev/null; true'])
      if (e.code !== 0 || e.stdout !== '0\n') bad.push(`nss: docker exec: ${describe(e)} (a /pwned-nss-* line means a module from the image ran)`)
      if (bad.length) fail(bad.join('\n'))
    } finally {
      if (vm) await docker(['rm', '-f', vm])
      if (images.length) await docker(['rmi', '-f', ...images])
      rmSync(dir, { recursive: true, force: true })
      rmSync(hostDir, { recursive: true, force: true })
    }
  },
} satisfies Case
