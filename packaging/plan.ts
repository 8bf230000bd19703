// packaging/plan.ts — pure planning helpers for the package build: what goes where, rpath strings,
// parsers for apt/ld.so/modprobe output, the packages.lock format. No I/O here (unit-tested in
// tests/unit/packaging-plan.test.ts); packaging/package.ts does the side effects.
import { posix } from 'node:path'
import { PKG, RUNCVM_GUEST } from '../lib/paths.js'

/** PT_INTERP of every packaged executable: the bundled loader where containers and VMs mount the tree. */
export const INTERP = `${RUNCVM_GUEST}/${PKG.loader}`
export const LIB_DIR = PKG.libDir

/** Top-level Debian packages we take files from. Library packages are added by dependency walk. */
export const TOP_PACKAGES = [
  'qemu-system-x86', // qemu-system-x86_64 + the TCG accelerator module
  'qemu-system-common', // /usr/lib/qemu/virtiofsd (the C daemon; bookworm has no rust virtiofsd)
  'qemu-system-data', // qboot, kvmvapic, linuxboot_dma, pvh, keymaps
  'seabios',
  'ipxe-qemu', // efi-virtio.rom: virtio-net-pci wants its option ROM
  'ovmf',
  'qemu-guest-agent',
  'dnsmasq-base',
  'dropbear-bin',
  'busybox-static',
  'iproute2',
  'iptables',
  'e2fsprogs',
  'util-linux', // blkid, findmnt
  'mount', // mount
  'ncurses-base', // terminfo for the curses display
  // Always needed by what we ship, named so the walk cannot miss them (Node links libstdc++).
  'libc6',
  'libgcc-s1',
  'libstdc++6',
] as const

/**
 * Files taken from the staging tree (where the .debs were extracted): [source, destination], both
 * relative. Sources may be symlinks inside the staging tree; they are resolved there.
 */
export const FILES: readonly (readonly [string, string])[] = [
  ['usr/bin/qemu-system-x86_64', PKG.qemu],
  ['usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so', `${PKG.qemuModules}/accel-tcg-x86_64.so`],
  // RUNCVM_DISPLAY_MODE=vnc defaults to VGA 'virtio' (-device virtio-vga), a loadable module that
  // needs the virtio-gpu base module; ~95 KB together, libpixman is already in the package.
  ['usr/lib/x86_64-linux-gnu/qemu/hw-display-virtio-vga.so', `${PKG.qemuModules}/hw-display-virtio-vga.so`],
  ['usr/lib/x86_64-linux-gnu/qemu/hw-display-virtio-gpu.so', `${PKG.qemuModules}/hw-display-virtio-gpu.so`],
  ['usr/lib/qemu/virtiofsd', PKG.virtiofsd],
  ['usr/sbin/dnsmasq', PKG.dnsmasq],
  ['usr/sbin/dropbear', PKG.dropbear],
  ['usr/bin/dbclient', PKG.dbclient],
  ['usr/bin/dropbearkey', PKG.dropbearkey],
  ['bin/busybox', PKG.busybox],
  ['bin/ip', PKG.ip],
  ['usr/sbin/xtables-nft-multi', PKG.xtables],
  ['usr/sbin/xtables-legacy-multi', 'usr/sbin/xtables-legacy-multi'],
  ['sbin/mke2fs', PKG.mke2fs],
  ['sbin/blkid', PKG.blkid],
  ['bin/findmnt', 'usr/bin/findmnt'],
  ['bin/mount', PKG.mount],
  ['usr/sbin/qemu-ga', PKG.qemuGa],
]

/** Symlinks inside the tree: [link, target] (target relative to the link's directory). */
export const LINKS: readonly (readonly [string, string])[] = [
  // The multi-call xtables binaries dispatch on argv[0]. nft is Debian bookworm's default.
  ['usr/sbin/iptables', 'xtables-nft-multi'],
  ['usr/sbin/ip6tables', 'xtables-nft-multi'],
  ['usr/sbin/iptables-nft', 'xtables-nft-multi'],
  ['usr/sbin/ip6tables-nft', 'xtables-nft-multi'],
  ['usr/sbin/iptables-legacy', 'xtables-legacy-multi'],
  ['usr/sbin/ip6tables-legacy', 'xtables-legacy-multi'],
  // QEMU relocates its compiled-in module dir (/usr/lib/x86_64-linux-gnu/qemu) against the
  // executable's dir, so this link makes the TCG module load even without QEMU_MODULE_DIR.
  ['usr/lib/x86_64-linux-gnu/qemu', '../qemu-modules'],
]

/** Directories of dlopen()ed plugins copied whole: [source dir, destination dir]. */
export const PLUGIN_DIRS: readonly (readonly [string, string])[] = [
  // iptables loads libxt_*.so/libipt_*.so from XTABLES_LIBDIR (roles must set it to this dir).
  ['usr/lib/x86_64-linux-gnu/xtables', PKG.xtablesLibdir],
]

