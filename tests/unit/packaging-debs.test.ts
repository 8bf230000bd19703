import { describe, expect, it } from 'vitest'
import { staleVersions } from '../../packaging/debs'
import { debSrcEntries } from '../../packaging/patched'

describe('staleVersions', () => {
  it('names the packages whose pinned version left the mirror (real apt-get download output)', () => {
    const text = [
      "apt-get download -q busybox-static=1:1.35.0-4+deb12u1+b1 libexpat1=2.5.0-1+deb12u5 failed",
      "E: Version '2.5.0-1+deb12u5' for 'libexpat1' was not found",
      "E: Version '1.22.0-3+deb12u7' for 'libgstreamer-plugins-base1.0-0' was not found",
      "E: Version '3.0.22-1~deb12u2' for 'libssl3' was not found",
    ].join('\n')
    expect(staleVersions(text)).toEqual(['libexpat1', 'libgstreamer-plugins-base1.0-0', 'libssl3'])
  })
  it('finds nothing in other failures, so they are not retried', () => {
    expect(staleVersions('E: Failed to fetch http://deb.debian.org/... 404 Not Found')).toEqual([])
  })
})

describe('debSrcEntries', () => {
  const deb822 = [
    'Types: deb', 'URIs: http://deb.debian.org/debian', 'Suites: bookworm bookworm-updates', 'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg', '',
    'Types: deb', 'URIs: http://deb.debian.org/debian-security', 'Suites: bookworm-security', 'Components: main', '',
  ].join('\n')
  it('mirrors deb822 stanzas (Debian 12 default)', () => {
    const e = debSrcEntries([{ name: 'debian.sources', text: deb822 }])!
    expect(e.name).toBe('runcvm-src.sources')
    expect(e.text.match(/^Types: deb-src$/gm)).toHaveLength(2)
    expect(e.text).toContain('Suites: bookworm-security')
  })
  it('mirrors one-line sources.list entries (debootstrap systems)', () => {
    const e = debSrcEntries([{ name: 'sources.list', text: '# c\ndeb http://deb.debian.org/debian bookworm main\n' }])!
    expect(e).toEqual({ name: 'runcvm-src.list', text: 'deb-src http://deb.debian.org/debian bookworm main\n' })
  })
  it('does nothing when deb-src already exists', () => {
    expect(debSrcEntries([{ name: 'x.list', text: 'deb-src http://deb.debian.org/debian bookworm main' }])).toBeUndefined()
  })
  it('fails clearly without any Debian entry', () => {
    expect(() => debSrcEntries([{ name: 'x.list', text: '' }])).toThrow(/no Debian deb entry/)
  })
})
