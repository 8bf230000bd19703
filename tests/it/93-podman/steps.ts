// 93-podman: Debian 12's podman (4.3, rootful, CNI backend with the dnsname plugin) with the
// runtime given by path (`--runtime <path>`, `--ulimit` for this machine's hard limits) and by
// name from a containers.conf (`[engine.runtimes]` + `default_ulimits`, via CONTAINERS_CONF).
// Compared with runc: stdout/stderr bytes and exit codes (0, 3, a signal death), stdin with -i.
// Then a podman network with two VMs: each resolves and reaches the other by name; `podman exec`
// runs in the VM with its exit code and streams; `podman stop` powers a VM down cleanly (143).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { type Case, describe, eq, ok, type Res } from '../harness'

const ULIMITS = ['--ulimit', 'nofile=10000:10000', '--ulimit', 'nproc=10000:10000']
const IMAGE = 'localhost/runcvm-test/bb'
const SUBNET = '10.251.95.0/24'

export default {
  description: 'podman --runtime <path> and containers.conf: stdio/exit codes like runc, exec, stop, a network with two VMs resolving each other',
  needs: ['runcvm', 'podman'],
  timeoutMs: 420_000,
  async test({ docker, runtime, note, uniq }) {
    const info = await docker(['info', '--format', '{{json .Runtimes}}'])
    const rtPath = (JSON.parse(info.stdout) as Record<string, { path: string }>)[runtime].path
    const dir = mkdtempSync(join(tmpdir(), 'runcvm-podman-'))
    const conf = join(dir, 'containers.conf')
    writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=10000:10000", "nproc=10000:10000"]\n\n[engine.runtimes]\nruncvm = ["${rtPath}"]\n`)
    const podman = async (args: string[], o: { input?: string; conf?: boolean; timeoutMs?: number } = {}): Promise<Res> => {
      const t0 = performance.now()
      const env = o.conf ? { ...process.env, CONTAINERS_CONF: conf } : process.env
      const p = await $({ quiet: true, nothrow: true, input: o.input, env, timeout: o.timeoutMs ?? 180_000 })`podman ${args}`
      return { stdout: p.stdout, stderr: p.stderr, code: p.exitCode ?? -1, ms: performance.now() - t0, argv: args, program: 'podman' }
    }
    const names: string[] = []
    const net = uniq('net')
    try {
      const load = await $({ quiet: true, nothrow: true })`docker save runcvm-test/bb | podman load`
      eq(load.exitCode, 0, `podman load: ${load.stderr}`)
      const runc = (await $({ quiet: true })`sh -c ${'command -v runc'}`).stdout.trim()

      for (const [what, script, input] of [
        ['streams, exit 3', 'echo out; echo err >&2; printf tail; exit 3', undefined],
        // The dying shell is not PID 1 (under runc a PID 1 ignores its own SIGKILL).
        ['signal death', 'echo before; sh -c \'kill -9 $$\'; exit $?', undefined],
        ['stdin with -i', 'cat; echo done', 'line1\nline2\n'],
      ] as const) {
        const i = input === undefined ? [] : ['-i']
        const [vm, ref] = await Promise.all([
          podman(['run', '--rm', ...i, ...ULIMITS, '--runtime', rtPath, IMAGE, 'sh', '-c', script], { input }),
          podman(['run', '--rm', ...i, ...ULIMITS, '--runtime', runc, IMAGE, 'sh', '-c', script], { input }),
        ])
        eq(`${vm.code}|${vm.stdout}|${vm.stderr}`, `${ref.code}|${ref.stdout}|${ref.stderr}`, `${what}: podman --runtime <path> vs runc (${describe(vm)})`)
      }
      const byName = await podman(['--runtime', 'runcvm', 'run', '--rm', IMAGE, 'sh', '-c', 'uname -r; exit 4'], { conf: true })
      eq(byName.code, 4, `containers.conf runtime by name: ${describe(byName)}`)
      ok(byName.stdout.trim() !== (await $({ quiet: true })`uname -r`).stdout.trim(), `it ran in a VM (guest kernel ${byName.stdout.trim()})`)

      const nc = await podman(['network', 'create', '--subnet', SUBNET, net])
      eq(nc.code, 0, `network create: ${describe(nc)}`)
      const [a, b] = [uniq('a'), uniq('b')]
      for (const n of [a, b]) {
        names.push(n)
        const r = await podman(['run', '-d', ...ULIMITS, '--runtime', rtPath, '--network', net, '--name', n, IMAGE, 'sleep', '600'])
        eq(r.code, 0, `run -d ${n}: ${describe(r)}`)
      }
      const upB = await podman(['exec', b, 'true'], { timeoutMs: 120_000 })
      eq(upB.code, 0, `exec in ${b} (waits for its boot): ${describe(upB)}`)
      const ex = await podman(['exec', a, 'sh', '-c', 'echo o; echo e >&2; exit 6'], { timeoutMs: 120_000 })
      eq(`${ex.code}|${ex.stdout}|${ex.stderr}`, '6|o\n|e\n', `podman exec: ${describe(ex)}`)
      const ipB = (await podman(['inspect', b, '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`])).stdout.trim()
      const look = await podman(['exec', a, 'nslookup', b])
      ok(look.code === 0 && look.stdout.includes(ipB), `${a} resolves ${b} to ${ipB}: ${describe(look)}`)
      const ping = await podman(['exec', a, 'ping', '-c', '1', '-W', '10', b])
      eq(ping.code, 0, `${a} pings ${b} by name: ${describe(ping)}`)
      const back = await podman(['exec', b, 'ping', '-c', '1', '-W', '10', a])
      eq(back.code, 0, `${b} pings ${a} by name: ${describe(back)}`)

      const t0 = Date.now()
      const stop = await podman(['stop', '-t', '30', a])
      eq(stop.code, 0, `podman stop: ${describe(stop)}`)
      const stopS = (Date.now() - t0) / 1000
      eq((await podman(['inspect', a, '--format', '{{.State.ExitCode}}'])).stdout.trim(), '143', 'exit code after podman stop')
      ok(stopS < 25, `podman stop took ${stopS.toFixed(1)} s (a clean power-down, not the 30 s kill)`)
      note(`podman stop: ${stopS.toFixed(1)} s`)
    } finally {
      if (names.length) await podman(['rm', '-f', ...names])
      await podman(['network', 'rm', '-f', net])
      rmSync(dir, { recursive: true, force: true })
    }
  },
} satisfies Case
