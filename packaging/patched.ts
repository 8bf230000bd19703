// packaging/patched.ts — rebuild dnsmasq and dropbear from Debian's source packages with our patches
// (patches/<pkg>/), because images without /etc/passwd break the stock binaries:
//   dnsmasq  dies with "unknown user or group" when `-u root` cannot be looked up;
//   dropbear cannot log anyone in without a passwd entry, reads keys from ~/.ssh, keeps host keys
//            in /etc/dropbear, prints a MOTD, and dbclient -y -y prints a caution line on stderr.
// Sources come from `apt-get source` (needs a deb-src entry: we add our own private sources file
// mirroring the machine's deb entries). Results are cached in .cache/patched/<pkg>-<key>/, keyed by
// the source version and the hash of patches/<pkg>/*, so a rebuild only happens when either changes.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, sha256, step } from './util'
import { PKG } from '../lib/paths.js'

export interface PatchedPackage {
  /** Debian source package name. */
  source: string
  /** Binaries produced: [path in the build dir, tree-relative destination]. */
  outputs: [string, string][]
  /** Configure + build, in the unpacked and patched source dir. */
  build(dir: string): void
}

export const PATCHED: PatchedPackage[] = [
  {
    source: 'dnsmasq',
    outputs: [['src/dnsmasq', PKG.dnsmasq]],
    // dnsmasq has no configure; plain `make` gives DNS + DHCP without D-Bus/IDN/conntrack extras,
    // which RunCVM does not use (and which would only add libraries to the tree).
    build: dir => run('make', ['-j2', 'COPTS=-O2'], { cwd: dir }),
  },
  {
    source: 'dropbear',
    outputs: [
      ['dropbear', PKG.dropbear],
      ['dbclient', PKG.dbclient],
      ['dropbearkey', PKG.dropbearkey],
    ],
    build: dir => {
      // Debian's localoptions.h plus ours (options set there win over default_options.h).
      const local = readFileSync(join(dir, 'debian', 'localoptions.h'), 'utf8')
      const ours = readFileSync(join(dir, 'runcvm-localoptions.h'), 'utf8')
      writeFileSync(join(dir, 'localoptions.h'), `${local}\n${ours}`)
      // Bundled libtom: two fewer shared libraries to carry.
      run('./configure', ['--disable-pam', '--disable-lastlog', '--disable-utmp', '--disable-utmpx', '--disable-wtmp', '--disable-wtmpx'], { cwd: dir })
      run('make', ['-j2', 'PROGRAMS=dropbear dbclient dropbearkey'], { cwd: dir })
    },
  },
]

/**
 * deb-src entries mirroring the machine's deb entries, in whichever format the machine uses:
 * deb822 stanzas (`Types: deb` in *.sources, Debian 12's default) or one-line `deb ...` entries
 * (sources.list, e.g. debootstrap'd systems). Returns undefined when deb-src is already there.
 */
export function debSrcEntries(files: { name: string; text: string }[]): { name: string; text: string } | undefined {
  if (files.some(f => /^\s*deb-src\s/m.test(f.text) || /^Types:.*\bdeb-src\b/m.test(f.text))) return undefined
  const stanzas = files
    .filter(f => f.name.endsWith('.sources'))
    .flatMap(f => f.text.split(/\n\s*\n/))
    .filter(st => /^Types:\s*deb\s*$/m.test(st) && /^URIs:.*debian/m.test(st))
  if (stanzas.length) {
    return { name: 'runcvm-src.sources', text: stanzas.map(st => st.trim().replace(/^Types:\s*deb\s*$/m, 'Types: deb-src')).join('\n\n') + '\n' }
  }
  const lines = files
    .filter(f => f.name.endsWith('.list'))
    .flatMap(f => f.text.split('\n'))
    .filter(l => /^\s*deb\s/.test(l) && /debian/.test(l))
    .map(l => l.trim().replace(/^deb\s/, 'deb-src '))
  if (lines.length) return { name: 'runcvm-src.list', text: lines.join('\n') + '\n' }
  throw new Error('no Debian deb entry found in /etc/apt/sources.list or /etc/apt/sources.list.d to derive a deb-src entry from')
}

