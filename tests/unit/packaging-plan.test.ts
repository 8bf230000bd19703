// Unit tests for packaging/plan.ts: rpath strings, apt/ld.so/modprobe parsers, the lock format.
import { describe, expect, it } from 'vitest'
import {
  BUSYBOX_APPLETS, FILES, debFileName, formatLock, ldProblems, libraryClosure, mergeLoadOrder, originPath,
  parseAptDepends, parseLdList, parseLock, parseShowDepends, relativeLink, rpathFor,
} from '../../packaging/plan'

describe('rpath computation', () => {
  it.each([
    ['usr/bin/qemu-system-x86_64', '$ORIGIN/../../lib'],
    ['usr/lib/qemu/virtiofsd', '$ORIGIN/../../../lib'],
    ['usr/lib/xtables/libxt_tcp.so', '$ORIGIN/../../../lib'],
    ['sbin/x', '$ORIGIN/../lib'],
    ['lib/libz.so.1', '$ORIGIN'],
  ])('%s -> %s', (file, want) => expect(rpathFor(file)).toBe(want))

  it('joins extra library dirs in order', () => {
    expect(rpathFor('usr/sbin/xtables-nft-multi', ['lib', 'usr/lib/xtables'])).toBe('$ORIGIN/../../lib:$ORIGIN/../lib/xtables')
    expect(originPath('usr/bin', 'usr/bin')).toBe('$ORIGIN')
  })

  it('makes relative applet links', () => {
    expect(relativeLink('bin/sh', 'usr/bin/busybox')).toBe('../usr/bin/busybox')
    expect(relativeLink('usr/sbin/iptables', 'usr/sbin/xtables-nft-multi')).toBe('xtables-nft-multi')
  })
})

describe('package set', () => {
  const text = [
    'qemu-system-x86',
    '  Depends: libc6',
    '  Depends: libglib2.0-0',
    '  Depends: qemu-system-common',
    ' |Depends: libfoo1',
    '  Depends: libfoo1t64',
    '  Depends: <libvirtual>',
    '  PreDepends: init-system-helpers',
    'libglib2.0-0',
    '  Depends: libc6',
    '  Depends: zlib1g',
    '  Depends: libpcre2-8-0',
    'libc6',
    '  Depends: libgcc-s1',
    '  Breaks: foo',
  ].join('\n')

  it('parses Depends with alternatives and virtual packages', () => {
    const deps = parseAptDepends(text)
    expect(deps.get('qemu-system-x86')?.map(d => d.pkg)).toEqual(['libc6', 'libglib2.0-0', 'qemu-system-common', 'libfoo1', 'libvirtual', 'init-system-helpers'])
    expect(deps.get('qemu-system-x86')?.[3].alternatives).toEqual(['libfoo1', 'libfoo1t64'])
    expect(deps.get('qemu-system-x86')?.[4].virtual).toBe(true)
  })

  it('follows only library packages (and zlib1g), skipping virtual ones', () => {
    expect(libraryClosure(['qemu-system-x86'], parseAptDepends(text))).toEqual([
      'libc6', 'libfoo1', 'libgcc-s1', 'libglib2.0-0', 'libpcre2-8-0', 'qemu-system-x86', 'zlib1g',
    ])
  })

  it('round-trips packages.lock and names .deb files like apt-get download', () => {
    const m = new Map([['qemu-system-x86', '1:7.2+dfsg-7+deb12u18+b3'], ['busybox-static', '1:1.35.0-4+b3']])
    expect(parseLock(formatLock(m))).toEqual(m)
    expect(formatLock(m).split('\n').filter(l => !l.startsWith('#'))[0]).toBe('busybox-static=1:1.35.0-4+b3')
    expect(() => parseLock('garbage\n')).toThrow(/bad line/)
    expect(debFileName('qemu-system-x86', '1:7.2+dfsg-7', 'amd64')).toBe('qemu-system-x86_1%3a7.2+dfsg-7_amd64.deb')
  })

  it('places every tool where docs/ARCHITECTURE.md says', () => {
    const dst = FILES.map(([, d]) => d)
    for (const want of ['usr/bin/qemu-system-x86_64', 'usr/lib/qemu/virtiofsd', 'usr/sbin/dnsmasq', 'usr/sbin/dropbear', 'usr/bin/dbclient', 'usr/sbin/ip', 'usr/sbin/mke2fs', 'usr/sbin/blkid', 'usr/bin/findmnt', 'usr/bin/mount', 'usr/bin/qemu-ga', 'usr/lib/qemu-modules/accel-tcg-x86_64.so'])
      expect(dst).toContain(want)
    expect(BUSYBOX_APPLETS).toContain('sh')
    expect(BUSYBOX_APPLETS).not.toContain('ip') // iproute2's ip, not busybox's
  })
})

describe('ld.so --list', () => {
  const out = [
    '\tlinux-vdso.so.1 (0x00007ffd1b5f2000)',
    '\tlibz.so.1 => /opt/t/usr/bin/../../lib/libz.so.1 (0x00007f0000000000)',
    '\tlibfoo.so.2 => not found',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0000100000)',
    '\t/opt/t/lib/ld-linux-x86-64.so.2 (0x00007f0000200000)',
  ].join('\n')

  it('parses resolved, missing and loader lines', () => {
    expect(parseLdList(out)).toEqual([
      { name: 'libz.so.1', path: '/opt/t/usr/bin/../../lib/libz.so.1', notFound: false },
      { name: 'libfoo.so.2', notFound: true },
      { name: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6', notFound: false },
      { name: 'ld-linux-x86-64.so.2', path: '/opt/t/lib/ld-linux-x86-64.so.2', notFound: false },
    ])
  })

  it('flags libraries missing or outside the tree (after normalising ..)', () => {
    expect(ldProblems(parseLdList(out), '/opt/t')).toEqual(['libfoo.so.2: not found', 'libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (outside the tree)'])
    expect(ldProblems([{ name: 'x', path: '/opt/t/../evil/x', notFound: false }], '/opt/t')).toHaveLength(1)
  })
})

describe('module load order', () => {
  it('keeps insmod lines in order, skips builtins, merges without duplicates', () => {
    const a = parseShowDepends('insmod /k/lib/modules/6.1/kernel/lib/crc16.ko \nbuiltin virtio\ninsmod /k/.../ext4.ko \n')
    expect(a).toEqual(['/k/lib/modules/6.1/kernel/lib/crc16.ko', '/k/.../ext4.ko'])
    expect(mergeLoadOrder([['a', 'b'], ['b', 'c'], ['a']])).toEqual(['a', 'b', 'c'])
  })
})
