// 22-exec-isolation-latency: the VM's sshd (port 22222) is not reachable from a peer container on
// the same Docker network (the container's bridge drops forwarded TCP to it), while `docker exec`
// keeps working; and the latency of `docker exec C true` (median of 20) against runc's exec on the
// same image, reported as a note (target under TCG: <= 400 ms).
import { type Case, describe, fail, median, ok, timed, startDetached } from '../harness'

const N = 20

export default {
  description: 'peer container cannot connect to the VM sshd; docker exec latency vs runc (median of 20)',
  needs: ['runcvm'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, uniq, labels, runtime, note } = ctx
    const vm = uniq('vm'), ref = uniq('ref')
    for (const [n, rt] of [[ref, 'runc'], [vm, runtime]]) await startDetached(ctx, rt, n, ['runcvm-test/bb', 'sleep', '1000'])
    const up = await docker(['exec', vm, 'true'])
    ok(up.code === 0, `first exec: ${describe(up)}`)
    const ip = (await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', vm])).stdout.trim()
    ok(/^\d+\.\d+\.\d+\.\d+$/.test(ip), `VM container IP: ${ip}`)
    // A peer sees the banner iff it can connect.
    const peer = await docker(['run', '--rm', '--pull=never', ...labels, 'runcvm-test/bb', 'sh', '-c', `nc -w 3 ${ip} 22222 </dev/null | head -c 8`])
    if (peer.stdout.includes('SSH-')) fail(`peer container reached the VM's sshd at ${ip}:22222: ${describe(peer)}`)
    const after = await docker(['exec', vm, 'echo', 'still'])
    ok(after.stdout === 'still\n', `exec after the peer attempt: ${describe(after)}`)

    const lat = async (name: string) => {
      const ms: number[] = []
      for (let i = 0; i < N; i++) {
        const [r, t] = await timed(() => docker(['exec', name, 'true']))
        ok(r.code === 0, `exec true: ${describe(r)}`)
        ms.push(t)
      }
      return median(ms)
    }
    const [mv, mr] = [await lat(vm), await lat(ref)]
    note(`docker exec C true, median of ${N}: ${runtime} ${mv.toFixed(0)} ms, runc ${mr.toFixed(0)} ms (target <= 400 ms under TCG)`)
  },
} satisfies Case
