// tests/it/ctr.ts — containerd (through Docker's own containerd, in a namespace of the test's own,
// never `moby`) and CNI helpers for the ecosystem cases: import a test image, make a network
// namespace wired by Debian's real CNI plugins (bridge + host-local IPAM, /usr/lib/cni), run a
// task with any runtime binary (`ctr run --runc-binary`), exec, kill, and clean up.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx/core'
import type { Res } from './harness'

export const CONTAINERD_SOCK = '/run/docker/containerd/containerd.sock'
export const CNI_PATH = '/usr/lib/cni'
const sh = $({ quiet: true, nothrow: true })

async function res(p: Promise<{ stdout: string; stderr: string; exitCode: number | null }>, argv: readonly string[]): Promise<Res> {
  const t0 = performance.now()
  const r = await p
  return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode ?? -1, ms: performance.now() - t0, argv, program: 'ctr' }
}

/** What is missing to run ctr/CNI cases here, or undefined. */
export function ctrMissing(): string | undefined {
  if (!existsSync(CONTAINERD_SOCK)) return `no containerd socket at ${CONTAINERD_SOCK}`
  if (!existsSync(join(CNI_PATH, 'bridge'))) return `no CNI plugins in ${CNI_PATH} (apt-get install containernetworking-plugins)`
  return undefined
}

export class Ctr {
  constructor(readonly ns: string) {}
  run(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Res> {
    const argv = ['--address', CONTAINERD_SOCK, '-n', this.ns, ...args]
    return res($({ quiet: true, nothrow: true, input: opts.input, timeout: opts.timeoutMs ?? 180_000 })`ctr ${argv}`, argv)
  }
  /** Import a docker image (docker save | ctr images import); returns its containerd name. */
  async importImage(image: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'runcvm-ctr-img-'))
    try {
      await sh`docker save ${image} -o ${join(dir, 'img.tar')}`
      const r = await this.run(['images', 'import', join(dir, 'img.tar')])
      if (r.code !== 0) throw new Error(`ctr images import: ${r.stderr}`)
    } finally { rmSync(dir, { recursive: true, force: true }) }
    return `docker.io/${image}:latest`
  }
  /** Remove a container and its task, whatever state they are in. */
  async remove(id: string): Promise<void> {
    await this.run(['task', 'kill', '-s', 'SIGKILL', id])
    for (let i = 0; i < 50; i++) {
      if ((await this.run(['task', 'delete', id])).code === 0) break
      if (!(await this.run(['task', 'ls', '-q'])).stdout.split('\n').includes(id)) break
      await new Promise(r => setTimeout(r, 200))
    }
    await this.run(['container', 'delete', id])
  }
  /** Remove everything in the namespace (containers, images) and the namespace itself. */
  async removeAll(): Promise<void> {
    for (const id of (await this.run(['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await this.remove(id)
    const imgs = (await this.run(['images', 'ls', '-q'])).stdout.split('\n').filter(Boolean)
    if (imgs.length) await this.run(['images', 'rm', ...imgs])
    await sh`ctr --address ${CONTAINERD_SOCK} namespaces rm ${this.ns}`
  }
  /** Wait until a task's status is `want` (RUNNING/STOPPED), or throw. */
  async waitStatus(id: string, want: string, ms = 120_000): Promise<void> {
    const until = Date.now() + ms
    for (;;) {
      const l = (await this.run(['task', 'ls'])).stdout.split('\n').find(x => x.split(/\s+/)[0] === id)
      if (l?.split(/\s+/)[2] === want) return
      if (Date.now() > until) throw new Error(`task ${id} not ${want} after ${ms} ms: ${l ?? 'no task'}`)
      await new Promise(r => setTimeout(r, 300))
    }
  }
}

/** A network namespace attached by the real CNI bridge plugin; `del()` undoes it. */
export interface CniNs { name: string; path: string; ip: string; del(): Promise<void> }

/**
 * A CNI network of the test's own: bridge `bridge`, subnet `subnet` (host-local IPAM with its own
 * data dir), isGateway, no masquerade (nothing leaves the host). Returns an attach function.
 */
export function cniNetwork(name: string, bridge: string, subnet: string) {
  const dir = mkdtempSync(join(tmpdir(), 'runcvm-cni-'))
  // The chain a conflist [bridge, firewall] gives: the firewall plugin accepts the namespace's
  // traffic in the host's FORWARD path (Docker sets its policy to DROP, and bridged frames pass
  // iptables when br_netfilter is loaded, as Docker leaves it).
  const conf = {
    cniVersion: '1.0.0', name, type: 'bridge', bridge, isGateway: true, ipMasq: false,
    ipam: { type: 'host-local', subnet, dataDir: join(dir, 'ipam') },
  }
  writeFileSync(join(dir, 'net.json'), JSON.stringify(conf))
  const plugin = (type: string, cmd: 'ADD' | 'DEL', id: string, nsPath: string, stdin: object) => $({
    quiet: true, nothrow: true, input: JSON.stringify(stdin),
    env: { ...process.env, CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: nsPath, CNI_IFNAME: 'eth0', CNI_PATH },
  })`${join(CNI_PATH, type)}`
  const fw = (prevResult: unknown) => ({ cniVersion: '1.0.0', name, type: 'firewall', backend: 'iptables', prevResult })
  const cni = (cmd: 'ADD' | 'DEL', id: string, nsPath: string) => plugin('bridge', cmd, id, nsPath, conf)
  return {
    async attach(nsName: string): Promise<CniNs> {
      const path = `/var/run/netns/${nsName}`
      const add = await sh`ip netns add ${nsName}`
      if (add.exitCode !== 0) throw new Error(`ip netns add ${nsName}: ${add.stderr}`)
      await sh`ip -n ${nsName} link set lo up`
      const r = await cni('ADD', nsName, path)
      if (r.exitCode !== 0) { await sh`ip netns del ${nsName}`; throw new Error(`CNI bridge ADD: ${r.stdout}${r.stderr}`) }
      const result = JSON.parse(r.stdout) as { ips: { address: string }[] }
      const f = await plugin('firewall', 'ADD', nsName, path, fw(result))
      const del = async () => {
        await plugin('firewall', 'DEL', nsName, path, fw(result))
        await cni('DEL', nsName, path)
        await sh`ip netns del ${nsName}`
      }
      if (f.exitCode !== 0) { await del(); throw new Error(`CNI firewall ADD: ${f.stdout}${f.stderr}`) }
      return { name: nsName, path, ip: result.ips[0].address.split('/')[0], del }
    },
    async remove(): Promise<void> {
      await sh`ip link del ${bridge}`
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
