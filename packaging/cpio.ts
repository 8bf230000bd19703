// packaging/cpio.ts — a "newc" (SVR4, no CRC) cpio archive writer, the format the kernel unpacks as an
// initramfs (Documentation/driver-api/early-userspace/buffer-format.rst). Pure: entries in, Buffer
// out, so the initramfs is byte-for-byte reproducible (fixed mtimes, uid/gid 0) and needs neither
// the cpio tool nor root (device nodes are written as entries, not mknod'ed on the host).

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number }

const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const S_IFCHR = 0o020000

const hex8 = (n: number) => n.toString(16).padStart(8, '0')
const pad4 = (n: number) => (4 - (n % 4)) % 4

function header(f: { ino: number; mode: number; nlink: number; size: number; rmaj: number; rmin: number; name: string }): Buffer {
  const name = Buffer.from(`${f.name}\0`, 'latin1')
  const fields = [
    '070701',
    hex8(f.ino),
    hex8(f.mode),
    hex8(0), // uid
    hex8(0), // gid
    hex8(f.nlink),
    hex8(0), // mtime: fixed for reproducibility
    hex8(f.size),
    hex8(0), // devmajor
    hex8(0), // devminor
    hex8(f.rmaj),
    hex8(f.rmin),
    hex8(name.length),
    hex8(0), // check (unused in newc)
  ].join('')
  const head = Buffer.concat([Buffer.from(fields, 'latin1'), name])
  return Buffer.concat([head, Buffer.alloc(pad4(head.length))])
}

/** Build a newc archive. Paths are relative (no leading '/'); parents must precede children. */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = []
  let ino = 1
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '')
    let mode: number
    let data: Buffer = Buffer.alloc(0)
    let rmaj = 0
    let rmin = 0
    switch (e.kind) {
      case 'dir':
        mode = S_IFDIR | (e.mode ?? 0o755)
        break
      case 'file':
        mode = S_IFREG | (e.mode ?? 0o644)
        data = e.data
        break
      case 'symlink':
        mode = S_IFLNK | 0o777
        data = Buffer.from(e.target, 'latin1')
        break
      case 'chardev':
        mode = S_IFCHR | (e.mode ?? 0o600)
        rmaj = e.major
        rmin = e.minor
        break
    }
    parts.push(header({ ino: ino++, mode, nlink: e.kind === 'dir' ? 2 : 1, size: data.length, rmaj, rmin, name }))
    parts.push(data, Buffer.alloc(pad4(data.length)))
  }
  parts.push(header({ ino: 0, mode: 0, nlink: 1, size: 0, rmaj: 0, rmin: 0, name: 'TRAILER!!!' }))
  return Buffer.concat(parts)
}
