// packaging/elf.ts — the little ELF reading our BundELF needs: is it ELF, which interpreter does it ask
// for, which sonames does it need, and which RPATH/RUNPATH does it carry. 64-bit little-endian
// only (x86_64 is all we ship). Pure: takes a Buffer, returns data; never touches the filesystem.
//
// Why our own reader and not `ldd`/`readelf`: ldd on a foreign binary runs the host loader (it
// resolves against the host, not the staging tree), and readelf output is a format to scrape.
// The ELF structures below are from the System V gABI (Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn).

export interface ElfInfo {
  /** ET_EXEC (2) or ET_DYN (3); PIE executables and shared libraries are both ET_DYN. */
  type: number
  /** PT_INTERP string, or undefined for static binaries and most shared libraries. */
  interp?: string
  /** DT_NEEDED sonames in file order. */
  needed: string[]
  soname?: string
  rpath?: string
  runpath?: string
  /** true when the file has a PT_DYNAMIC segment (needs a loader or is a shared object). */
  dynamic: boolean
}

const PT_DYNAMIC = 2
const PT_INTERP = 3
const DT_NULL = 0
const DT_NEEDED = 1
const DT_STRTAB = 5
const DT_SONAME = 14
const DT_RPATH = 15
const DT_RUNPATH = 29

export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46
}

function cstr(buf: Buffer, off: number): string {
  let end = off
  while (end < buf.length && buf[end] !== 0) end++
  return buf.toString('latin1', off, end)
}

/** Parse an ELF64 LE image. Throws on anything else (the caller decides whether that matters). */
export function parseElf(buf: Buffer): ElfInfo {
  if (!isElf(buf)) throw new Error('not an ELF file')
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only ELF64 little-endian is supported')
  const type = buf.readUInt16LE(16)
  const phoff = Number(buf.readBigUInt64LE(32))
  const phentsize = buf.readUInt16LE(54)
  const phnum = buf.readUInt16LE(56)
  const loads: { vaddr: number; offset: number; filesz: number }[] = []
  let interp: string | undefined
  let dyn: { offset: number; size: number } | undefined
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize
    const ptype = buf.readUInt32LE(p)
    const offset = Number(buf.readBigUInt64LE(p + 8))
    const vaddr = Number(buf.readBigUInt64LE(p + 16))
    const filesz = Number(buf.readBigUInt64LE(p + 32))
    if (ptype === 1) loads.push({ vaddr, offset, filesz })
    else if (ptype === PT_INTERP) interp = cstr(buf, offset)
    else if (ptype === PT_DYNAMIC) dyn = { offset, size: filesz }
  }
  const info: ElfInfo = { type, interp, needed: [], dynamic: dyn !== undefined }
  if (!dyn) return info

  // DT_STRTAB holds a virtual address; map it to a file offset through the PT_LOAD segments.
  const toOffset = (addr: number): number => {
    for (const l of loads) if (addr >= l.vaddr && addr < l.vaddr + l.filesz) return addr - l.vaddr + l.offset
    throw new Error(`address 0x${addr.toString(16)} not in any PT_LOAD segment`)
  }
  const entries: [number, number][] = []
  for (let p = dyn.offset; p + 16 <= dyn.offset + dyn.size; p += 16) {
    const tag = Number(buf.readBigInt64LE(p))
    if (tag === DT_NULL) break
    entries.push([tag, Number(buf.readBigUInt64LE(p + 8))])
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1]
  if (strtabAddr === undefined) return info
  const strtab = toOffset(strtabAddr)
  for (const [tag, val] of entries) {
    if (tag === DT_NEEDED) info.needed.push(cstr(buf, strtab + val))
    else if (tag === DT_SONAME) info.soname = cstr(buf, strtab + val)
    else if (tag === DT_RPATH) info.rpath = cstr(buf, strtab + val)
    else if (tag === DT_RUNPATH) info.runpath = cstr(buf, strtab + val)
  }
  return info
}
