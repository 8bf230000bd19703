import { describe, expect, it } from 'vitest'
import { buildDropbearArgs, buildSshdScript, planSshdGuard } from '../../lib/vm/sshd.js'
import type { NetworkState } from '../../lib/state.js'

const NET: NetworkState = { v: 1, routes: [], interfaces: [
  { name: 'eth0', mac: 'm', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' },
  { name: 'eth1', mac: 'n', mtu: 1500 },
] }

describe('sshd plan', () => {
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
  it('makes ed25519 keys', () => expect(script.match(/'ed25519'/g)).toHaveLength(2))
})
