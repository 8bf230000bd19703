// 42-docker-cgroupfs-iptables: dockerd as the VM's workload (no systemd), as upstream's Docker
// examples run it, in each RUNCVM_CGROUPFS mode and with both iptables back ends; and
// upstream's documented alternative of /var/lib/docker on a volume with RUNCVM_SYS_ADMIN=1.
//
// In each configuration: dockerd comes up with overlay2 (on the RUNCVM_DISKS ext4 disk, or on the
// virtiofs volume with SYS_ADMIN), sees the cgroup version the mode gives (hybrid and cgroup1: v1
// controllers; cgroup2: v2), a nested `docker run -m 64m` of a busybox image imported in the VM
// gets its memory limit from that hierarchy (the controller is usable by the nested runc), and its
// `-p 8080:80` answers a runc container on the test network through iptables DNAT rules that the
// chosen back end holds (nft: `iptables-nft`, legacy: `iptables-legacy` picked with
// update-alternatives before dockerd starts, as a user would).
import { type Case, describe, fail } from '../harness'
import { createNet, execUntil } from '../net'
import { DOCKERD, DOCKER_DISK, SYSTEM, importBusybox, load, waitDockerd } from '../system'

interface Config { name: string; env: string[]; mounts: string[]; iptables: 'nft' | 'legacy'; cgroup: '1' | '2'; limitFile: string }

const V1 = '/sys/fs/cgroup/memory/memory.limit_in_bytes'
const V2 = '/sys/fs/cgroup/memory.max'

export default {
  description: 'dockerd without systemd: RUNCVM_CGROUPFS default(hybrid)/1/2 × iptables nft/legacy, nested docker run -m and -p; RUNCVM_SYS_ADMIN=1 with /var/lib/docker on a volume',
  needs: ['runcvm', `image:${SYSTEM}`],
  slow: true,
  timeoutMs: 1_500_000,
  async test(ctx) {
    const { docker, uniq, note, labels } = ctx
    const net = await createNet(ctx, 'net')
    const peer = uniq('peer')
    const p = await docker(['run', '-d', '--pull=never', '--name', peer, ...labels, '--network', net.name, 'runcvm-test/bb', 'sleep', '3000'])
    if (p.code !== 0) fail(`peer: ${describe(p)}`)
    const vol = uniq('vol')
    await docker(['volume', 'create', ...labels, vol])
    const configs: Config[] = [
      { name: 'default (hybrid) + nft', env: [DOCKER_DISK], mounts: [], iptables: 'nft', cgroup: '1', limitFile: V1 },
      { name: 'RUNCVM_CGROUPFS=2 + legacy', env: [DOCKER_DISK, 'RUNCVM_CGROUPFS=2'], mounts: [], iptables: 'legacy', cgroup: '2', limitFile: V2 },
      { name: 'RUNCVM_CGROUPFS=1 + nft', env: [DOCKER_DISK, 'RUNCVM_CGROUPFS=1'], mounts: [], iptables: 'nft', cgroup: '1', limitFile: V1 },
      { name: 'RUNCVM_SYS_ADMIN=1, /var/lib/docker on a volume', env: ['RUNCVM_SYS_ADMIN=1'], mounts: ['--mount', `type=volume,src=${vol},dst=/var/lib/docker`], iptables: 'nft', cgroup: '1', limitFile: V1 },
    ]
    const bad: string[] = []
    for (const c of configs) {
      const vm = uniq('vm')
      const pick = c.iptables === 'legacy' ? 'update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null && ' : ''
      const t0 = performance.now()
      const r = await docker(['run', '-d', '--pull=never', `--runtime=${ctx.runtime}`, '--name', vm, ...labels, '--network', net.name, '-m', '1g',
        ...c.env.flatMap(e => ['-e', e]), ...c.mounts, '--entrypoint', 'sh', SYSTEM, '-c', `${pick}${DOCKERD}`])
      if (r.code !== 0) { bad.push(`${c.name}: docker run -d: ${describe(r)}`); continue }
      try {
        await waitDockerd(ctx, vm)
        const sh = (s: string) => docker(['exec', vm, 'sh', '-c', s])
        const info = await sh('docker info --format "{{.Driver}} {{.CgroupVersion}}"')
        if (info.stdout.trim() !== `overlay2 ${c.cgroup}`) bad.push(`${c.name}: docker info (want overlay2 ${c.cgroup}): ${describe(info)}`)
        await importBusybox(ctx, vm)
        const ip = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net.name}").IPAddress}}`, vm])).stdout.trim()
        const nested = await sh(`docker run --rm -m 64m bb cat ${c.limitFile}`)
        if (nested.stdout.trim() !== '67108864') bad.push(`${c.name}: nested docker run -m 64m reads ${c.limitFile}: ${describe(nested)}`)
        const srv = await sh(`mkdir -p /srv/w && echo ${c.iptables}-${c.cgroup} >/srv/w/index.html && docker run -d -p 8080:80 -v /srv/w:/w bb httpd -f -p 80 -h /w`)
        if (srv.code !== 0) bad.push(`${c.name}: nested docker run -d -p: ${describe(srv)}`)
        const got = await execUntil(ctx, peer, `wget -qO- http://${ip}:8080/ | grep -qx ${c.iptables}-${c.cgroup}`, 60_000)
        if (got.code !== 0) bad.push(`${c.name}: -p 8080 from the runc peer: ${describe(got)}`)
        const rules = await sh(`iptables-${c.iptables} -t nat -S DOCKER`)
        if (!/-j DNAT --to-destination [\d.]+:80/.test(rules.stdout)) bad.push(`${c.name}: DNAT rule in iptables-${c.iptables}: ${describe(rules)}`)
        note(`${c.name}: nested -p answered ${((performance.now() - t0) / 1000).toFixed(1)} s after docker run -d (load ${load()})`)
      } catch (e) {
        bad.push(`${c.name}: ${(e as Error).message}`)
      }
      await docker(['rm', '-f', vm])
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
