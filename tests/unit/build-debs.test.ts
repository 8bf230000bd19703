import { describe, expect, it } from 'vitest'
import { staleVersions } from '../../build/debs'

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
