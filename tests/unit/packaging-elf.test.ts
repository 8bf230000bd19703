// Unit tests for packaging/elf.ts over synthetic ELF64 images (no host binaries, no tools).
import { describe, expect, it } from 'vitest'
import { isElf, parseElf } from '../../packaging/elf'

/** A minimal ELF64 LE: PT_LOAD mapping the file at 0x400000, optional PT_INTERP and PT_DYNAMIC. */
function makeElf(opts: { interp?: string; needed?: string[]; rpath?: string; runpath?: string; soname?: string; type?: number }): Buffer {
  const base = 0x400000
  const strs: string[] = ['']
  const strOff = (s: string) => {
    const off = strs.join('\0').length + 1
    strs.push(s)
    return off
  }
  const dyn: [number, number][] = []
  for (const n of opts.needed ?? []) dyn.push([1, strOff(n)])
  if (opts.soname) dyn.push([14, strOff(opts.soname)])
  if (opts.rpath) dyn.push([15, strOff(opts.rpath)])
  if (opts.runpath) dyn.push([29, strOff(opts.runpath)])
  const strtab = Buffer.from(`${strs.join('\0')}\0`, 'latin1')
  const withDyn = opts.needed !== undefined
  const phnum = 1 + (opts.interp ? 1 : 0) + (withDyn ? 1 : 0)
  const phoff = 64
  const interpOff = phoff + phnum * 56
  const interp = opts.interp ? Buffer.from(`${opts.interp}\0`, 'latin1') : Buffer.alloc(0)
  const strtabOff = interpOff + interp.length
  const dynOff = strtabOff + strtab.length + ((8 - ((strtabOff + strtab.length) % 8)) % 8)
  const dynEntries = [...dyn, [5, base + strtabOff] as [number, number], [0, 0] as [number, number]]
  const size = dynOff + dynEntries.length * 16
  const b = Buffer.alloc(size)
  b.write('\x7fELF', 0, 'latin1')
  b[4] = 2
  b[5] = 1
  b[6] = 1
  b.writeUInt16LE(opts.type ?? 3, 16)
  b.writeUInt16LE(62, 18)
  b.writeBigUInt64LE(BigInt(phoff), 32)
  b.writeUInt16LE(64, 52)
  b.writeUInt16LE(56, 54)
  b.writeUInt16LE(phnum, 56)
  let p = phoff
  const ph = (type: number, off: number, len: number) => {
    b.writeUInt32LE(type, p)
    b.writeBigUInt64LE(BigInt(off), p + 8)
    b.writeBigUInt64LE(BigInt(base + off), p + 16)
    b.writeBigUInt64LE(BigInt(len), p + 32)
    b.writeBigUInt64LE(BigInt(len), p + 40)
    p += 56
  }
  ph(1, 0, size)
  if (opts.interp) ph(3, interpOff, interp.length)
  if (withDyn) ph(2, dynOff, dynEntries.length * 16)
  interp.copy(b, interpOff)
  strtab.copy(b, strtabOff)
  dynEntries.forEach(([t, v], i) => {
    b.writeBigInt64LE(BigInt(t), dynOff + i * 16)
    b.writeBigUInt64LE(BigInt(v), dynOff + i * 16 + 8)
  })
  return b
}

describe('parseElf', () => {
  it('reads interpreter, DT_NEEDED in order and a forced DT_RPATH', () => {
    const info = parseElf(makeElf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libz.so.1', 'libc.so.6'], rpath: '$ORIGIN/../../lib' }))
    expect(info).toMatchObject({ type: 3, interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libz.so.1', 'libc.so.6'], rpath: '$ORIGIN/../../lib', dynamic: true })
    expect(info.runpath).toBeUndefined()
  })

  it('tells RUNPATH apart from RPATH and reads the soname of a library', () => {
    const info = parseElf(makeElf({ needed: ['libc.so.6'], runpath: '$ORIGIN', soname: 'libfoo.so.1' }))
    expect(info).toMatchObject({ runpath: '$ORIGIN', soname: 'libfoo.so.1', interp: undefined })
    expect(info.rpath).toBeUndefined()
  })

  it('reports a static executable as not dynamic', () => {
    const info = parseElf(makeElf({ type: 2 }))
    expect(info).toEqual({ type: 2, interp: undefined, needed: [], dynamic: false })
  })

  it('rejects non-ELF and 32-bit input', () => {
    expect(isElf(Buffer.from('#!/bin/sh\n'))).toBe(false)
    expect(() => parseElf(Buffer.from('#!/bin/sh\n'))).toThrow(/not an ELF/)
    const b = makeElf({ type: 2 })
    b[4] = 1
    expect(() => parseElf(b)).toThrow(/ELF64/)
  })
})
