// applyCmds (lib/sh.ts) runs planned commands through zx/core with the package's shell: real
// processes here (a stand-in `ip` script that records its argv and stdin), no mocks.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExecError } from '../../lib/errors.js'
import { $, applyCmds, packageShell } from '../../lib/sh.js'
import { shWord } from '../../lib/cmd.js'

const dir = mkdtempSync(join(tmpdir(), 'runcvm-sh-'))
const log = join(dir, 'log')
/** Records `argv | stdin` per call; fails when stdin mentions "fail". */
const ip = join(dir, 'ip')
writeFileSync(ip, `#!/bin/sh\nin=$(cat)\nprintf '%s|%s;;' "$*" "$in" >>'${log}'\ncase $in in *fail*) echo "ip: bad" >&2; exit 2;; esac\n`)
chmodSync(ip, 0o755)
const calls = () => readFileSync(log, 'utf8').split(';;').slice(0, -1)

describe('zx/core configuration', () => {
  it('the shell is the package busybox where there is one, POSIX quoting, no ZX_* from the env', () => {
    expect(packageShell(p => p === '/.runcvm/guest/bin/sh')).toBe('/.runcvm/guest/bin/sh')
    expect(packageShell(p => p === '/opt/runcvm/bin/sh')).toBe('/opt/runcvm/bin/sh')
    expect(packageShell(p => p === '/opt/runcvm/bin/sh', '/opt/runcvm/scripts/runcvm-runtime')).toBe('/opt/runcvm/bin/sh')
    // An installer run from a built tree before /opt/runcvm exists uses that tree's sh.
    const built = '/src/dist/opt/runcvm'
    expect(packageShell(p => p === `${built}/bin/sh` || p === '/bin/bash', `${built}/scripts/runcvm-install-runtime`)).toBe(`${built}/bin/sh`)
    // No package sh at all: bash (the prefix's pipefail fails in dash), /bin/sh only as the last resort.
    expect(packageShell(p => p === '/bin/bash', '/usr/lib/node_modules/x/cli.js')).toBe('/bin/bash')
    expect(packageShell(() => false)).toBe('/bin/sh')
    expect($.quote!("it's $x")).toBe(`'it'\\''s $x'`)
    expect($.preferLocal).toBe(false)
  })
  it('an argv array is passed word for word', async () => {
    const r = await $({ quiet: true })`printf '<%s>' ${['a b', "c'd", '$HOME', '']}`
    expect(r.stdout).toBe("<a b><c'd><$HOME><>")
  })
})

describe('applyCmds', () => {
  it('consecutive ip commands become one `ip -batch -`, fed on stdin', async () => {
    writeFileSync(log, '')
    const failed = await applyCmds([[ip, 'link', 'add', 'br 0'], [ip, 'addr', 'flush'], ['/bin/true'], [ip, 'route', 'x']], { batchIp: ip })
    expect(failed).toEqual([])
    expect(calls()).toEqual(['-batch -|link add "br 0"\naddr flush', '-batch -|route x'])
  })
  it('a failure throws ExecError with the command, status and stderr', async () => {
    writeFileSync(log, '')
    const e = await applyCmds([[ip, 'fail']], { batchIp: ip, stdio: 'ignore' }).catch(x => x)
    expect(e).toBeInstanceOf(ExecError)
    expect(e).toMatchObject({ cmd: [ip, '-batch', '-'], status: 2, stderr: 'ip: bad\n', message: 'ip batch failed (status 2):\nfail\n' })
    const f = await applyCmds([['/bin/false']], { stdio: 'ignore' }).catch(x => x)
    expect(f).toMatchObject({ cmd: ['/bin/false'], status: 1, message: 'command failed (status 1): /bin/false' })
  })
  it('keepGoing runs the rest and returns what failed (ip with -force)', async () => {
    writeFileSync(log, '')
    const failed = await applyCmds([['/bin/false'], [ip, 'fail'], ['/bin/true']], { batchIp: ip, keepGoing: true, stdio: 'ignore' })
    expect(failed).toEqual([['/bin/false'], [ip, 'fail']])
    expect(calls()).toEqual(['-force -batch -|fail'])
  })
})

describe('shell quoting (lib/cmd.ts)', () => {
  it('quotes only what needs it', () => {
    expect(shWord('/sys/fs/cgroup')).toBe('/sys/fs/cgroup')
    expect(shWord("it's a b")).toBe(`'it'\\''s a b'`)
    expect(shWord('')).toBe("''")
  })
})
