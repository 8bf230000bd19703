// Guest RAM backing chosen at create: transparent huge pages for /dev/shm, RUNCVM_HUGETLB checks.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import { probeHugePages, probeShmemThp } from '../../lib/oci/bundle.js'
import { checkHugePages, rewriteCreateConfig, type CreateOpts } from '../../lib/oci/rewrite-create.js'
import type { Spec } from '../../lib/oci/spec.js'
import { envOf, parseSettings } from '../../lib/settings.js'
import { BUNDLED_DEBIAN, configFixture } from './helpers.js'

const rewrite = (spec: Spec, o: Partial<CreateOpts> = {}) =>
  rewriteCreateConfig(spec, { settings: parseSettings(envOf(spec.process.env)), kernel: BUNDLED_DEBIAN, hostRoot: '/opt/runcvm', rootPath: spec.root.path, ...o })
const shmOptions = (s: Spec) => s.mounts!.find(m => m.destination === '/dev/shm')!.options

describe('/dev/shm with transparent huge pages', () => {
  it('adds huge=within_size only where the host allows it', () => {
    const spec = configFixture('config-run-plain.json')
    expect(shmOptions(rewrite(spec, { hostShmemThp: true }))).toEqual(['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=512M', 'huge=within_size'])
    expect(shmOptions(rewrite(spec, { hostShmemThp: false }))).not.toContain('huge=within_size')
    expect(shmOptions(rewrite(spec))).not.toContain('huge=within_size')
  })

  it('reads shmem_enabled: any value but [deny] allows tmpfs huge=; no file: no THP', () => {
    const d = mkdtempSync(join(tmpdir(), 'runcvm-thp-'))
    const f = (text: string) => { writeFileSync(join(d, 'shmem_enabled'), text); return join(d, 'shmem_enabled') }
    expect(probeShmemThp(f('always within_size advise [never] deny force\n'))).toBe(true)
    expect(probeShmemThp(f('always within_size advise never [deny] force\n'))).toBe(false)
    expect(probeShmemThp(join(d, 'missing'))).toBe(false)
  })
})

describe('RUNCVM_HUGETLB', () => {
  const hugetlb = () => {
    const s = configFixture('config-run-mem-cpus-volume-tmpfs.json') // -m 1g
    s.process.env!.push('RUNCVM_HUGETLB=1')
    return s
  }
  it('refuses at create when the host lacks the pages, naming the numbers and the option', () => {
    expect(() => rewrite(hugetlb(), { hostFreeHugePages2M: 0 })).toThrow(ConfigError)
    expect(() => rewrite(hugetlb(), { hostFreeHugePages2M: 511 })).toThrow('RUNCVM_HUGETLB=1 needs 512 free 2 MiB huge pages for a 1024 MiB VM, but the host has 511')
    expect(() => rewrite(hugetlb(), { hostFreeHugePages2M: 512 })).not.toThrow()
    expect(() => checkHugePages(1001, 10_000)).toThrow('multiple of the 2 MiB huge page size')
  })

  it('counts free minus reserved pages plus what overcommit may still create', () => {
    const d = mkdtempSync(join(tmpdir(), 'runcvm-huge-'))
    const pages = (v: Record<string, number>) => {
      mkdirSync(d, { recursive: true })
      for (const [k, n] of Object.entries(v)) writeFileSync(join(d, k), `${n}\n`)
      return probeHugePages(d)
    }
    expect(pages({ free_hugepages: 600, resv_hugepages: 100, nr_overcommit_hugepages: 0, surplus_hugepages: 0 })).toBe(500)
    expect(pages({ free_hugepages: 0, resv_hugepages: 0, nr_overcommit_hugepages: 64, surplus_hugepages: 16 })).toBe(48)
    expect(probeHugePages(join(d, 'no-such-size'))).toBe(0)
  })
})
