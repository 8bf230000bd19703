// 61-docker-diff: after a run, `docker diff` lists only what the workload changed, equal to runc's
// for the same run (busybox image without /run, /var, /lib/modules; Debian image with usrmerge
// links and /var/run -> /run), and again after a second `docker start`. RunCVM's own traces
// (/vm, /.runcvm, /run, /lib/modules/<version>, virtiofsd's pid files, /run/mount, a /.dockerenv
// rename, /etc/resolv.conf) would each show up as an extra line.
import { type Case, describe, fail, lineDiff } from '../harness'

const SCRIPT = 'echo hi >/tmp/x; echo d >/data/y; echo s >/scratch/z; touch /etc/foo; rm -f /etc/issue'

export default {
  description: '`docker diff` after a run (and after a second start) equals runc\'s: only the workload\'s changes (busybox and Debian images)',
  needs: ['debian'],
  timeoutMs: 300_000,
  async test(ctx) {
    const bad: string[] = []
    const diffOf = async (name: string) => {
      const d = await ctx.docker(['diff', name])
      return d.stdout.split('\n').filter(Boolean).sort().join('\n') + '\n'
    }
    const run = async (runtime: string, image: string) => {
      const name = ctx.uniq(`${runtime}-${image.split('/')[1]}`)
      const r = await ctx.docker(['run', '--pull=never', `--runtime=${runtime}`, '--name', name, ...ctx.labels, '-v', '/data', '--tmpfs', '/scratch', image, 'sh', '-c', SCRIPT])
      if (r.code !== 0) bad.push(`${runtime} ${image}: ${describe(r)}`)
      return name
    }
    for (const image of ['runcvm-test/bb', 'runcvm-test/debian']) {
      const [vm, ref] = await Promise.all([run(ctx.runtime, image), run('runc', image)])
      const [a, b] = await Promise.all([diffOf(vm), diffOf(ref)])
      ctx.note(`${image} runc diff: ${b.trim().split('\n').join(', ')}`)
      if (a !== b) bad.push(`${image}: docker diff differs from runc's\n${lineDiff(a, b)}`)
      if (image.endsWith('/bb')) {
        const again = await ctx.docker(['start', '-a', vm])
        if (again.code !== 0) bad.push(`second docker start: ${describe(again)}`)
        const c = await diffOf(vm)
        if (c !== b) bad.push(`${image} after a second start: docker diff differs from runc's\n${lineDiff(c, b)}`)
      }
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
