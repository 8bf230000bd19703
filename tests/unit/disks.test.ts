// lib/disks.ts: RUNCVM_DISKS parsing, the per-disk command plan and its fstab line.
import { describe, expect, it } from 'vitest'
import { diskFstabLine, parseDisks, planDisk } from '../../lib/disks.js'

describe('RUNCVM_DISKS', () => {
  it('parses specs', () => {
    expect(parseDisks('/d1,/data,ext4,1G;/d2,/var,ext4')).toEqual([
      { spec: '/d1,/data,ext4,1G', src: '/d1', dst: '/data', fs: 'ext4', size: '1G' },
      { spec: '/d2,/var,ext4', src: '/d2', dst: '/var', fs: 'ext4' },
    ])
    expect(parseDisks('')).toEqual([])
  })
  it.each([
    ['/d1,/data', "disk spec '/d1,/data' invalid: src, dst and fs must all be specified"],
    ['/x,/x,ext4', "disk spec '/x,/x,ext4' invalid: src '/x' cannot be same as dst"],
  ])('%s', (spec, msg) => expect(() => parseDisks(spec)).toThrow(msg))
  const tools = { busybox: '/bb', mke2fs: '/mke2fs', vmMount: '/vm' }
  const none = { srcExists: false, srcIsFile: false, dstExists: false, dstIsDir: false }
  it('filesystem checks use upstream texts', () => {
    const [d] = parseDisks('/d/1,/data,ext4')
    expect(() => planDisk(d, { ...none, srcExists: true }, tools, 'u')).toThrow("src '/d/1' must be a plain file if it exists")
    expect(() => planDisk(d, { ...none, dstExists: true }, tools, 'u')).toThrow("dst '/data' must be a directory if it exists")
    expect(() => planDisk(d, none, tools, 'u')).toThrow("size must be specified if src '/d/1' does not exist")
  })
  it('creates and formats a missing backing file from dst', () => {
    const [d] = parseDisks('/d/1,/data,ext4,1G')
    const uuid = '0b8c7a1e-5d3f-4c2a-9e61-7f0d2b4a6c88'
    expect(planDisk(d, none, tools, uuid)).toEqual({
      disk: d,
      cmds: [
        ['/bb', 'mkdir', '-p', '/d'], ['/bb', 'truncate', '-s', '1G', '/d/1'], ['/bb', 'mkdir', '-p', '/vm/data'],
        ['/mke2fs', '-q', '-F', '-t', 'ext4', '-U', uuid, '-d', '/vm/data', '/d/1'],
      ],
      fstab: `UUID=${uuid} /data ext4 defaults,noatime 0 0`,
    })
    expect(planDisk(d, { ...none, srcExists: true, srcIsFile: true, uuid: 'abcd' }, tools, uuid))
      .toEqual({ disk: d, cmds: [['/bb', 'mkdir', '-p', '/vm/data']], fstab: 'UUID=abcd /data ext4 defaults,noatime 0 0' })
    expect(diskFstabLine(d, 'abcd')).toBe('UUID=abcd /data ext4 defaults,noatime 0 0')
  })
})

describe('RUNCVM_DISKS values that reach fstab and -drive', () => {
  it.each([
    ['disk1,/data,ext4,1G', "src 'disk1' must be an absolute path"],
    ['nbd:localhost:10809,/data,ext4', "src 'nbd:localhost:10809' must be an absolute path"],
    ['/d1,data,ext4', "dst 'data' must be an absolute path"],
    ['/d1,/da ta,ext4', 'must not contain whitespace or control characters'],
    ['/d1,/data\tx,ext4', 'must not contain whitespace or control characters'],
    ['/d1,/data\nnone /etc tmpfs,ext4', 'must not contain whitespace or control characters'],
    ['/d1,/a/../etc,ext4', "must not contain '..' components"],
    ['/disks/../x,/data,ext4', "src '/disks/../x' must not contain '..' components"],
    ['/d1,/data,ext4 x', "fs 'ext4 x' must be a filesystem type"],
    ['/d1,/data,EXT4', "fs 'EXT4' must be a filesystem type"],
    ['/d1,/data,ext4\n/dev/sda', 'must be a filesystem type'],
  ])('%j refused', (spec, msg) => {
    expect(() => parseDisks(spec)).toThrow(msg)
    expect(() => parseDisks(spec)).toThrow('RUNCVM_DISKS')
  })
  it('plain absolute paths and names pass', () => {
    expect(parseDisks('/disks/a..b,/var/lib/x.y,ext4,1G')[0]).toMatchObject({ src: '/disks/a..b', dst: '/var/lib/x.y', fs: 'ext4' })
  })
})
