import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  appendTiming, clearBooted, isBooted, markOnce, readAppExitCode, readConfig, readExitStatus, readFstab, readNetwork, readVm,
  STATE_SH, writeConfig, writeExecRequest, writeExitStatus, writeFstab, writeNetwork, writeVm, writeVmInit,
  type ConfigState, type NetworkState, type VmState,
} from '../../lib/state.js'
import { StateError } from '../../lib/errors.js'

const dir = () => mkdtempSync(join(tmpdir(), 'runcvm-state-'))

describe('state round-trips', () => {
  it('config keeps argv exact (newlines, quotes, UTF-8, empty)', () => {
    const d = dir()
    const c: ConfigState = {
      v: 1, args: ['sh', '-c', 'echo "a\nb" \'c\'', '', 'ünï\tcode', '$(x)'], env: ['PATH=/bin', 'X=a=b\nc'],
      settingsEnv: { RUNCVM_CPUS: '2' }, cwd: '/tmp', uid: 1000, gid: 1000, groups: [10, 20],
    }
    writeConfig(c, d)
    expect(readConfig(d)).toEqual(c)
  })
  it('network', () => {
    const d = dir()
    const n: NetworkState = { v: 1, interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' }], routes: [{ dst: '10.0.0.0/8', gateway: '172.17.0.1', dev: 'eth0' }] }
    writeNetwork(n, d)
    expect(readNetwork(d)).toEqual(n)
  })
  it('vm', () => {
    const d = dir()
    const v: VmState = { v: 1, console: 'ttyS0', controlPort: 'org.runcvm.control', pkgTag: 'runcvmpkg' }
    writeVm(v, d)
    expect(readVm(d)).toEqual(v)
  })
  it('fstab lines', () => {
    const d = dir()
    writeFstab(['tmpfs /tmp tmpfs rw 0 0', 'UUID=x /data ext4 defaults,noatime 0 0'], d)
    expect(readFstab(d)).toEqual(['tmpfs /tmp tmpfs rw 0 0', 'UUID=x /data ext4 defaults,noatime 0 0'])
    expect(readFstab(dir())).toEqual([])
  })
  it('rejects missing, malformed and unknown-version files with StateError', () => {
    const d = dir()
    expect(() => readConfig(d)).toThrow(StateError)
    writeFileSync(join(d, 'vm.json'), '{nope')
    expect(() => readVm(d)).toThrow(/malformed/)
    writeFileSync(join(d, 'network.json'), '{"v":2}')
    expect(() => readNetwork(d)).toThrow(/version 2/)
  })
  it('exit files and timing', () => {
    const d = dir()
    expect(readAppExitCode(d)).toBeUndefined()
    writeFileSync(join(d, 'exitcode'), '-1\n')
    writeFileSync(join(d, 'exit-status'), '137\n')
    expect(readAppExitCode(d)).toBe(-1)
    expect(readExitStatus(d)).toBe(137)
    appendTiming('a', 1.5, d)
    appendTiming('b', 2, d)
    expect(readFileSync(join(d, 'timing.log'), 'utf8')).toBe('a 1.500\nb 2.000\n')
  })
  it('timing is best effort: a state dir that cannot be written does not throw', () => {
    const d = dir()
    expect(() => appendTiming('a', 1, join(d, 'missing'))).not.toThrow()
    expect(existsSync(join(d, 'missing'))).toBe(false)
  })
})

describe('state writers', () => {
  it('exit status: TS and sh writers write the same file, atomically (no temporary left)', () => {
    const d = dir()
    writeExitStatus(3, d)
    expect(readFileSync(join(d, 'exit-status'), 'utf8')).toBe('3\n')
    const bb = ['dist/opt/runcvm/usr/bin/busybox', '/bin/busybox'].find(existsSync)
    execFileSync(bb ?? '/bin/sh', [...(bb ? ['sh'] : []), '-c', STATE_SH.exitStatus(7, d)])
    expect(readExitStatus(d)).toBe(7)
    expect(readdirSync(d)).toEqual(['exit-status'])
  })
  it('sh lines name the state files of lib/paths.ts', () => {
    expect(STATE_SH.booted()).toBe("printf '' >'/.runcvm/booted'")
    expect(STATE_SH.timing('x')).toBe(`read -r u _ </proc/uptime; echo "vm:x $u" >>'/.runcvm/timing.log'`)
    expect(STATE_SH.exitStatus(1)).toBe(`echo 1 >"/.runcvm/.exit-status.$$.tmp" && mv -f "/.runcvm/.exit-status.$$.tmp" '/.runcvm/exit-status'`)
  })
  it('--init runs the workload once', () => {
    const d = dir()
    expect(markOnce(d)).toBe(false)
    expect(markOnce(d)).toBe(true)
  })
  it('the VM init is executable; booted is cleared', () => {
    const d = dir()
    writeVmInit('#!/bin/sh\n', d)
    expect(statSync(join(d, 'vm-init.sh')).mode & 0o777).toBe(0o755)
    writeFileSync(join(d, 'booted'), '')
    expect(isBooted(d)).toBe(true)
    clearBooted(d)
    expect(isBooted(d)).toBe(false)
  })
  it('exec requests are created exclusively, root-only', () => {
    const f = join(dir(), 'exec-1.req')
    writeExecRequest(f, Buffer.from('a\0'))
    expect(statSync(f).mode & 0o777).toBe(0o600)
    expect(() => writeExecRequest(f, Buffer.from('b\0'))).toThrow(/EEXIST/)
  })
})
