// Every RUNCVM_* option in README's option table, through the real create path (runCreate on a
// bundle in a temp dir, as `docker run` reaches it): bad values (empty where not allowed, junk,
// negative, overflow, path traversal, control characters, very long) stop it with a
// `RunCVM: Error:` line naming the option and what is accepted, config.json byte-identical; good
// values go through. An option in the table without a row here fails the test, so a new option
// must be covered.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatForDocker, RunCvmError } from '../../lib/errors.js'
import { runCreate } from '../../lib/oci/bundle.js'
import { SETTINGS } from '../../lib/settings.js'
import { KERNEL_VERSION as V, makeBundle } from './helpers.js'

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')

/** The option names of README's option table (rows `| \`RUNCVM_X\` | accepted | default | image ENV | meaning |`). */
function readmeOptions(): string[] {
  const start = README.indexOf('| option | accepted | default | image ENV | meaning |')
  expect(start).toBeGreaterThan(0)
  const table = README.slice(start).split('\n\n')[0]
  return [...table.matchAll(/^\| `(RUNCVM_[A-Z0-9_]+)` \|/gm)].map(m => m[1])
}

const LONG = 'x'.repeat(100_000)
const CTRL = ['a\nb', 'a\tb', 'a\rb', 'a\x1bb', 'a\x7fb']
/** Values no option accepts beyond the ones that take any value (below). */
const JUNK = ['junk', '-1', '99999999999999999999999999', '../../etc/passwd', '/etc/passwd', LONG, ...CTRL, '1 ', ' 1', '1;reboot', '$(id)']

/**
 * - good: accepted (create succeeds);
 * - bad: refused with a RunCVM: Error naming the option;
 * - any: the option takes any value by upstream's definition (a switch that is on only for one
 *   exact value, e.g. "1"; other values mean off, as in upstream's shell tests), checked not to crash.
 */
interface Row { good: string[]; bad?: string[]; any?: true }
const bool1: Row = { good: ['1', '', '0'], any: true }
const ROWS: Record<string, Row> = {
  RUNCVM_KERNEL: { good: ['', 'debian', 'debian/latest', `debian/${V}`], bad: ['Debian', 'junk', '-1', '../../etc', 'debian/..', 'debian/../..', '/debian', 'debian/a/b', LONG, ...CTRL, 'ubuntu', 'debian/9.9.9'] },
  RUNCVM_KERNEL_APPEND: { good: ['', 'init=/sbin/init', 'console=ttyS0 loglevel=7', 'x'.repeat(1024)], bad: ['x'.repeat(1025), LONG, ...CTRL] },
  RUNCVM_KERNEL_DEBUG: bool1,
  RUNCVM_KERNEL_MOUNT_LIB_MODULES: { good: ['', '1', 'yes'], any: true },
  RUNCVM_DISKS: { good: ['', '/disks/a,/data,ext4', '/disks/a,/data,ext4,2G;/disks/b,/b,ext4'], bad: ['junk', '-1', 'a,b,c', '/d,/d,ext4', '/d/../x,/data,ext4', '/d,/data/..,ext4', '/d,/da ta,ext4', '/d,/data\n/x,ext4', '/d,/data,EXT4', '/d,/data,ext4;x', 'nbd:x,/data,ext4', '/d,/data,ext4,-1', '/d,/data,ext4,junk', `/d,/${LONG},ext4`, ',,,'] },
  RUNCVM_DISPLAY_MODE: { good: ['headless', 'serial', 'vnc', 'default'], bad: ['', ...JUNK, 'HEADLESS'] },
  RUNCVM_QEMU_DISPLAY: { good: ['', 'none', 'curses'], bad: [...JUNK, 'gtk', 'sdl'] },
  RUNCVM_QEMU_VGA: { good: ['', 'none', 'std', 'virtio', 'cirrus'], bad: [...JUNK, 'qxl'] },
  RUNCVM_QEMU_VNC_DISPLAY: { good: ['', '0', '1', '99'], bad: ['junk', '-1', '1.5', '0x10', '99999999999999999999999999', '65536', LONG, ...CTRL, ' 1', '1 ', '+1', '1e3'] },
  RUNCVM_QEMU_USB: { good: ['on', '', 'off'], any: true },
  RUNCVM_QEMU_NET_VHOST: { good: ['', '0'], any: true }, // "1" needs /dev/vhost-net (refused at create without it: tests/it/33)
  RUNCVM_QEMU_MEM_PREALLOC: { good: ['off', 'on'], bad: ['', ...JUNK, 'ON'] },
  RUNCVM_QEMU_DEBUG: bool1,
  RUNCVM_QEMU_ARCH: { good: ['', 'x86_64', 'arm64'], bad: [...JUNK, 'i386', 'X86_64'] },
  RUNCVM_BIOS: { good: ['', 'EFI'], bad: [...JUNK, 'efi', 'seabios'] },
  RUNCVM_BIOS_DEBUG: bool1,
  RUNCVM_SYS_ADMIN: bool1,
  RUNCVM_HUGETLB: { good: ['', '0'], any: true }, // "1" depends on the host's huge pages (rewrite-create tests)
  RUNCVM_MEM_SIZE: { good: ['', '512M', '2G', '1024', '1024G', '1048576M'], bad: ['junk', '-1', '0', '0M', '1025G', '1048577M', '99999999999999999999999999G', '1.5G', '512K', '512MB', '1T', LONG, ...CTRL, ' 512M', '512M '] },
  RUNCVM_VIRTIOFSD_CACHE: { good: ['auto', 'none', 'always'], bad: ['', ...JUNK, 'never'] },
  RUNCVM_CGROUPFS: { good: ['', 'none', 'systemd', '1', 'cgroup1', '2', 'cgroup2', 'hybrid', 'mixed'], bad: [...JUNK, '3', 'cgroup3'] },
  RUNCVM_BREAK: { good: ['', 'prenet', 'prenet,postnet,preqemu', 'preqemu, postnet'], bad: ['junk', 'prenet,junk', '-1', '../../etc', LONG, 'prenet\npostnet;id', 'a\x1bb', '$(id)'] },
  RUNCVM_RUNTIME_DEBUG: { good: ['', '0'], any: true }, // "1" writes /run/runcvm/debug (runtime-bundle tests)
  RUNCVM_ACCEL: { good: ['auto', 'kvm', 'tcg'], bad: ['', ...JUNK, 'KVM', 'hvf'] },
  RUNCVM_BOOT_TIMEOUT: { good: ['', '0', '1', '120', '86400'], bad: ['junk', '-1', '1.5', '99999999999999999999999999', LONG, ...CTRL, ' 1', '+1', '1e3', '0x10'] },
  RUNCVM_BOOT_TIMING: bool1,
  RUNCVM_TCG_TB_SIZE: { good: ['', '16', '64', '128', '1024'], bad: ['junk', '-1', '0', '15', '1025', '1.5', '0x40', '99999999999999999999999999', LONG, ...CTRL, ' 64', '64 ', '+64', '64M'] },
  RUNCVM_IPV6: { good: ['on', 'off'], bad: ['', ...JUNK, 'ON', '0'] },
}