/** Data directories/files: [source, destination]; directories are copied recursively. */
export const DATA: readonly (readonly [string, string])[] = [
  ['usr/share/seabios/bios-256k.bin', 'usr/share/qemu/bios-256k.bin'],
  ['usr/share/seabios/bios.bin', 'usr/share/qemu/bios.bin'],
  ['usr/share/seabios/vgabios-stdvga.bin', 'usr/share/qemu/vgabios-stdvga.bin'],
  ['usr/share/seabios/vgabios-virtio.bin', 'usr/share/qemu/vgabios-virtio.bin'],
  ['usr/share/seabios/vgabios-cirrus.bin', 'usr/share/qemu/vgabios-cirrus.bin'],
  ['usr/share/seabios/vgabios-qxl.bin', 'usr/share/qemu/vgabios-qxl.bin'],
  ['usr/share/seabios/vgabios-ramfb.bin', 'usr/share/qemu/vgabios-ramfb.bin'],
  ['usr/share/seabios/vgabios-bochs-display.bin', 'usr/share/qemu/vgabios-bochs-display.bin'],
  ['usr/share/qemu/bios-microvm.bin', 'usr/share/qemu/bios-microvm.bin'],
  ['usr/share/qemu/qboot.rom', 'usr/share/qemu/qboot.rom'],
  ['usr/share/qemu/kvmvapic.bin', 'usr/share/qemu/kvmvapic.bin'],
  ['usr/share/qemu/linuxboot.bin', 'usr/share/qemu/linuxboot.bin'],
  ['usr/share/qemu/linuxboot_dma.bin', 'usr/share/qemu/linuxboot_dma.bin'],
  ['usr/share/qemu/pvh.bin', 'usr/share/qemu/pvh.bin'],
  ['usr/share/qemu/multiboot.bin', 'usr/share/qemu/multiboot.bin'],
  ['usr/share/qemu/multiboot_dma.bin', 'usr/share/qemu/multiboot_dma.bin'],
  ['usr/share/qemu/keymaps', 'usr/share/qemu/keymaps'],
  ['usr/lib/ipxe/qemu/efi-virtio.rom', 'usr/share/qemu/efi-virtio.rom'],
  ['usr/lib/ipxe/qemu/efi-e1000.rom', 'usr/share/qemu/efi-e1000.rom'],
  ['usr/lib/ipxe/qemu/efi-e1000e.rom', 'usr/share/qemu/efi-e1000e.rom'],
  ['usr/share/OVMF', 'usr/share/OVMF'], // PKG.ovmfCode, PKG.ovmfVars
  ['lib/terminfo', PKG.terminfo],
]

/**
 * Busybox applets the roles use (bin/<applet> -> ../usr/bin/busybox). ip/mount/blkid/findmnt are
 * the real tools from usr/, not busybox's, so they are deliberately absent here.
 */
export const BUSYBOX_APPLETS = [
  'sh', 'ash', 'mkdir', 'ln', 'cat', 'cp', 'mv', 'echo', 'printf', 'test', '[', 'true', 'false', 'sleep',
  'poweroff', 'reboot', 'halt', 'sysctl', 'hostname', 'chmod', 'chown', 'chgrp', 'kill', 'init', 'modprobe',
  'insmod', 'lsmod', 'switch_root', 'arping', 'nc', 'ps', 'env', 'nproc', 'truncate', 'sed', 'awk', 'grep',
  'cut', 'head', 'tail', 'ls', 'rm', 'rmdir', 'touch', 'tr', 'stty', 'mountpoint', 'findfs', 'umount',
  'readlink', 'realpath', 'dirname', 'basename', 'id', 'uname', 'date', 'dmesg', 'wc', 'sort', 'xargs',
  'seq', 'stat', 'df', 'du', 'mknod', 'setsid', 'timeout', 'which', 'tee', 'sync', 'free', 'pidof',
] as const

/** `$ORIGIN`-relative path from directory `dir` (relative to the tree root) to `target` dir. */
export function originPath(dir: string, target: string): string {
  const rel = posix.relative(posix.normalize(dir), posix.normalize(target))
  return rel === '' ? '$ORIGIN' : `$ORIGIN/${rel}`
}

/** Forced DT_RPATH for an ELF at tree-relative `file`: every library dir, $ORIGIN-relative. */
export function rpathFor(file: string, libDirs: readonly string[] = [LIB_DIR]): string {
  const dir = posix.dirname(file)
  return libDirs.map(d => originPath(dir, d)).join(':')
}

/** Relative symlink target from link `link` to `target`, both tree-relative. */
export function relativeLink(link: string, target: string): string {
  return posix.relative(posix.dirname(link), target) || '.'
}

