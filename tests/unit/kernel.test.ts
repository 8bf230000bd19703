import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import {
  KERNEL_FAMILIES, kernelKeysToProbe, parseOsReleaseId, probeKernels, selectKernel, validateKernelSetting,
  type KernelDirs, type KernelProbe,
} from '../../lib/kernel.js'
import { tempDir } from './helpers.js'

const DIRS: KernelDirs = { hostKernels: '/opt/runcvm/kernels', guestKernels: '/.runcvm/guest/kernels', vmMount: '/vm' }
const V = '6.1.0-99-cloud-amd64'
const probe = (p: Partial<KernelProbe>): KernelProbe => ({ imageFiles: [], bundled: {}, ...p })
const sel = (kernel: string | undefined, p: Partial<KernelProbe>, mountLibModules = false) =>
  selectKernel({ kernel, mountLibModules }, probe(p), DIRS)

describe('RUNCVM_KERNEL validation', () => {
  it.each([
    ['../etc', "Kernel '../etc' invalid (contains '..')"],
    ['debian/..', "Kernel 'debian/..' invalid (contains '..')"],
    ['Debian', "Kernel 'Debian' invalid (should match ^[a-z]+(/[^/]+)?$)"],
    ['debian/a/b', "Kernel 'debian/a/b' invalid (should match ^[a-z]+(/[^/]+)?$)"],
    ['/debian', "Kernel '/debian' invalid (should match ^[a-z]+(/[^/]+)?$)"],
    ['deb1an', "Kernel 'deb1an' invalid (should match ^[a-z]+(/[^/]+)?$)"],
    ['debian/', "Kernel 'debian/' invalid (should match ^[a-z]+(/[^/]+)?$)"],
  ])('%s', (k, msg) => {
    expect(() => validateKernelSetting(k)).toThrow(ConfigError)
    expect(() => validateKernelSetting(k)).toThrow(msg)
    expect(() => sel(k, { bundled: { [k]: 'x' } })).toThrow(msg)
  })
  it('accepts <dist> and <dist>/<version>', () => {
    expect(() => validateKernelSetting('debian')).not.toThrow()
    expect(() => validateKernelSetting(`debian/${V}`)).not.toThrow()
  })
  it('a missing dir is an error naming the kernels dir', () => {
    expect(() => sel('alpine', {})).toThrow("Kernel 'alpine' not found (check /opt/runcvm/kernels)")
  })
})