function setup(name: string, value: string): { bundle: string; file: string; hostRoot: string; env: string[] } {
  let env: string[] = []
  const s = makeBundle(spec => { spec.process.env.push(`${name}=${value}`); env = spec.process.env })
  return { ...s, env }
}

/** Run create with NAME=value: undefined when accepted, else the text docker would print. */
function create(name: string, value: string): { error?: string; before: Buffer; after: Buffer } {
  const s = setup(name, value)
  const before = readFileSync(s.file)
  let error: string | undefined
  try {
    // Docker's records say the docker user gave every entry (`-e`): privileged switches are allowed
    // then (the host policy for an image's ENV is tested with lib/policy.ts).
    runCreate(s.bundle, { hostRoot: s.hostRoot, envRecords: () => ({ records: { merged: s.env, image: [] } }) })
  } catch (e) {
    if (!(e instanceof RunCvmError)) throw e // a crash, not a clear error
    error = formatForDocker(e)
  }
  return { error, before, after: readFileSync(s.file) }
}

const show = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 20)}...(${v.length})` : v)

describe("README's option table", () => {
  const options = readmeOptions()
  it('lists the user options of lib/settings.ts, and every one has a row here', () => {
    const user = Object.entries(SETTINGS).filter(([, r]) => !('internal' in r && r.internal)).map(([n]) => n)
    expect(options.sort()).toEqual(user.sort())
    expect(options.filter(o => !(o in ROWS))).toEqual([])
    expect(Object.keys(ROWS).filter(o => !options.includes(o))).toEqual([])
  })
  for (const name of options) {
    const row = ROWS[name]
    if (!row) continue
    describe(name, () => {
      for (const v of row.good) {
        it(`accepts ${show(v)}`, () => expect(create(name, v).error).toBeUndefined())
      }
      for (const v of row.bad ?? []) {
        it(`refuses ${show(v)}: RunCVM: Error naming ${name} and what is accepted, config.json untouched`, () => {
          const r = create(name, v)
          expect(r.error).toBeDefined()
          expect(r.error!.startsWith('\n\nRunCVM: Error: ')).toBe(true)
          expect(r.error).toContain(name)
          expect(r.error).toMatch(/must|accepts|should/)
          expect(r.error!.length).toBeLessThan(2000) // a huge value is not echoed back in full
          expect(r.after.equals(r.before)).toBe(true)
        })
      }
      if (row.any) {
        it('takes any value (upstream switch semantics): junk never crashes create', () => {
          for (const v of JUNK) expect(create(name, v).error).toBeUndefined()
        })
      }
    })
  }
})
