// 95-net-hotplug: `docker network connect` and `disconnect` on a running VM. A VM on network A;
// a runc httpd peer on network B. Connect B: the container's link watcher hot-plugs a NIC (bridge +
// tap, QMP netdev_add/device_add on a free pcie-root-port) and the VM names and addresses it: the
// VM fetches from the peer by name; the figure is connect → first successful ping by name, timed
// from the host (an upper bound: it includes the docker exec's return). Disconnect: the NIC is
// unplugged: the peer's IP is unreachable, eth1 is gone in the VM, br-eth1/tap-eth1 are gone in
// the container. Traffic only between the containers and networks this case creates.
import { type Case, describe, fail, startDetached, sleep } from '../harness'
import { createNet, execUntil } from '../net'

export default {
  description: 'network connect/disconnect on a running VM: NIC hot-plugged (peer on the new network reached by name, latency noted), then unplugged (interface, bridge and tap gone)',
  needs: ['runcvm'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, runtime, uniq, labels, note } = ctx
    const a = await createNet(ctx, 'a')
    const b = await createNet(ctx, 'b')
    const [pb, vm] = [uniq('pb'), uniq('vm')]
    await startDetached(ctx, 'runc', pb, ['--network', b.name, 'runcvm-test/bb', 'sh', '-c', 'mkdir -p /tmp/w && echo peer-b > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'])
    await startDetached(ctx, runtime, vm, ['--network', a.name, 'runcvm-test/bb', 'sleep', '1000'])
    const up = await execUntil(ctx, vm, 'true', 120_000)
    if (up.code !== 0) fail(`VM never answered docker exec: ${describe(up)}`)
    // The container's own netns (not the VM's), seen from a runc container joined to it.
    const ctrLinks = async () => (await ctx.runc(['--net=container:' + vm, 'runcvm-test/bb', 'ip', '-o', 'link'])).stdout
    const netplugLog = async () => (await docker(['exec', vm, 'cat', '/.runcvm/netplug.log'])).stdout

    // Connect: a loop in the VM pings the peer by name until it answers (the name only resolves
    // once Docker has attached B).
    const wait = docker(['exec', vm, 'sh', '-c', `i=0; until ping -c 1 -W 1 ${pb} >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 600 ] && exit 1; usleep 50000; done; echo ok`])
    await sleep(3000)
    const t0 = Date.now()
    const con = await docker(['network', 'connect', b.name, vm])
    if (con.code !== 0) fail(`docker network connect: ${describe(con)}`)
    const w = await wait
    const ms = Date.now() - t0
    if (w.code !== 0 || w.stdout !== 'ok\n') fail(`VM never reached ${pb} by name after connect: ${describe(w)}\nnetplug.log:\n${await netplugLog()}`)
    note(`connect → ${pb} answers a ping by name: ${ms} ms (docker network connect itself ${Math.round(con.ms)} ms)`)
    const ipB = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${b.name}").IPAddress}}`, vm])).stdout.trim()
    const bad: string[] = []
    const eth1 = await docker(['exec', vm, 'ip', '-o', '-4', 'addr', 'show', 'eth1'])
    if (!eth1.stdout.includes(` ${ipB}/24 `)) bad.push(`VM eth1 lacks Docker's address ${ipB}/24: ${describe(eth1)}`)
    // nc, not wget: runcvm-test/bb's busybox wget can segfault (docs/NETWORKING.md).
    const get = await docker(['exec', vm, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${pb} 8080`])
    if (!get.stdout.endsWith('\npeer-b\n')) bad.push(`VM → http://${pb}:8080/ (nc): ${describe(get)}`)
    const log = await netplugLog()
    note(log.split('\n').filter(l => l.includes('added')).map(l => l.replace(/^\S+ /, '')).join('; '))
    if (bad.length) fail(bad.join('\n'))

    // Disconnect: the NIC is unplugged and nothing is left behind.
    const peerIp = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${b.name}").IPAddress}}`, pb])).stdout.trim()
    const t1 = Date.now()
    const dis = await docker(['network', 'disconnect', b.name, vm])
    if (dis.code !== 0) fail(`docker network disconnect: ${describe(dis)}`)
    const gone = await execUntil(ctx, vm, '! [ -e /sys/class/net/eth1 ]', 60_000)
    if (gone.code !== 0) fail(`eth1 still in the VM 60 s after disconnect\nnetplug.log:\n${await netplugLog()}`)
    note(`disconnect → eth1 gone in the VM: ${Date.now() - t1} ms`)
    await sleep(500)
    const links = await ctrLinks()
    if (/br-eth1|tap-eth1/.test(links)) bad.push(`container still has the bridge/tap:\n${links}`)
    const ping = await docker(['exec', vm, 'ping', '-c', '1', '-W', '2', peerIp])
    if (ping.code === 0) bad.push(`VM still reaches ${peerIp} after disconnect`)
    note((await netplugLog()).split('\n').filter(l => l.includes('removed')).map(l => l.replace(/^\S+ /, '')).join('; '))
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