/** Add a deb-src entry (private file) mirroring the machine's deb entries, then apt-get update. */
export function ensureDebSrc(): void {
  const srcsDir = '/etc/apt/sources.list.d'
  const files = [
    ...(existsSync('/etc/apt/sources.list') ? [{ name: 'sources.list', text: readFileSync('/etc/apt/sources.list', 'utf8') }] : []),
    ...readdirSync(srcsDir)
      .filter(f => f.endsWith('.list') || f.endsWith('.sources'))
      .map(f => ({ name: f, text: readFileSync(join(srcsDir, f), 'utf8') })),
  ]
  const entry = debSrcEntries(files)
  if (!entry) return
  const file = join(srcsDir, entry.name)
  step(`adding ${file} (deb-src for the machine's Debian mirrors) and running apt-get update`)
  writeFileSync(file, entry.text)
  run('apt-get', ['update', '-q'])
}

function patchFiles(repo: string, pkg: string): string[] {
  const dir = join(repo, 'patches', pkg)
  return existsSync(dir) ? readdirSync(dir).sort().map(f => join(dir, f)) : []
}

/** The source dir from `apt-get source` under <cache>/src (fetched when absent). */
function sourceDir(cache: string, pkg: string): { dir: string; version: string } {
  const src = join(cache, 'src')
  mkdirSync(src, { recursive: true })
  const find = () => readdirSync(src).find(f => f.startsWith(`${pkg}_`) && f.endsWith('.dsc'))
  if (!find()) {
    ensureDebSrc()
    step(`apt-get source ${pkg}`)
    run('apt-get', ['source', '-q', pkg], { cwd: src })
  }
  const dsc = find()!
  const version = dsc.slice(pkg.length + 1, -4)
  const upstream = version.replace(/^\d+:/, '').replace(/-[^-]*$/, '')
  const dir = join(src, `${pkg}-${upstream}`)
  if (!existsSync(dir)) run('dpkg-source', ['-x', dsc], { cwd: src })
  return { dir, version }
}

/**
 * Build (or take from the cache) the patched binaries. Returns absolute paths keyed by tree
 * destination; on failure, returns what could be built and the reasons for the rest.
 */
export function buildPatched(repo: string, cache: string): { binaries: Map<string, string>; failures: string[]; notes: string[] } {
  const binaries = new Map<string, string>()
  const failures: string[] = []
  const notes: string[] = []
  for (const p of PATCHED) {
    try {
      const patches = patchFiles(repo, p.source)
      const { dir: src, version } = sourceDir(cache, p.source)
      const key = sha256(version, ...patches.map(f => readFileSync(f)), p.build.toString()).slice(0, 12)
      const outDir = join(cache, 'patched', `${p.source}-${key}`)
      if (!existsSync(join(outDir, '.done'))) {
        step(`rebuilding ${p.source} ${version} with ${patches.length} RunCVM patch file(s)`)
        const work = join(cache, 'patched', `build-${p.source}`)
        rmSync(work, { recursive: true, force: true })
        cpSync(src, work, { recursive: true, verbatimSymlinks: true })
        for (const f of patches) {
          if (f.endsWith('.patch')) run('patch', ['-p1', '--forward', '-i', f], { cwd: work })
          else if (f.endsWith('.h')) copyFileSync(f, join(work, `runcvm-${f.split('/').pop()!.replace(/-runcvm/, '')}`))
        }
        p.build(work)
        rmSync(outDir, { recursive: true, force: true })
        mkdirSync(outDir, { recursive: true })
        for (const [from] of p.outputs) copyFileSync(join(work, from), join(outDir, from.split('/').pop()!))
        writeFileSync(join(outDir, '.done'), `${p.source} ${version}\n`)
        rmSync(work, { recursive: true, force: true })
      }
      for (const [from, to] of p.outputs) binaries.set(to, join(outDir, from.split('/').pop()!))
      notes.push(`${p.source} ${version} + ${patches.map(f => f.split('/').pop()).join(', ')}`)
    } catch (e) {
      failures.push(`${p.source}: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}`)
    }
  }
  return { binaries, failures, notes }
}
