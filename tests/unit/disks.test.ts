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
