// packaging/debs.ts — Debian packages: resolve the package set (top packages + the library packages
// they depend on), pin it in packaging/packages.lock, download with `apt-get download` into the cache
// and extract with `dpkg-deb -x` into one staging tree. Nothing is installed on the host.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TOP_PACKAGES, debFileName, formatLock, libraryClosure, parseAptDepends, parseLock, type AptDep } from './plan'
import { run, sha256, step } from './util'

const APT_DEPENDS_FLAGS = ['--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances']

/** apt-get download needs the package lists; say so plainly instead of failing on every package. */
export function checkAptLists(): void {
  const dir = '/var/lib/apt/lists'
  const lists = existsSync(dir) ? readdirSync(dir).filter(f => f.includes('_Packages')) : []
  if (lists.length === 0) throw new Error('apt package lists are missing: run `apt-get update` first (as root)')
}

/** Walk Depends level by level (one apt-cache call per level) and keep library packages. */
function resolvePackageSet(): string[] {
  const deps = new Map<string, AptDep[]>()
  let frontier: string[] = [...TOP_PACKAGES]
  while (frontier.length) {
    const parsed = parseAptDepends(run('apt-cache', ['depends', ...APT_DEPENDS_FLAGS, ...frontier]))
    for (const [k, v] of parsed) deps.set(k, v)
    const closure = libraryClosure(TOP_PACKAGES, deps)
    frontier = closure.filter(p => !deps.has(p))
  }
  return libraryClosure(TOP_PACKAGES, deps)
}

/** Candidate versions from `apt-cache show --no-all-versions`. */
function candidateVersions(pkgs: string[]): Map<string, string> {
  const out = new Map<string, string>()
  const text = run('apt-cache', ['show', '--no-all-versions', ...pkgs])
  let name = ''
  for (const line of text.split('\n')) {
    if (line.startsWith('Package: ')) name = line.slice(9).trim()
    else if (line.startsWith('Version: ') && name && !out.has(name)) out.set(name, line.slice(9).trim())
  }
  for (const p of pkgs) if (!out.has(p)) throw new Error(`apt-cache has no candidate for ${p}`)
  return out
}

/** The pinned package set: packaging/packages.lock, or re-resolved with --relock (or when absent). */
export function lockedPackages(repo: string, relock: boolean): Map<string, string> {
  const lockPath = join(repo, 'packaging', 'packages.lock')
  if (existsSync(lockPath) && !relock) {
    const locked = parseLock(readFileSync(lockPath, 'utf8'))
    const missing = TOP_PACKAGES.filter(p => !locked.has(p))
    if (missing.length === 0) return locked
    step(`packages.lock lacks ${missing.join(', ')}: re-resolving`)
  }
  step('resolving the Debian package set (apt-cache depends)')
  const pkgs = candidateVersions(resolvePackageSet())
  writeFileSync(lockPath, formatLock(pkgs))
  step(`wrote packaging/packages.lock (${pkgs.size} packages)`)
  return pkgs
}

function findDeb(dir: string, name: string, version: string): string | undefined {
  for (const arch of ['amd64', 'all']) {
    const f = join(dir, debFileName(name, version, arch))
    if (existsSync(f)) return f
  }
  return undefined
}

/** Package names from apt's "Version 'V' for 'NAME' was not found" lines. */
export function staleVersions(aptError: string): string[] {
  return [...aptError.matchAll(/Version '[^']*' for '([^']+)' was not found/g)].map(m => m[1])
}

/** Download what the cache lacks (one apt-get call), return the .deb paths. */
export function downloadDebs(cache: string, pkgs: Map<string, string>): string[] {
  const dir = join(cache, 'debs')
  mkdirSync(dir, { recursive: true })
  const want = [...pkgs].filter(([n, v]) => !findDeb(dir, n, v))
  if (want.length) {
    step(`apt-get download: ${want.length} package(s)`)
    try {
      run('apt-get', ['download', '-q', ...want.map(([n, v]) => `${n}=${v}`)], { cwd: dir })
    } catch (e) {
      // Debian's mirrors keep only the newest version of a package in bookworm-security and
      // bookworm-updates, so a pin goes stale as soon as a fix is published. Rather than fail
      // the build, take the candidate version of exactly the packages whose pin vanished, say so
      // loudly, and keep the lock file as it is (`--relock` rewrites it on purpose).
      const gone = staleVersions(String((e as Error).message))
      if (gone.length === 0) throw e
      const now = candidateVersions(gone)
      for (const name of gone) {
        step(`warning: ${name}=${pkgs.get(name)} is no longer on the mirror; using ${now.get(name)} (run build with --relock to update packaging/packages.lock)`)
        pkgs.set(name, now.get(name)!)
      }
      const retry = [...pkgs].filter(([n, v]) => !findDeb(dir, n, v))
      if (retry.length) run('apt-get', ['download', '-q', ...retry.map(([n, v]) => `${n}=${v}`)], { cwd: dir })
    }
  }
  return [...pkgs].map(([n, v]) => {
    const f = findDeb(dir, n, v)
    if (!f) throw new Error(`download of ${n}=${v} produced no .deb in ${dir}`)
    return f
  })
}

/** Extract all .debs into one staging tree, cached by the exact package set. */
export function stageDebs(cache: string, pkgs: Map<string, string>, debs: string[]): string {
  const key = sha256(formatLock(pkgs)).slice(0, 16)
  const staging = join(cache, `staging-${key}`)
  const stamp = join(staging, '.runcvm-staged')
  if (existsSync(stamp)) return staging
  for (const d of readdirSync(cache).filter(f => f.startsWith('staging-'))) rmSync(join(cache, d), { recursive: true, force: true })
  step(`extracting ${debs.length} .debs into ${staging}`)
  mkdirSync(staging, { recursive: true })
  for (const deb of debs) run('dpkg-deb', ['-x', deb, staging])
  writeFileSync(stamp, `${key}\n`)
  return staging
}
