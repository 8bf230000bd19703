// 43-apparmor: an image that uses AppArmor keeps it. runcvm-test/system-apparmor is the system
// image plus Debian's apparmor (apparmor_parser), booted with systemd as a user would: the kernel
// command line has no apparmor=0, AppArmor is enabled, dockerd reports it and loads its
// docker-default profile, and a nested container runs confined by it. (Without apparmor_parser,
// RunCVM boots with apparmor=0 so dockerd does not try to load a profile it cannot: 41 checks
// that side on runcvm-test/system.)
import { type Case, describe, fail } from '../harness'
import { DOCKER_DISK, SYSTEM_APPARMOR, importBusybox, load, waitDockerd, waitSystemd } from '../system'

export default {
  description: 'image with apparmor_parser: AppArmor stays on (no apparmor=0), dockerd uses it, nested container confined by docker-default',
  needs: ['runcvm', `image:${SYSTEM_APPARMOR}`],
  slow: true,
  timeoutMs: 900_000,
  async test(ctx) {
    const { docker, uniq, note } = ctx
    const vm = uniq('vm')
    const t0 = performance.now()
    const r = await docker(['run', '-d', '--pull=never', `--runtime=${ctx.runtime}`, '--name', vm, ...ctx.labels, '-m', '2g', '-e', DOCKER_DISK, SYSTEM_APPARMOR])
    if (r.code !== 0) fail(`docker run -d: ${describe(r)}`)
    const s = await waitSystemd(ctx, vm, t0)
    note(`docker run -d → systemd ${s.state}: ${(s.ms / 1000).toFixed(1)} s (load ${load()})${s.failed ? `; failed: ${s.failed}` : ''}`)
    await waitDockerd(ctx, vm)
    const bad: string[] = []
    const sh = (script: string) => docker(['exec', vm, 'sh', '-c', script])
    const k = await sh('grep -c "apparmor=0" /proc/cmdline; cat /sys/module/apparmor/parameters/enabled; systemctl is-active apparmor')
    if (k.stdout !== '0\nY\nactive\n') bad.push(`kernel AppArmor on, apparmor.service active: ${describe(k)}`)
    const info = await sh('docker info --format "{{.SecurityOptions}}"')
    if (!info.stdout.includes('name=apparmor')) bad.push(`docker info security options: ${describe(info)}`)
    await importBusybox(ctx, vm)
    const conf = await sh('docker run --rm bb cat /proc/self/attr/current; grep -c "^docker-default " /sys/kernel/security/apparmor/profiles')
    if (conf.stdout !== 'docker-default (enforce)\n1\n') bad.push(`nested container confined by docker-default: ${describe(conf)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
