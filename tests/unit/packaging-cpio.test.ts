// Unit tests for packaging/cpio.ts: the newc layout the kernel's initramfs unpacker expects.
import { describe, expect, it } from 'vitest'
import { buildCpio } from '../../packaging/cpio'

/** Parse newc back into {name, mode, size, rdev, data} records (enough to check the writer). */
function readCpio(buf: Buffer) {
  const out: { name: string; mode: number; data: string; rmaj: number; rmin: number }[] = []
  let off = 0
  const field = (i: number) => parseInt(buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16)
  for (;;) {
    expect(buf.toString('latin1', off, off + 6)).toBe('070701')
    const mode = field(1)
    const size = field(6)
    const rmaj = field(9)
    const rmin = field(10)
    const namesize = field(11)
    const name = buf.toString('latin1', off + 110, off + 110 + namesize - 1)
    let p = off + 110 + namesize
    p += (4 - (p % 4)) % 4
    const data = buf.toString('latin1', p, p + size)
    p += size
    p += (4 - (p % 4)) % 4
    off = p
    if (name === 'TRAILER!!!') break
    out.push({ name, mode, data, rmaj, rmin })
  }
  return { entries: out, end: off }
}

describe('buildCpio', () => {
  it('writes dirs, files, symlinks and device nodes with 4-byte alignment and a trailer', () => {
    const buf = buildCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: '/bin/busybox', data: Buffer.from('abcde'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ])
    const { entries, end } = readCpio(buf)
    expect(end).toBe(buf.length)
    expect(entries.map(e => [e.name, e.mode.toString(8), e.data])).toEqual([
      ['bin', '40755', ''],
      ['bin/busybox', '100755', 'abcde'],
      ['bin/sh', '120777', 'busybox'],
      ['dev/console', '20600', ''],
    ])
    expect(entries[3]).toMatchObject({ rmaj: 5, rmin: 1 })
  })

  it('is reproducible (no timestamps, owners or host inode numbers)', () => {
    const e = [{ kind: 'file' as const, path: 'init', data: Buffer.from('#!/bin/sh\n') }]
    expect(buildCpio(e).equals(buildCpio(e))).toBe(true)
  })
})
