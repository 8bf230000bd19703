// 72-sshd-guard: peers on the Docker network cannot reach the VM's exec server (dropbear, port
// 22222) by either path through the container's network namespace:
// - bridged: a runc peer connects to the VM's IP as usual (its frames go to the VM's MAC and
//   cross the container's bridge: ebtables FORWARD drops them);
// - routed: the peer pins the VM's IP to the container's own (Docker-assigned) MAC with a static
//   ARP entry, as a peer that cached it before the VM took the address over would. The bridge
//   delivers those frames to the container's netns, which forwards IPv4 and routes them on to the
//   VM (iptables filter FORWARD drops them). A busybox httpd in the VM answers the same routed
//   path on port 8080, so the path itself is proven to work.
// `docker exec` (locally originated in the container) keeps working.
import { type Case, describe, fail, ok, startDetached } from '../harness'
import { createNet, execUntil } from '../net'

const TOKEN = 'routed-path-works'

export default {
  description: 'peer cannot reach VM:22222 bridged or routed via the container MAC (httpd on the routed path answers); docker exec still works; exec refuses a server whose host key is not the pinned one',
  needs: ['runcvm'],
  timeoutMs: 240_000,
  async test(ctx) {
    const { runtime, uniq, docker, note } = ctx
    const net = await createNet(ctx, 'net')
    const [vm, peer] = [uniq('vm'), uniq('peer')]
    const ip = `${net.prefix}.60`
    await startDetached(ctx, 'runc', peer, ['--network', net.name, '--cap-add', 'NET_ADMIN', 'runcvm-test/bb', 'sleep', '1000'])
    await startDetached(ctx, runtime, vm, ['--network', net.name, '--ip', ip, 'runcvm-test/bb', 'sh', '-c',
      `mkdir -p /www && echo ${TOKEN} > /www/index.html && exec httpd -f -p 8080 -h /www`])
    const up = await execUntil(ctx, vm, 'true', 90_000)
    ok(up.code === 0, `first exec into the VM: ${describe(up)}`)
    const mac = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net.name}").MacAddress}}`, vm])).stdout.trim()
    ok(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac), `container MAC from docker inspect: ${JSON.stringify(mac)}`)
    const banner = (r: { stdout: string }) => r.stdout.includes('SSH-')
    const bad: string[] = []

    // Bridged: the peer resolves the VM's IP by ARP (the VM answers with its own MAC).
    const bridged = await docker(['exec', peer, 'sh', '-c', `nc -w 3 ${ip} 22222 </dev/null | head -c 8; ip neigh show ${ip}`])
    if (banner(bridged)) bad.push(`bridged: peer reached the VM's sshd at ${ip}:22222: ${describe(bridged)}`)
    ok(/lladdr 52:54:00:/.test(bridged.stdout), `the bridged attempt did not reach the VM's MAC: ${describe(bridged)}`)

    // Routed: frames to the container's own MAC, routed by the container's netns to the VM.
    const pin = await docker(['exec', peer, 'sh', '-c', `arp -s ${ip} ${mac} && ip neigh show ${ip}`])
    ok(pin.code === 0 && pin.stdout.includes(`lladdr ${mac} `), `peer: static ARP ${ip} -> ${mac}: ${describe(pin)}`)
    const http = await execUntil(ctx, peer, `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ip} 8080 | tail -n 1 | grep -x ${TOKEN}`, 30_000)
    ok(http.code === 0, `the routed path (peer -> container MAC -> VM) does not work even for httpd on 8080: ${describe(http)}`)
    const routed = await docker(['exec', peer, 'sh', '-c', `nc -w 3 ${ip} 22222 </dev/null | head -c 8`])
    if (banner(routed)) bad.push(`routed: peer reached the VM's sshd at ${ip}:22222 via the container MAC ${mac}: ${describe(routed)}`)
    else note(`routed path: httpd on ${ip}:8080 answered via ${mac}, port 22222 gave no banner`)

    const after = await docker(['exec', vm, 'echo', 'still'])
    if (after.stdout !== 'still\n') bad.push(`docker exec after the peer attempts: ${describe(after)}`)

    // Host-key pinning: the exec client accepts only the VM's own host key (known_hosts written
    // from the key file before every exec). Replace that file's content with another key, as an
    // impostor answering on the VM's address would present: the next exec must be refused with
    // dbclient's host key mismatch and must not run.
    const swap = await docker(['exec', vm, 'sh', '-c', 'K=/.runcvm/dropbear/dropbear_ed25519_host_key; /.runcvm/guest/usr/bin/dropbearkey -t ed25519 -f /tmp/other >/dev/null 2>&1 && cat /tmp/other >$K && echo swapped'])
    ok(swap.stdout === 'swapped\n', `replacing the pinned host key file from the VM: ${describe(swap)}`)
    const other = await docker(['exec', vm, 'echo', 'ran'])
    if (other.code === 0 || other.stdout.includes('ran')) bad.push(`exec ran although the pinned host key is not the VM's: ${describe(other)}`)
    else if (!/host key mismatch/.test(other.stderr)) bad.push(`exec refused, but not for the host key: ${describe(other)}`)
    else note(`pinned host key differs from the server's: exec refused (${other.code}, host key mismatch)`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
