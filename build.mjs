#!/usr/bin/env node
// build.mjs — builds the RunCVM package tree under dist/opt/runcvm.
//
//   node build.mjs                 everything: role bundles + the package (binaries, kernels, native)
//   node build.mjs --scripts-only  just the role bundles (fast; what unit/bench work needs)
//
// Stage 1 (here): one esbuild bundle per scripts/<role>.ts, written to
// dist/opt/runcvm/scripts/runcvm-<role>: unminified and readable (users edit installed scripts in
// place), a banner naming the source, and a first line that runs it with the Node we ship.
// Stage 2 (packaging/package.ts, bundled on the fly and imported): the rest of the tree.
//
// Env: RUNCVM_BUILD_CACHE (default .cache/) holds downloads and rebuilt binaries between runs.
import { build } from 'esbuild'
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = dirname(fileURLToPath(import.meta.url))
export const OUT = join(repo, 'dist', 'opt', 'runcvm')

// Host-side roles run from /opt/runcvm with the bundled loader named explicitly (their PT_INTERP
// points at the /.runcvm/guest path, which does not exist on the host). Container/VM roles run
// from the read-only mount at /.runcvm/guest, where the bundled node's own PT_INTERP resolves.
// The shebangs come from lib/paths.ts (shebang()).
const HOST_ROLES = new Set(['runtime', 'install-runtime', 'doctor'])

// Size budgets (bytes). The runtime is exec'd by containerd for every runc verb: it stays small
// and zx-free (its pass-through path is the one start measured in bench/role-start-bench.mjs where
// zx/core's import would be the whole difference). Other roles may bundle zx/core (~110 KB), never
// the full zx entry (~880 KB, +19 ms per start). The runtime's 80 KB leaves room for the
// host-side checks it must do itself (safe file rewrites, image reads inside the root, init-layer
// mount points, the privileged-switch policy with its reads of Docker's records: 86 KB now; 73 KB
// before the policy). 96 KB: the extra source is only parsed, never run, on pass-through verbs.
const BUDGET = { runtime: 96 * 1024, default: 400 * 1024 }

/** Import a TypeScript module of this repository (bundled for this Node on the fly). */
async function importTs(rel) {
  const tmp = join(repo, 'dist', `.build-${basename(rel, '.ts')}.mjs`)
  await build({ entryPoints: [join(repo, rel)], outfile: tmp, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' })
  return import(tmp)
}

// Node 24 is what we ship (process.execve needs >= 22.15).
const NODE_TARGET = 'node24'

async function bundleScripts() {
  const { shebang, PKG } = await importTs('lib/paths.ts')
  const dir = join(OUT, PKG.scripts)
  mkdirSync(dir, { recursive: true })
  // The bundles are extensionless CommonJS files. Saying so spares Node's module-type detection,
  // and CommonJS starts faster than ESM: measured here on the runtime's pass-through path
  // (shipped Node 24, median of 30, interleaved): 28.8-32.4 ms as CommonJS vs 33.5-39.3 ms as
  // ESM, against 26.7-32.0 ms for `node -e 0` (bench/runtime-bench.mjs).
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n')
  const roles = readdirSync(join(repo, 'scripts')).filter(f => f.endsWith('.ts')).map(f => basename(f, '.ts')).sort()
  let failed = false
  for (const role of roles) {
    const outfile = join(dir, `runcvm-${role}`)
    const result = await build({
      entryPoints: [join(repo, 'scripts', `${role}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: NODE_TARGET,
      minify: false,
      keepNames: true,
      // Paths in the bundle's module comments stay as written (node_modules/minimist/...) even
      // where node_modules is a symlink: the bundle's bytes do not depend on the checkout layout.
      preserveSymlinks: true,
      legalComments: 'inline',
      metafile: true,
      logLevel: 'warning',
      banner: {
        js: [
          shebang(HOST_ROLES.has(role) ? 'host' : 'guest'),
          `// runcvm-${role}: built from scripts/${role}.ts by build.mjs (esbuild, not minified).`,
          '// Edit in place if you must; the source of truth is the RunCVM-TS repository.',
        ].join('\n'),
      },
    })
    chmodSync(outfile, 0o755)
    const size = statSync(outfile).size
    const budget = BUDGET[role] ?? BUDGET.default
    const inputs = Object.keys(result.metafile.inputs)
    const hasZx = inputs.some(p => p.includes('node_modules/zx/'))
    const flag = size > budget ? `  OVER BUDGET (${budget} B)` : ''
    console.log(`  scripts/runcvm-${role.padEnd(16)} ${String(size).padStart(8)} B${hasZx ? '  (zx)' : ''}${flag}`)
    if (size > budget) failed = true
    if (role === 'runtime' && hasZx) {
      console.error('  runcvm-runtime must not import zx (hot path)')
      failed = true
    }
    writeFileSync(join(repo, 'dist', `meta-${role}.json`), JSON.stringify(result.metafile))
  }
  if (failed) throw new Error('bundle size budget exceeded')
}

async function main() {
  const args = new Set(process.argv.slice(2))
  console.log('build: role bundles')
  await bundleScripts()
  if (args.has('--scripts-only')) return
  // Stage 2 lives in TypeScript; bundle it for this (system) Node and run it.
  const { buildPackage } = await importTs('packaging/package.ts')
  await buildPackage({ repo, out: OUT, args: [...args] })
}

main().catch(e => {
  console.error(`build failed: ${e?.stack ?? e}`)
  process.exit(1)
})
