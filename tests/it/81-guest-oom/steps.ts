// 81-guest-oom: a workload that touches more memory than `-m` gives the VM meets the guest's OOM
// killer, not the host cgroup's: with -m 256m two 150 MiB buffers (busybox dd, each buffer filled
// once) cannot both fit, so the guest kills one (status 137, seen by the workload's shell), the VM
// and the container keep running, and the container ends with the workload's own status (7).
// Docker must not report OOMKilled: RunCVM's own overhead (QEMU, virtiofsd, ...) fits in the
// container limit beside the guest RAM (lib/sizing.ts).
import { type Case, describe, fail } from '../harness'

export default {
  description: '-m 256m, 2 x 150 MiB in the guest: the guest OOM-kills one (137), the container exits with the workload status, OOMKilled false',
  needs: ['runcvm'],
  timeoutMs: 240_000,
  async test({ docker, runtime, uniq, labels, note }) {
    const name = uniq()
    const dd = 'dd if=/dev/zero of=/dev/null bs=150M count=1 2>/dev/null'
    const script = `${dd} & a=$!; ${dd} & b=$!; wait $a; ea=$?; wait $b; eb=$?; echo "statuses $ea $eb"; echo "oom kills $(dmesg | grep -ci 'killed process')"; exit 7`
    const r = await docker(['run', '--pull=never', `--runtime=${runtime}`, '-m', '256m', '--name', name, ...labels, 'runcvm-test/bb', 'sh', '-c', script], { timeoutMs: 200_000 })
    const st = (await docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', name])).stdout.trim()
    note(`${r.stdout.trim().replace(/\n/g, '; ')}; docker: OOMKilled exit code = ${st}`)
    const bad: string[] = []
    const m = /statuses (\d+) (\d+)/.exec(r.stdout)
    if (!m) fail(`no statuses line: ${describe(r)}`)
    if (![m[1], m[2]].includes('137')) bad.push(`neither buffer was OOM-killed in the guest (statuses ${m[1]} ${m[2]})`)
    if (!/oom kills [1-9]/.test(r.stdout)) bad.push(`no OOM kill in the guest's kernel log: ${r.stdout}`)
    if (r.code !== 7) bad.push(`docker run exit ${r.code}, want the workload's 7: ${describe(r)}`)
    if (st !== 'false 7') bad.push(`docker inspect OOMKilled/ExitCode: ${st}, want "false 7"`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