export interface AptDep {
  pkg: string
  /** Names of alternatives (`|Depends:` lines following it), first is preferred. */
  alternatives: string[]
  virtual: boolean
}

/**
 * Parse `apt-cache depends --no-recommends ... PKG...` output into {pkg: deps}. Only Depends and
 * PreDepends are kept. An alternative group is written as ` |Depends: a` then `  Depends: b`.
 * Virtual packages appear as `<name>`; they have provider lines indented below, which we skip.
 */
export function parseAptDepends(text: string): Map<string, AptDep[]> {
  const out = new Map<string, AptDep[]>()
  let cur: AptDep[] | undefined
  let pendingAlt: string[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (!line.startsWith(' ')) {
      cur = []
      out.set(line.trim(), cur)
      pendingAlt = []
      continue
    }
    const m = /^ ([ |])(Depends|PreDepends):\s+(\S+)/.exec(line)
    if (!m || !cur) continue
    const name = m[3]
    const virtual = name.startsWith('<')
    const clean = name.replace(/^<|>$/g, '').replace(/:any$/, '')
    if (m[1] === '|') {
      pendingAlt.push(clean)
      continue
    }
    const alternatives = [...pendingAlt, clean]
    pendingAlt = []
    cur.push({ pkg: alternatives[0], alternatives, virtual: virtual && alternatives.length === 1 })
  }
  return out
}

/**
 * Library closure over Depends: start at `top`, follow only packages that look like shared library
 * packages (lib*), since everything else (debconf, adduser, init-system-helpers) contributes no
 * sonames. `deps` maps a package to its parsed dependencies.
 */
export function libraryClosure(top: readonly string[], deps: Map<string, AptDep[]>): string[] {
  const seen = new Set<string>(top)
  const queue = [...top]
  while (queue.length) {
    const p = queue.shift()!
    for (const d of deps.get(p) ?? []) {
      if (d.virtual) continue
      const pick = d.alternatives.find(a => seen.has(a)) ?? d.pkg
      if (!/^(lib|zlib1g)/.test(pick) || seen.has(pick)) continue
      seen.add(pick)
      queue.push(pick)
    }
  }
  return [...seen].sort()
}

/** One `ld.so --list` line: soname → path, or not found. */
export interface LdEntry {
  name: string
  path?: string
  notFound: boolean
}

export function parseLdList(text: string): LdEntry[] {
  const out: LdEntry[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('linux-vdso') || line.startsWith('statically linked')) continue
    let m = /^(\S+) => not found/.exec(line)
    if (m) {
      out.push({ name: m[1], notFound: true })
      continue
    }
    m = /^(\S+) => (\S+) \(0x[0-9a-f]+\)/.exec(line)
    if (m) {
      out.push({ name: m[1], path: m[2], notFound: false })
      continue
    }
    m = /^(\/\S+) \(0x[0-9a-f]+\)/.exec(line)
    if (m) out.push({ name: posix.basename(m[1]), path: m[1], notFound: false })
  }
  return out
}

/** Problems for one ELF: libraries not found or resolved outside `treeRoot`. */
export function ldProblems(entries: LdEntry[], treeRoot: string): string[] {
  const root = treeRoot.endsWith('/') ? treeRoot : `${treeRoot}/`
  return entries.flatMap(e =>
    e.notFound ? [`${e.name}: not found`] : e.path && !posix.normalize(e.path).startsWith(root) ? [`${e.name} => ${e.path} (outside the tree)`] : [],
  )
}

/** `modprobe --show-depends` output → module file paths in load order (builtins skipped). */
export function parseShowDepends(text: string): string[] {
  return text
    .split('\n')
    .map(l => /^insmod (\S+)/.exec(l.trim())?.[1])
    .filter((x): x is string => !!x)
}

/** Merge several load-order lists, keeping the first occurrence of each module. */
export function mergeLoadOrder(lists: string[][]): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const l of lists) for (const m of l) if (!seen.has(m)) (seen.add(m), out.push(m))
  return out
}

/** packages.lock: `name=version` lines, sorted, with a header comment. */
export function formatLock(pkgs: Map<string, string>): string {
  const lines = [...pkgs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([n, v]) => `${n}=${v}`)
  return `# Debian bookworm packages the package tree is built from (written by packaging/package.ts).\n# Re-resolve with: node build.mjs --relock\n${lines.join('\n')}\n`
}

export function parseLock(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const i = line.indexOf('=')
    if (i <= 0) throw new Error(`packages.lock: bad line "${line}"`)
    out.set(line.slice(0, i), line.slice(i + 1))
  }
  return out
}

/** Debian's .deb file name for name/version/arch (epoch colon becomes %3a). */
export function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`
}
