// packaging/loader-paths.ts — the package's loader and libc must not read configuration from the
// root they run in. Container-side programs (dnsmasq, QEMU, virtiofsd, dbclient, Node) run as root
// in the container, whose / is the image: glibc's ld.so would preload whatever the image's
// /etc/ld.so.preload names, consult the image's /etc/ld.so.cache, and libc would dlopen the NSS
// modules the image's /etc/nsswitch.conf names. Those paths are compiled into the binaries, so the
// packaged copies get them rewritten, byte for byte, to same-length paths inside the read-only
// package mount that do not exist there: the loader then preloads nothing, searches only the
// DT_RPATH every packaged ELF carries (and the default dirs), and libc uses its built-in NSS
// defaults ("files" and "dns", both inside libc since glibc 2.34). libc's iconv (used by glib in
// QEMU and virtiofsd, libidn2, libstdc++) would read the image's gconv-modules(.cache) in
// /usr/lib/x86_64-linux-gnu/gconv and dlopen the modules named there: its compiled-in gconv
// directory is rewritten the same way, so only the conversions built into libc remain (GCONV_PATH
// is never the image's: the container-side env is RunCVM's own). On the host the same paths do
// not exist either, so the host-side roles ignore the host's copies of these files too.

/** One rewrite: every NUL-terminated occurrence of `from` in `file` becomes `to` (same length). */
export interface PathRewrite {
  file: string
  from: string
  to: string
}

/** The package paths are under /.runcvm/guest (read-only in containers; absent from the package). */
export const LOADER_REWRITES: readonly PathRewrite[] = [
  { file: 'lib/ld-linux-x86-64.so.2', from: '/etc/ld.so.preload', to: '/.runcvm/guest/npl' },
  { file: 'lib/ld-linux-x86-64.so.2', from: '/etc/ld.so.cache', to: '/.runcvm/guest/c' },
  { file: 'lib/libc.so.6', from: '/etc/nsswitch.conf', to: '/.runcvm/guest/nss' },
  { file: 'lib/libc.so.6', from: '/usr/lib/x86_64-linux-gnu/gconv', to: '/.runcvm/guest/no-gconv-modules' },
  { file: 'lib/libc.so.6', from: '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache', to: '/.runcvm/guest/no-gconv-modules/gconv-modules.cache' },
]

/**
 * Replace every NUL-terminated `from` in `buf` by `to` (in a copy). Throws when the lengths differ
 * (the binary's layout must not move) or when `from` does not occur: a glibc that stored the path
 * differently must fail the build, not ship unpatched.
 */
export function rewriteCString(buf: Uint8Array, from: string, to: string): { data: Buffer; count: number } {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error(`rewrite '${from}' -> '${to}': lengths differ`)
  const needle = Buffer.from(`${from}\0`)
  const repl = Buffer.from(`${to}\0`)
  const data = Buffer.from(buf)
  let count = 0
  for (let at = data.indexOf(needle); at !== -1; at = data.indexOf(needle, at + needle.length)) {
    repl.copy(data, at)
    count++
  }
  if (count === 0) throw new Error(`rewrite '${from}' -> '${to}': '${from}' not found`)
  return { data, count }
}
