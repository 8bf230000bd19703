import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  appendTiming, readAppExitCode, readConfig, readExitStatus, readFstab, readNetwork, readVm,
  writeConfig, writeFstab, writeNetwork, writeVm, type ConfigState, type NetworkState, type VmState,
} from '../../lib/state.js'
import { StateError } from '../../lib/errors.js'

const dir = () => mkdtempSync(join(tmpdir(), 'runcvm-state-'))

describe('state round-trips', () => {
  it('config keeps argv exact (newlines, quotes, UTF-8, empty)', () => {
    const d = dir()
    const c: ConfigState = {
      v: 1, args: ['sh', '-c', 'echo "a\nb" \'c\'', '', 'ünï\tcode', '$(x)'], env: ['PATH=/bin', 'X=a=b\nc'],
      settingsEnv: { RUNCVM_CPUS: '2' }, cwd: '/tmp', uid: 1000, gid: 1000, groups: [10, 20], cpus: 2,
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
