// 46-docker-swarm: upstream's 00-http-docker-swarm test with local images. Three RunCVM VMs, each
// running dockerd from the system image (ext4 disk for /var/lib/docker, no systemd, as upstream's
// node image runs it), form a swarm over a test network: one manager, two workers. A replicated
// HTTP service (busybox httpd from an image imported on every node, each node serving its own
// name) publishes port 8080 through the routing mesh (ingress overlay: vxlan, IPVS and iptables
// modules loaded on demand in the guest kernels; bridge and br_netfilter, which dockerd asks a
// modprobe for that this image lacks, loaded at boot), and answers on every node's address, from a container
// in each node and from a runc container outside the swarm. (busybox wget -T segfaults in this
// busybox build: timeouts come from `timeout`.)
import { type Case, describe, fail, sleep } from '../harness'
import { createNet, execUntil } from '../net'
import { DOCKERD, DOCKER_DISK, SYSTEM, importBusybox, load, waitDockerd } from '../system'

const NODES = 3

export default {
  description: 'three VMs running dockerd form a swarm; a replicated HTTP service answers through the routing mesh on every node, from each node and from a runc container (upstream 00-http-docker-swarm)',
  needs: ['runcvm', `image:${SYSTEM}`],
  slow: true,
  timeoutMs: 1_500_000,
  async test(ctx) {
    const { docker, uniq, note, labels } = ctx
    const net = await createNet(ctx, 'net')
    const t0 = performance.now()
    const nodes = Array.from({ length: NODES }, (_, i) => ({ name: uniq(`node${i + 1}`), host: `node${i + 1}`, ip: '' }))
    for (const n of nodes) {
      const r = await docker(['run', '-d', '--pull=never', `--runtime=${ctx.runtime}`, '--name', n.name, ...labels, '--network', net.name,
        '--hostname', n.host, '-m', '1g', '-e', DOCKER_DISK, '--entrypoint', 'sh', SYSTEM, '-c', DOCKERD])
      if (r.code !== 0) fail(`docker run -d ${n.host}: ${describe(r)}`)
      n.ip = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net.name}").IPAddress}}`, n.name])).stdout.trim()
    }
    const peer = uniq('peer')
    const p = await docker(['run', '-d', '--pull=never', '--name', peer, ...labels, '--network', net.name, 'runcvm-test/bb', 'sleep', '3000'])
    if (p.code !== 0) fail(`peer: ${describe(p)}`)
    for (const n of nodes) {
      await waitDockerd(ctx, n.name)
      await importBusybox(ctx, n.name)
      const page = await docker(['exec', n.name, 'sh', '-c', `mkdir -p /srv/w && echo ${n.host} >/srv/w/index.html`])
      if (page.code !== 0) fail(`${n.host}: ${describe(page)}`)
    }
    note(`3 dockerd up, busybox imported: ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${load()})`)

    const [mgr, ...workers] = nodes
    const sh = (n: { name: string }, s: string) => docker(['exec', n.name, 'sh', '-c', s])
    const init = await sh(mgr, `docker swarm init --advertise-addr ${mgr.ip} >/dev/null && docker swarm join-token -q worker`)
    if (init.code !== 0) fail(`swarm init: ${describe(init)}`)
    for (const w of workers) {
      const j = await sh(w, `docker swarm join --token ${init.stdout.trim()} ${mgr.ip}:2377`)
      if (j.code !== 0) fail(`${w.host} join: ${describe(j)}`)
    }
    const ready = await execUntil(ctx, mgr.name, `[ "$(docker node ls --format '{{.Status}}' | grep -c Ready)" = ${NODES} ]`, 120_000)
    if (ready.code !== 0) fail(`nodes Ready: ${describe(await sh(mgr, 'docker node ls'))}`)

    const svc = await sh(mgr, 'docker service create --detach --quiet --name web --replicas 3 --publish 8080:80 --mount type=bind,src=/srv/w,dst=/w bb httpd -f -p 80 -h /w')
    if (svc.code !== 0) fail(`service create: ${describe(svc)}`)
    const running = await execUntil(ctx, mgr.name, `[ "$(docker service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c ^Running)" = 3 ]`, 600_000)
    if (running.code !== 0) fail(`3 tasks running: ${describe(await sh(mgr, 'docker service ps --no-trunc web'))}`)
    note(`swarm formed, service converged: ${((performance.now() - t0) / 1000).toFixed(1)} s after the first docker run -d (load ${load()})`)

    const hosts = new Set(nodes.map(n => n.host))
    const bad: string[] = []
    for (const n of nodes) {
      // From outside the swarm: a runc container on the same network.
      const out = await execUntil(ctx, peer, `timeout 10 wget -qO- http://${n.ip}:8080/`, 120_000)
      if (out.code !== 0 || !hosts.has(out.stdout.trim())) bad.push(`runc peer → ${n.host}:8080: ${describe(out)}`)
      // From the node itself: a container on the node's host network to the node's own address.
      const self = await sh(n, `docker run --rm --network host bb timeout 10 wget -qO- http://${n.ip}:8080/`)
      if (self.code !== 0 || !hosts.has(self.stdout.trim())) bad.push(`${n.host} → its own :8080: ${describe(self)}`)
    }
    // The mesh balances: repeated requests to one node reach more than one replica.
    const seen = new Set<string>()
    for (let i = 0; i < 9 && seen.size < 2; i++) {
      const r = await docker(['exec', peer, 'timeout', '10', 'wget', '-qO-', `http://${mgr.ip}:8080/`])
      if (r.code === 0) seen.add(r.stdout.trim())
      await sleep(200)
    }
    note(`replicas seen through ${mgr.host}:8080: ${[...seen].sort().join(', ')}`)
    if (seen.size < 2) bad.push(`routing mesh: only ${[...seen].join(', ') || 'no replica'} answered through ${mgr.host}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
