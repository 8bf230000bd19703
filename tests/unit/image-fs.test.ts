// lib/image-fs.ts and its users (the kernel probe, the boot plan's image facts): a hostile image
// whose files are symlinks out of the image (relative or absolute), FIFOs, devices, directories or
// huge files never makes the runtime read outside the image, block, or read without bound.
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { IMAGE_TEXT_MAX, isImageFile, readImageText, resolveInImage } from '../../lib/image-fs.js'
import { OS_RELEASE_MAX, probeKernels } from '../../lib/kernel.js'
import { readImageFacts } from '../../lib/vm/init-facts.js'
import { KERNEL_VERSION as V, tempDir } from './helpers.js'

/** dir/secret (a host file outside the image, `ID=alpine`) and dir/rootfs (the image). */
function setup() {
  const dir = tempDir()
  const root = join(dir, 'rootfs'), kernels = join(dir, 'kernels')
  mkdirSync(join(root, 'etc'), { recursive: true })
  mkdirSync(join(root, 'usr', 'lib'), { recursive: true })
  mkdirSync(join(kernels, 'debian', V, 'modules', V), { recursive: true })
  symlinkSync(V, join(kernels, 'debian', 'latest'))
  writeFileSync(join(dir, 'secret'), 'ID=alpine\nSECRET=host-content\n')
  return { dir, root, kernels }
}
const mkfifo = (p: string) => execFileSync('mkfifo', [p])

describe('resolveInImage', () => {
  it('keeps `..` and every symlink inside the root', () => {
    const { root } = setup()
    symlinkSync('../../../../secret', join(root, 'etc', 'rel'))
    symlinkSync('/../../secret', join(root, 'etc', 'abs'))
    symlinkSync('../usr/lib/os-release', join(root, 'etc', 'ok'))
    expect(resolveInImage(root, '/etc/rel')).toBe(`${root}/secret`)
    expect(resolveInImage(root, '/etc/abs')).toBe(`${root}/secret`)
    expect(resolveInImage(root, '/../../etc/../../secret')).toBe(`${root}/secret`)
    expect(resolveInImage(root, '/etc/ok')).toBe(`${root}/usr/lib/os-release`)
  })
})

describe('readImageText: regular files inside the image only, bounded, never blocking', () => {
  const cases: Array<[string, (root: string, dir: string) => void]> = [
    ['a relative symlink out of the image', root => symlinkSync('../../secret', join(root, 'etc', 'os-release'))],
    ['an absolute symlink to the host file', (root, dir) => symlinkSync(join(dir, 'secret'), join(root, 'etc', 'os-release'))],
    ['a FIFO', root => mkfifo(join(root, 'etc', 'os-release'))],
    ['a symlink to a FIFO', root => { mkfifo(join(root, 'etc', 'fifo')); symlinkSync('fifo', join(root, 'etc', 'os-release')) }],
    ['a symlink to /dev/zero', root => symlinkSync('/dev/zero', join(root, 'etc', 'os-release'))],
    ['a directory', root => mkdirSync(join(root, 'etc', 'os-release'))],
    ['a symlink loop', root => { symlinkSync('b', join(root, 'etc', 'os-release')); symlinkSync('os-release', join(root, 'etc', 'b')) }],
  ]
  for (const [what, plant] of cases) {
    it(`${what}: undefined, and the kernel probe sees no OS`, () => {
      const { dir, root, kernels } = setup()
      plant(root, dir)
      expect(readImageText(root, '/etc/os-release')).toBeUndefined()
      expect(probeKernels(root, kernels, undefined).osId).toBeUndefined()
    })
  }
  it('a huge os-release is not read (bounded)', () => {
    const { root, kernels } = setup()
    writeFileSync(join(root, 'etc', 'os-release'), 'ID=alpine\n' + '#'.repeat(OS_RELEASE_MAX))
    expect(probeKernels(root, kernels, undefined).osId).toBeUndefined()
    writeFileSync(join(root, 'etc', 'group'), 'x'.repeat(IMAGE_TEXT_MAX + 1))
    expect(readImageText(root, '/etc/group')).toBeUndefined()
  })
  it('a relative link inside the image is followed (os-release -> ../usr/lib/os-release)', () => {
    const { root, kernels } = setup()
    writeFileSync(join(root, 'usr', 'lib', 'os-release'), 'ID=ubuntu\n')
    symlinkSync('../usr/lib/os-release', join(root, 'etc', 'os-release'))
    expect(probeKernels(root, kernels, undefined).osId).toBe('ubuntu')
  })
  it('in-image kernel paths count only as regular files inside the image', () => {
    const { dir, root, kernels } = setup()
    writeFileSync(join(root, 'etc', 'os-release'), 'ID=debian\n')
    symlinkSync(join(dir, 'secret'), join(root, 'vmlinuz'))
    mkfifo(join(root, 'initrd.img'))
    expect(isImageFile(root, '/vmlinuz')).toBe(false)
    expect(probeKernels(root, kernels, undefined).imageFiles).toEqual([])
  })
})

describe('readImageFacts: the boot plan reads the image the same way', () => {
  it('FIFOs and escaping links in /etc give undefined, without blocking', () => {
    const { root } = setup()
    mkfifo(join(root, 'etc', 'group'))
    symlinkSync('../../secret', join(root, 'etc', 'hostname'))
    symlinkSync('/dev/zero', join(root, 'etc', 'fstab'))
    const f = readImageFacts(root, ['sh'], ['PATH=/bin'])
    expect([f.group, f.hostname, f.etcFstab]).toEqual([undefined, undefined, undefined])
  })
})
