import { describe, expect, it } from 'vitest'
import { LOADER_REWRITES, rewriteCString } from '../../packaging/loader-paths'

describe('packaging/loader-paths', () => {
  it('rewrites every NUL-terminated occurrence in place, leaving other bytes and longer strings alone', () => {
    const buf = Buffer.from('x\0/etc/ld.so.cache\0mid /etc/ld.so.cache\n/etc/ld.so.cache~\0/etc/ld.so.cache\0')
    const { data, count } = rewriteCString(buf, '/etc/ld.so.cache', '/.runcvm/guest/c')
    expect(count).toBe(2)
    expect(data.length).toBe(buf.length)
    expect(data.toString()).toBe('x\0/.runcvm/guest/c\0mid /etc/ld.so.cache\n/etc/ld.so.cache~\0/.runcvm/guest/c\0')
    expect(buf.toString()).toContain('x\0/etc/ld.so.cache\0') // the input is not modified
  })
  it('refuses a replacement of another length and a path that is not there', () => {
    expect(() => rewriteCString(Buffer.from('/etc/a\0'), '/etc/a', '/b')).toThrow(/lengths differ/)
    expect(() => rewriteCString(Buffer.from('/etc/b\0'), '/etc/a', '/etc/c')).toThrow(/not found/)
  })
  it('every rewrite keeps the length and points inside the read-only package mount', () => {
    for (const r of LOADER_REWRITES) {
      expect(r.to.length).toBe(r.from.length)
      expect(r.to.startsWith('/.runcvm/guest/')).toBe(true)
    }
    expect(LOADER_REWRITES.map(r => r.from).sort()).toEqual([
      '/etc/ld.so.cache', '/etc/ld.so.preload', '/etc/nsswitch.conf',
      '/usr/lib/x86_64-linux-gnu/gconv', '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache',
    ])
  })
})
