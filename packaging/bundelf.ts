// packaging/bundelf.ts — our BundELF: put dynamically linked ELFs into the tree so they run from
// /.runcvm/guest inside ANY image (even one without libc). For each ELF:
//   - its DT_NEEDED libraries are resolved (recursively) in the staging tree, never on the host,
//     and copied to lib/ under their real names plus their soname symlinks;
//   - executables get PT_INTERP = /.runcvm/guest/lib/ld-linux-x86-64.so.2;
//   - everything gets a *forced* DT_RPATH (patchelf --force-rpath) of $ORIGIN-relative lib dirs.
//     DT_RPATH, unlike DT_RUNPATH, also applies to the transitive dependencies and is searched
//     before LD_LIBRARY_PATH and ld.so.cache, so an image's own libraries can never be picked up.
// Setuid/setgid bits are dropped (the tree is mounted into untrusted images).
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { basename, dirname, join, posix } from 'node:path'
import { isElf, parseElf, type ElfInfo } from './elf'
import { INTERP, LIB_DIR, rpathFor } from './plan'
import { resolveInRoot, run } from './util'

const LOADER = 'ld-linux-x86-64.so.2'
/** Library search dirs inside the staging tree (Debian multiarch, then legacy). */
const STAGING_LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'lib', 'usr/lib']

export type ElfRole = 'exe' | 'plugin'

export class Bundler {
  /** soname → tree-relative path of the copied library (lib/<real name>). */
  private libs = new Map<string, string>()
  readonly patched: string[] = []
  readonly statics: string[] = []

  constructor(
    private staging: string,
    private out: string,
  ) {}

  /** Add an ELF from an absolute source path at tree-relative `dst`. */
  addElf(src: string, dst: string, role: ElfRole = 'exe', extraLibDirs: readonly string[] = []): void {
    const target = join(this.out, dst)
    mkdirSync(dirname(target), { recursive: true })
    rmSync(target, { force: true })
    copyFileSync(src, target)
    chmodSync(target, role === 'exe' ? 0o755 : 0o644)
    const info = parseElf(readFileSync(target))
    if (!info.dynamic) {
      this.statics.push(dst)
      return
    }
    this.copyDeps(info, src)
    const args = ['--force-rpath', '--set-rpath', rpathFor(dst, [LIB_DIR, ...extraLibDirs])]
    if (info.interp) args.unshift('--set-interpreter', INTERP)
    run('patchelf', [...args, target])
    this.patched.push(dst)
  }

  /** Add a file from the staging tree (symlinks resolved inside it). */
  addFromStaging(rel: string, dst: string, role: ElfRole = 'exe', extraLibDirs: readonly string[] = []): void {
    const real = resolveInRoot(this.staging, rel)
    if (!real) throw new Error(`staging tree has no ${rel} (wrong package or path?)`)
    this.addElf(join(this.staging, real), dst, role, extraLibDirs)
  }

  get libraryCount(): number {
    return new Set(this.libs.values()).size
  }

  private findLib(soname: string, requester: string, info: ElfInfo): string | undefined {
    const dirs: string[] = []
    // The requester's own RPATH/RUNPATH, mapped into the staging tree ($ORIGIN = its staging dir).
    for (const p of [info.rpath, info.runpath]) {
      if (!p) continue
      for (const d of p.split(':')) {
        if (!d) continue
        const origin = posix.dirname(requester.startsWith(this.staging) ? requester.slice(this.staging.length) : '/')
        dirs.push(d.replace(/^\$ORIGIN|^\$\{ORIGIN\}/, origin).replace(/^\/+/, ''))
      }
    }
    dirs.push(...STAGING_LIB_DIRS)
    for (const d of dirs) {
      const real = resolveInRoot(this.staging, `${d}/${soname}`)
      if (real) return real
    }
    return undefined
  }

  /** Copy the DT_NEEDED closure of one ELF (given its parsed info and staging source path). */
  private copyDeps(info: ElfInfo, src: string): void {
    for (const soname of info.needed) {
      if (this.libs.has(soname)) continue
      const real = this.findLib(soname, src, info)
      if (!real) throw new Error(`${basename(src)}: needs ${soname}, which no staged package provides (add its package to TOP_PACKAGES)`)
      const realName = basename(real)
      const dst = `${LIB_DIR}/${realName}`
      const target = join(this.out, dst)
      this.libs.set(soname, dst)
      if (!existsSync(target)) {
        mkdirSync(dirname(target), { recursive: true })
        copyFileSync(join(this.staging, real), target)
        chmodSync(target, 0o644)
        const libInfo = parseElf(readFileSync(target))
        this.copyDeps(libInfo, join(this.staging, real))
        // The loader must stay untouched; every other library looks next to itself.
        if (realName !== LOADER) {
          run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', target])
          this.patched.push(dst)
        } else chmodSync(target, 0o755)
      }
      if (soname !== realName) {
        const link = join(this.out, LIB_DIR, soname)
        rmSync(link, { force: true })
        symlinkSync(realName, link)
      }
    }
  }
}

export function looksLikeElf(path: string): boolean {
  try {
    return isElf(readFileSync(path).subarray(0, 4))
  } catch {
    return false
  }
}