describe('selectKernel', () => {
  it('RUNCVM_KERNEL=<dist> uses <dist>/latest, even when the image has a kernel', () => {
    const k = sel('debian', { bundled: { debian: 'debian', 'debian/latest': V }, imageFiles: ['/vmlinuz', '/initrd.img'] })
    expect(k).toEqual({
      dist: 'debian', version: V, source: 'setting',
      kernelPath: `/.runcvm/guest/kernels/debian/${V}/vmlinuz`,
      initramfsPath: `/.runcvm/guest/kernels/debian/${V}/initrd`,
      root: 'rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1',
      modules: { source: `/opt/runcvm/kernels/debian/${V}/modules/${V}`, destination: `/vm/lib/modules/${V}` },
    })
  })
  it('RUNCVM_KERNEL=<dist>/<version>', () => {
    const k = sel('debian/6.1.0-1-amd64', { bundled: { 'debian/6.1.0-1-amd64': '6.1.0-1-amd64' } })
    expect(k.kernelPath).toBe('/.runcvm/guest/kernels/debian/6.1.0-1-amd64/vmlinuz')
  })
  it('RUNCVM_KERNEL_MOUNT_LIB_MODULES mounts the whole modules dir over /lib/modules', () => {
    const k = sel('debian', { bundled: { debian: 'debian', 'debian/latest': V } }, true)
    expect(k.modules).toEqual({ source: `/opt/runcvm/kernels/debian/${V}/modules`, destination: '/vm/lib/modules' })
  })
  it('RUNCVM_KERNEL of an unknown family is the unrecognised-OS error', () => {
    expect(() => sel('arch', { bundled: { arch: 'arch', 'arch/latest': '1' } })).toThrow(
      "Unrecognised image O/S 'arch'; specify --env=RUNCVM_KERNEL=<dist> or --env=RUNCVM_KERNEL=<dist>/<version>")
  })

  it.each(Object.entries(KERNEL_FAMILIES))('in-image kernel for %s', (id, fam) => {
    const k = sel(undefined, { osId: id, imageFiles: [fam.kernel, fam.initramfs] })
    expect(k).toEqual({ dist: id, kernelPath: fam.kernel, initramfsPath: fam.initramfs, root: fam.root, source: 'image' })
  })
  it('in-image paths and root= per family', () => {
    expect(KERNEL_FAMILIES.debian).toEqual({ kernel: '/vmlinuz', initramfs: '/initrd.img', root: 'rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1' })
    expect(KERNEL_FAMILIES.ubuntu).toEqual({ kernel: '/boot/vmlinuz', initramfs: '/boot/initrd.img', root: 'rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1' })
    expect(KERNEL_FAMILIES.ol).toEqual({ kernel: '/boot/vmlinuz', initramfs: '/boot/initramfs', root: 'root=virtiofs:runcvmfs noresume net.ifnames=1' })
    expect(KERNEL_FAMILIES.alpine).toEqual({ kernel: '/boot/vmlinuz-virt', initramfs: '/boot/initramfs-virt', root: 'rootfstype=virtiofs root=runcvmfs resume=' })
    expect(KERNEL_FAMILIES.openwrt).toEqual(KERNEL_FAMILIES.alpine)
  })
  it('needs both kernel and initramfs in the image', () => {
    const k = sel(undefined, { osId: 'alpine', imageFiles: ['/boot/vmlinuz-virt'], bundled: { 'alpine/latest': '5.15' } })
    expect(k.source).toBe('bundled')
    expect(k.kernelPath).toBe('/.runcvm/guest/kernels/alpine/5.15/vmlinuz')
    expect(k.root).toBe(KERNEL_FAMILIES.alpine.root)
  })
  it('no os-release ID: debian', () => {
    expect(sel(undefined, { bundled: { 'debian/latest': V } }).dist).toBe('debian')
  })
  it('a distro without a bundled kernel or its own falls back to the bundled debian kernel', () => {
    const k = sel(undefined, { osId: 'ubuntu', bundled: { 'ubuntu/latest': null, 'debian/latest': V } })
    expect(k).toMatchObject({ dist: 'debian', version: V, source: 'fallback', root: KERNEL_FAMILIES.debian.root })
    expect(k.modules!.source).toBe(`/opt/runcvm/kernels/debian/${V}/modules/${V}`)
  })
  it('unknown OS is an error even when a debian kernel exists', () => {
    expect(() => sel(undefined, { osId: 'arch', bundled: { 'debian/latest': V } })).toThrow("Unrecognised image O/S 'arch'")
  })
  it('no kernel at all is a clear error', () => {
    expect(() => sel(undefined, { osId: 'debian', bundled: { 'debian/latest': null } })).toThrow("Kernel 'debian/latest' not found (check /opt/runcvm/kernels)")
    expect(() => sel('debian', { bundled: { debian: 'debian', 'debian/latest': null } })).toThrow(ConfigError)
  })
  it('kernelKeysToProbe', () => {
    expect(kernelKeysToProbe('debian', undefined)).toEqual(['debian', 'debian/latest'])
    expect(kernelKeysToProbe('debian/1', undefined)).toEqual(['debian/1'])
    expect(kernelKeysToProbe(undefined, 'alpine')).toEqual(['alpine/latest', 'debian/latest'])
  })
})

