import { describe, expect, it } from 'vitest'
import { authorizedKeysLine, buildDropbearArgs, buildSshdScript, parsePublicKey, planSshdGuard } from '../../lib/vm/sshd.js'
import type { NetworkState } from '../../lib/state.js'

const OUT = 'Public key portion is:\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF+x/y= root@vm\nFingerprint: sha1!! 00:11\n'
const NET: NetworkState = { v: 1, routes: [], interfaces: [
  { name: 'eth0', mac: 'm', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' },
  { name: 'eth1', mac: 'n', mtu: 1500 },
] }

describe('sshd plan', () => {
  it('extracts the public key', () => expect(parsePublicKey(OUT)).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF+x/y='))
  it('restricts the key', () => expect(authorizedKeysLine('ssh-ed25519 AAA')).toBe('no-port-forwarding,no-agent-forwarding,no-X11-forwarding ssh-ed25519 AAA runcvm-exec\n'))
  it('listens on VM addresses only, key-only, pid file as readiness', () => {
    const a = buildDropbearArgs(NET)
    expect(a).toContain('-s')
    expect(a.slice(-2)).toEqual(['-p', '172.17.0.2:22222'])
    expect(a.join(' ')).toContain('-P /.runcvm/dropbear/dropbear.pid')
    expect(a.join(' ')).not.toContain('0.0.0.0')
  })
  it('guards the bridge', () => expect(planSshdGuard('x')).toEqual([['x', 'ebtables', '-A', 'FORWARD', '-p', '0x0800', '--ip-proto', 'tcp', '--ip-dport', '22222', '-j', 'DROP']]))
})

describe('sshd start script', () => {
  const script = buildSshdScript(NET, 'bb')
  it('is root-only and starts dropbear last', () => {
    expect(script.startsWith('umask 077\n')).toBe(true)
    expect(script.trimEnd().split('\n').at(-1)).toMatch(/^exec '\/\.runcvm\/guest\/usr\/sbin\/dropbear' '-F'/)
  })
  it('removes any old marker before starting', () => expect(script).toContain("'/.runcvm/dropbear/dropbear.pid'"))
  it('keys under umask 077, dropbear (and so every exec) under runc\'s 0022', () => {
    const lines = script.split('\n')
    expect(lines.indexOf('umask 022')).toBe(lines.findIndex(l => l.startsWith('exec ')) - 1)
    expect(lines.indexOf('umask 022')).toBeGreaterThan(lines.findIndex(l => l.startsWith('printf ')))
  })
  it('makes ed25519 keys', () => expect(script.match(/'ed25519'/g)).toHaveLength(2))
})
