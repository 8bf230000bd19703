// 30-net-names-tcp: two VMs and one runc container on a user-defined network. Each
// resolves every other by name (Docker's embedded DNS, reached from the VM through dnsmasq on
// 169.254.169.254) and pings it; a TCP service in VM 1 (busybox httpd) answers the runc client by
// name and the host on 127.0.0.1 through `-p 127.0.0.1::8080`; VM 2 gets `--ip` (honoured on eth0)
// and `--dns-search` (in its resolv.conf). Traffic only between the containers this case creates.
import { type Case, describe, fail, ok, startDetached } from '../harness'
import { createNet, execUntil } from '../net'

const TOKEN = 'hello-from-vm-httpd'

export default {
  description: '2 VMs + runc on a user network: names resolve and ping both ways, httpd in a VM by name and via -p 127.0.0.1, --ip, --dns-search',
  timeoutMs: 240_000,
  async test(ctx) {
    const { runtime, uniq, docker, note } = ctx
    const net = await createNet(ctx, 'net')
    const [v1, v2, r] = [uniq('vm1'), uniq('vm2'), uniq('runc')]
    const ip2 = `${net.prefix}.50`
    await startDetached(ctx, 'runc', r, ['--network', net.name, 'runcvm-test/bb', 'sleep', '1000'])
    await startDetached(ctx, runtime, v1, ['--network', net.name, '-p', '127.0.0.1::8080', 'runcvm-test/bb', 'sh', '-c',
      `mkdir -p /www && echo ${TOKEN} > /www/index.html && exec httpd -f -p 8080 -h /www`])
    await startDetached(ctx, runtime, v2, ['--network', net.name, '--ip', ip2, '--dns-search', 'runcvm.test',
      'runcvm-test/bb', 'sleep', '1000'])
    const bad: string[] = []
    const t0 = Date.now()
    // Every pair, by name. The first exec into each VM also waits for its boot.
    for (const [from, tos] of [[v1, [v2, r]], [v2, [v1, r]], [r, [v1, v2]]] as const) {
      for (const to of tos) {
        const p = await execUntil(ctx, from, `ping -c 1 -W 3 ${to}`, 90_000)
        if (p.code !== 0) bad.push(`${from} → ${to} by name: ${describe(p)}`)
      }
    }
    note(`all 6 name+ping pairs done ${((Date.now() - t0) / 1000).toFixed(1)} s after the last docker run -d`)

    const addr = await docker(['exec', v2, 'ip', '-o', '-4', 'addr', 'show', 'eth0'])
    if (!addr.stdout.includes(` ${ip2}/24 `)) bad.push(`--ip ${ip2} not on the VM's eth0: ${describe(addr)}`)
    const rc = await docker(['exec', v2, 'cat', '/etc/resolv.conf'])
    if (!/^search runcvm\.test$/m.test(rc.stdout)) bad.push(`--dns-search missing in the VM's resolv.conf: ${describe(rc)}`)

    // busybox nc, not wget: Debian's busybox-static wget segfaults (exit 139) even on 127.0.0.1.
    const byName = await execUntil(ctx, r, `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${v1} 8080 | tail -n 1 | grep -x ${TOKEN}`, 30_000)
    if (byName.code !== 0) bad.push(`runc client → VM httpd by name: ${describe(byName)}`)
    const port = (await docker(['port', v1, '8080/tcp'])).stdout.trim().split('\n')[0]
    ok(/^127\.0\.0\.1:\d+$/.test(port), `docker port ${v1} 8080/tcp gave ${JSON.stringify(port)}`)
    let body = ''
    try {
      body = (await (await fetch(`http://${port}/`, { signal: AbortSignal.timeout(10_000) })).text()).trim()
    } catch (e) { body = `error: ${(e as Error).message}` }
    if (body !== TOKEN) bad.push(`host → http://${port}/ (-p 127.0.0.1::8080): got ${JSON.stringify(body)}`)
    else note(`-p: http://${port}/ answered by the VM's httpd`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
