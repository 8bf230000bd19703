// Swarm's routing mesh for VM tasks (lib/net/ingress.ts): Docker's port redirects in the task's
// namespace are found by the container side and installed in the VM by its init script. The
// fixture is `iptables -t nat -S` of a RunCVM swarm task's namespace (busybox httpd published as
// 8080→80), captured on a node with IPVS; it also holds RunCVM's own DNS and SSH rules.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { ingressRestore, parseIngressRedirects, vmIpv4s } from '../../lib/net/ingress.js'
import type { NetworkState } from '../../lib/state.js'

const NAT = readFileSync('tests/fixtures/iptables/swarm-task-nat.txt', 'utf8')
const NET: NetworkState = {
  v: 1,
  interfaces: [
    { name: 'eth0', mac: '02:42:0a:00:00:04', mtu: 1450, ip: '10.0.0.4', prefix: 24 },
    { name: 'eth1', mac: '02:42:0a:00:01:05', mtu: 1450, ip: '10.0.1.5', prefix: 24 },
    { name: 'eth2', mac: '02:42:ac:12:00:04', mtu: 1500, ip: '172.18.0.4', prefix: 16, gateway: '172.18.0.1' },
    { name: 'eth3', mac: '02:42:ac:12:00:05', mtu: 1500 },
  ],
  routes: [],
}

describe('parseIngressRedirects', () => {
  it("finds Docker's ingress redirect for the VM's address in a real task namespace, nothing else", () => {
    expect(vmIpv4s(NET)).toEqual(['10.0.0.4', '10.0.1.5', '172.18.0.4'])
    expect(parseIngressRedirects(NAT, vmIpv4s(NET))).toEqual([{ ip: '10.0.0.4', proto: 'tcp', dport: 8080, toPort: 80 }])
  })
  it('only the VM\'s addresses, only the exact shape, only valid ports; udp too; duplicates once', () => {
    const rule = (d: string, p = 'tcp', dport = '8080', to = '80', extra = '') =>
      `-A PREROUTING -d ${d} -p ${p} -m ${p} --dport ${dport}${extra} -j REDIRECT --to-ports ${to}`
    const lines = [
      rule('10.0.1.5/32', 'udp', '5353', '53'),
      rule('10.0.1.5/32', 'udp', '5353', '53'), // twice
      rule('10.9.9.9/32'), // not the VM's
      rule('10.0.0.4/24'), // not a host address
      rule('10.0.0.4/32', 'sctp'),
      rule('10.0.0.4/32', 'tcp', '0'),
      rule('10.0.0.4/32', 'tcp', '8080', '65536'),
      rule('10.0.0.4/32', 'tcp', '80;id'),
      rule('10.0.0.4/32', 'tcp', '8081', '81', ' -i eth0'), // other matches: not Docker's rule
      '-A PREROUTING -d 10.0.0.4/32 -p tcp -m udp --dport 8082 -j REDIRECT --to-ports 82',
      '-A OUTPUT -d 10.0.0.4/32 -p tcp -m tcp --dport 8083 -j REDIRECT --to-ports 83',
      '-A PREROUTING -d 10.0.0.4/32 -p tcp -m tcp --dport 8084 -j DNAT --to-ports 84',
    ]
    expect(parseIngressRedirects(lines.join('\n'), vmIpv4s(NET))).toEqual([{ ip: '10.0.1.5', proto: 'udp', dport: 5353, toPort: 53 }])
    expect(parseIngressRedirects(NAT, [])).toEqual([])
  })
})

describe('ingressRestore', () => {
  it('is empty without redirects and an iptables-restore --noflush nat table with them', () => {
    expect(ingressRestore(undefined)).toBe('')
    expect(ingressRestore([])).toBe('')
    expect(ingressRestore([{ ip: '10.0.0.4', proto: 'tcp', dport: 8080, toPort: 80 }, { ip: '10.0.1.5', proto: 'udp', dport: 5353, toPort: 53 }])).toBe(
      '*nat\n-A PREROUTING -d 10.0.0.4/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80\n'
      + '-A PREROUTING -d 10.0.1.5/32 -p udp -m udp --dport 5353 -j REDIRECT --to-ports 53\nCOMMIT\n')
  })
  it('round-trips: what parseIngressRedirects reads, the VM gets in the same words', () => {
    const r = parseIngressRedirects(NAT, vmIpv4s(NET))
    expect(parseIngressRedirects(ingressRestore(r), vmIpv4s(NET))).toEqual(r)
  })
})
