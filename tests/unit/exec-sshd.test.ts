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
  it('guards the bridged and the routed path', () => expect(planSshdGuard(NET, 'x')).toEqual([
    ['x', 'ebtables', '-A', 'FORWARD', '-p', '0x0800', '--ip-proto', 'tcp', '--ip-dport', '22222', '-j', 'DROP'],
    ['x', 'iptables', '-t', 'filter', '-A', 'FORWARD', '-d', '172.17.0.2/32', '-p', 'tcp', '-m', 'tcp', '--dport', '22222', '-j', 'DROP'],
  ]))
  it('guards every VM address, none without one', () => {
    const two: NetworkState = { ...NET, interfaces: [NET.interfaces[0]!, { ...NET.interfaces[1]!, ip: '10.1.2.3', prefix: 24 }] }
    expect(planSshdGuard(two, 'x').filter(c => c[1] === 'iptables').map(c => c[7])).toEqual(['172.17.0.2/32', '10.1.2.3/32'])
    expect(planSshdGuard({ ...NET, interfaces: [NET.interfaces[1]!] }, 'x')).toHaveLength(1)
  })
})

describe('sshd start script', () => {
  const script = buildSshdScript(NET, 'bb')
  const K = "'/.runcvm/guest/usr/bin/dropbearkey' '-t' 'ed25519' '-f'"
  it('is stated line by line: root-only files, stale keys and marker removed first, both keys, restricted key, dropbear last, restarted in a loop that drops its stale marker', () => {
    expect(script.split('\n')).toEqual([
      'umask 077',
      "'bb' mkdir -p '/.runcvm/dropbear'",
      "'bb' rm -f '/.runcvm/dropbear/key' '/.runcvm/dropbear/dropbear_ed25519_host_key' '/.runcvm/dropbear/dropbear.pid' '/.runcvm/dropbear/authorized_keys'",
      `${K} '/.runcvm/dropbear/dropbear_ed25519_host_key' >/dev/null 2>&1 &`,
      `pub=$(${K} '/.runcvm/dropbear/key' 2>/dev/null | 'bb' grep '^ssh-' | 'bb' cut -d' ' -f1,2) || exit 1`,
      'wait',
      '[ -n "$pub" ] || exit 1',
      "printf '%s %s runcvm-exec\\n' 'no-port-forwarding,no-agent-forwarding,no-X11-forwarding' \"$pub\" >'/.runcvm/dropbear/authorized_keys'",
      'umask 022',
      'while :; do',
      "  '/.runcvm/guest/usr/sbin/dropbear' '-F' '-E' '-s' '-j' '-k' '-r' '/.runcvm/dropbear/dropbear_ed25519_host_key' " +
        "'-P' '/.runcvm/dropbear/dropbear.pid' '-p' '172.17.0.2:22222' >/dev/null 2>&1 </dev/null",
      "  'bb' rm -f '/.runcvm/dropbear/dropbear.pid'",
      "  'bb' sleep 0.3",
      'done',
      '',
    ])
  })
  it('the readiness marker is removed before dropbear can write it', () => {
    const lines = script.split('\n')
    const rm = lines.findIndex(l => l.includes(' rm -f ') && l.includes("'/.runcvm/dropbear/dropbear.pid'"))
    expect(rm).toBeGreaterThan(0)
    expect(rm).toBeLessThan(lines.findIndex(l => l.includes('/usr/sbin/dropbear')))
  })
  it('keys under umask 077, dropbear (and so every exec) under runc\'s 0022', () => {
    const lines = script.split('\n')
    expect(lines.indexOf('umask 022')).toBe(lines.indexOf('while :; do') - 1)
    expect(lines.indexOf('umask 022')).toBeGreaterThan(lines.findIndex(l => l.startsWith('printf ')))
  })
})