describe('parseOsReleaseId', () => {
  it.each([
    ['ID=debian\nVERSION_ID="12"\n', 'debian'],
    ['NAME="Alpine Linux"\nID="alpine"\n', 'alpine'],
    ["ID='ol'\n", 'ol'],
    ['  ID=ubuntu  \n', 'ubuntu'],
    ['ID_LIKE=debian\nID=ubuntu\n', 'ubuntu'],
    ['ID_LIKE=debian\n', undefined],
    ['ID=\n', undefined],
    ['', undefined],
  ])('%j -> %s', (text, id) => expect(parseOsReleaseId(text)).toBe(id))
})

describe('probeKernels (temp dirs)', () => {
  function setup() {
    const dir = tempDir()
    const root = join(dir, 'rootfs'), kernels = join(dir, 'kernels')
    mkdirSync(join(root, 'etc'), { recursive: true })
    mkdirSync(join(kernels, 'debian', V, 'modules', V), { recursive: true })
    symlinkSync(V, join(kernels, 'debian', 'latest'))
    return { root, kernels }
  }
  it('reads os-release, resolves latest, sees in-image kernels', () => {
    const { root, kernels } = setup()
    writeFileSync(join(root, 'etc', 'os-release'), 'ID="debian"\n')
    writeFileSync(join(root, 'vmlinuz'), '')
    writeFileSync(join(root, 'initrd.img'), '')
    expect(probeKernels(root, kernels, undefined)).toEqual({ osId: 'debian', imageFiles: ['/vmlinuz', '/initrd.img'], bundled: { 'debian/latest': V } })
  })
  it('follows an absolute os-release symlink inside the image, not on the host', () => {
    const { root, kernels } = setup()
    mkdirSync(join(root, 'usr', 'lib'), { recursive: true })
    writeFileSync(join(root, 'usr', 'lib', 'os-release'), 'ID=alpine\n')
    symlinkSync('/usr/lib/os-release', join(root, 'etc', 'os-release'))
    const p = probeKernels(root, kernels, undefined)
    expect(p.osId).toBe('alpine')
    expect(p.bundled).toEqual({ 'alpine/latest': null, 'debian/latest': V })
    expect(selectKernel({ mountLibModules: false }, p, { ...DIRS, hostKernels: kernels }).source).toBe('fallback')
  })
  it('falls back to /usr/lib/os-release; no file means no ID', () => {
    const { root, kernels } = setup()
    expect(probeKernels(root, kernels, undefined).osId).toBeUndefined()
    mkdirSync(join(root, 'usr', 'lib'), { recursive: true })
    writeFileSync(join(root, 'usr', 'lib', 'os-release'), 'ID=ubuntu\n')
    expect(probeKernels(root, kernels, undefined).osId).toBe('ubuntu')
  })
  it('with RUNCVM_KERNEL: only the requested dirs, no image look-ups; invalid values probe nothing', () => {
    const { root, kernels } = setup()
    expect(probeKernels(root, kernels, 'debian')).toEqual({ osId: undefined, imageFiles: [], bundled: { debian: 'debian', 'debian/latest': V } })
    expect(probeKernels(root, kernels, `debian/${V}`).bundled).toEqual({ [`debian/${V}`]: V })
    expect(probeKernels(root, kernels, '../x').bundled).toEqual({})
    expect(probeKernels(root, kernels, 'nosuch').bundled).toEqual({ nosuch: null, 'nosuch/latest': null })
  })
})

describe('kernel errors name the option', () => {
  it('bad form and missing kernel both carry a RUNCVM_KERNEL hint', async () => {
    const { validateKernelSetting } = await import('../../lib/kernel')
    for (const bad of ['../x', 'Debian']) {
      try { validateKernelSetting(bad); expect.unreachable() } catch (e) {
        expect((e as { hint?: string }).hint).toMatch(/^RUNCVM_KERNEL accepts <dist> or <dist>\/<version>/)
      }
    }
  })
})
