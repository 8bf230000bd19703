// tests/it/net.ts — helpers for the networking cases (30-3x): labelled test networks with their
// own /24 (so `--ip` can be given), polling, and readiness. Traffic stays between the containers
// and networks a case creates; nothing here touches an outside address or DNS name.
import { type Ctx, describe, fail } from './harness'

export interface TestNet { name: string; subnet: string; prefix: string }

/**
 * `docker network create` with a free 10.<200-249>.<n>.0/24 (random, retried on overlap with a
 * concurrent run's network). `--opt` values (e.g. MTU) are passed through.
 */
export async function createNet(ctx: Ctx, tag: string, opts: string[] = []): Promise<TestNet> {
  const name = ctx.uniq(tag)
  let last = ''
  for (let i = 0; i < 8; i++) {
    const prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`
    const subnet = `${prefix}.0/24`
    const r = await ctx.docker(['network', 'create', ...ctx.labels, '--subnet', subnet, ...opts, name])
    if (r.code === 0) return { name, subnet, prefix }
    last = describe(r)
  }
  fail(`could not create a test network: ${last}`)
}

/**
 * Waits until `docker exec <c> sh -c <script>` exits 0 (the VM's exec already waits for sshd; this
 * also covers services that start after the workload, e.g. a server still binding). Returns the
 * last result.
 */
export async function execUntil(ctx: Ctx, c: string, script: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await ctx.docker(['exec', c, 'sh', '-c', script])
    if (r.code === 0 || Date.now() > deadline) return r
    await new Promise(res => setTimeout(res, 1000))
  }
}
