// 34-net-db: upstream's mariadb test shape with local images: a real database server in a VM,
// queried by name from a runc client on the same user-defined network. Debian's mariadb-server
// (~100 MB of packages, a slow first start under TCG) is replaced by redis-server from the
// runcvm-test/net image (Debian bookworm minbase + redis, tests/it/images/build.sh): same shape,
// a TCP database protocol with writes and reads, a fraction of the boot and install time.
import { type Case, describe, fail, startDetached } from '../harness'
import { createNet, execUntil } from '../net'

export default {
  description: 'redis-server in a Debian VM answers SET/GET from a runc redis-cli client by name (upstream mariadb test shape)',
  needs: ['debian'],
  timeoutMs: 240_000,
  async test(ctx) {
    const { docker, runtime, uniq } = ctx
    const img = await docker(['image', 'inspect', '-f', '{{.Id}}', 'runcvm-test/net'])
    if (img.code !== 0) fail('image runcvm-test/net missing: bash tests/it/images/build.sh net')
    const net = await createNet(ctx, 'net')
    const [db, client] = [uniq('db'), uniq('client')]
    await startDetached(ctx, runtime, db, ['--network', net.name, 'runcvm-test/net',
      'redis-server', '--protected-mode', 'no', '--save', '', '--appendonly', 'no'])
    await startDetached(ctx, 'runc', client, ['--network', net.name, 'runcvm-test/net', 'sleep', '1000'])
    const t0 = Date.now()
    const ping = await execUntil(ctx, client, `redis-cli -h ${db} ping | grep -qx PONG`, 150_000)
    if (ping.code !== 0) fail(`redis-cli ping ${db}: ${describe(ping)}`)
    ctx.note(`database answered ${((Date.now() - t0) / 1000).toFixed(1)} s after docker run -d`)
    const q = await docker(['exec', client, 'sh', '-c',
      `redis-cli -h ${db} set runcvm:k "value from runc" && redis-cli -h ${db} incr runcvm:n && redis-cli -h ${db} incr runcvm:n && redis-cli -h ${db} get runcvm:k`])
    if (q.code !== 0 || q.stdout !== 'OK\n1\n2\nvalue from runc\n') fail(`SET/INCR/GET by name: ${describe(q)}`)
    // The value lives in the VM's redis (not a local fallback): read it from inside the VM too.
    const inVm = await docker(['exec', db, 'redis-cli', 'get', 'runcvm:n'])
    if (inVm.stdout.trim() !== '2') fail(`value inside the VM: ${describe(inVm)}`)
  },
} satisfies Case
