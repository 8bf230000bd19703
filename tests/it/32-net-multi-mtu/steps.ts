// 32-net-multi-mtu: multiple networks at create time: `docker create --network A` + `docker network
// connect B` before `docker start`. The VM gets eth0 on A and eth1 on B (Docker's order, kept by
// MAC), B's custom MTU 9000 on eth1, and reaches a runc peer on each network by name (a large
// ping on B too). Traffic only between the containers and networks this case creates.
import { type Case, describe, fail, startDetached } from '../harness'
import { createNet, execUntil } from '../net'

export default {
  description: 'docker create --network A + network connect B (MTU 9000): eth0/eth1 in order, MTU 9000, a peer on each reached by name',
  timeoutMs: 180_000,
  async test(ctx) {
    const { docker, runtime, uniq, labels } = ctx
    const a = await createNet(ctx, 'a')
    const b = await createNet(ctx, 'b', ['--opt', 'com.docker.network.driver.mtu=9000'])
    const [pa, pb, vm] = [uniq('pa'), uniq('pb'), uniq('vm')]
    await startDetached(ctx, 'runc', pa, ['--network', a.name, 'runcvm-test/bb', 'sleep', '1000'])
    await startDetached(ctx, 'runc', pb, ['--network', b.name, 'runcvm-test/bb', 'sleep', '1000'])
    const steps = [
      ['create', '--pull=never', `--runtime=${runtime}`, '--name', vm, ...labels, '--network', a.name, 'runcvm-test/bb', 'sleep', '1000'],
      ['network', 'connect', b.name, vm],
      ['start', vm],
    ]
    for (const s of steps) { const r = await docker(s); if (r.code !== 0) fail(`docker ${s[0]}: ${describe(r)}`) }
    const bad: string[] = []
    for (const peer of [pa, pb]) {
      const p = await execUntil(ctx, vm, `ping -c 1 -W 3 ${peer}`, 90_000)
      if (p.code !== 0) bad.push(`VM → ${peer} by name: ${describe(p)}`)
    }
    const big = await docker(['exec', vm, 'ping', '-c', '1', '-W', '3', '-s', '8000', pb])
    if (big.code !== 0) bad.push(`VM → ${pb} 8000-byte ping over the MTU 9000 network: ${describe(big)}`)
    const links = await docker(['exec', vm, 'sh', '-c', 'for i in eth0 eth1; do echo $i $(cat /sys/class/net/$i/mtu) $(ip -o -4 addr show $i | awk "{print \\$4}"); done'])
    const want = [new RegExp(`^eth0 1500 ${a.prefix.replace(/\./g, '\\.')}\\.\\d+/24$`, 'm'), new RegExp(`^eth1 9000 ${b.prefix.replace(/\./g, '\\.')}\\.\\d+/24$`, 'm')]
    for (const re of want) if (!re.test(links.stdout)) bad.push(`VM interfaces: want ${re} in ${describe(links)}`)
    ctx.note(`VM: ${links.stdout.trim().replace(/\n/g, '; ')}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
