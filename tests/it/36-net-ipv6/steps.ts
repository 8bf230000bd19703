// 36-net-ipv6: Docker `--ipv6` networks reach the VM as they reach a runc container. Two networks,
// each with a ULA /64 and an IPv4 /24 (A at create, B by `docker network connect` before start),
// a runc httpd peer on A listening on [::]:8080:
// - the VM has Docker's IPv6 address and prefix on eth0 (A) and eth1 (B), not tentative or
//   dadfailed, and the IPv6 default route via A's IPv6 gateway;
// - the container side keeps no IPv6 address on its veths (a runc container joined to the
//   container's netns sees none), and the peer's neighbour entry for the VM's address carries the
//   VM NIC's 52:54:00 MAC: the VM, not the container, answers for it;
// - the peer pings the VM's IPv6 address; the VM fetches from the peer's IPv6 address over TCP
//   (busybox nc);
// - the VM resolves the peer's name through Docker's DNS to the same addresses (A and AAAA) a runc
//   container on A gets;
// - RUNCVM_IPV6=off on A: the VM boots without IPv6 and still reaches the peer over IPv4 by name.
// Traffic only between the containers and networks this case creates.
import { type Case, describe, fail, startDetached } from '../harness'
import { createNet, execUntil } from '../net'

/** A ULA /64 unlikely to collide with another run's: fdXX:XXXX:XXXX::/64 from the pid and a random part. */
function ulaSubnet(): string {
  const r = () => Math.floor(Math.random() * 0x10000).toString(16)
  return `fd${(process.pid & 0xff).toString(16).padStart(2, '0')}:${r()}:${r()}::/64`
}

/** Sorted addresses from busybox nslookup's answer section (the lines after "Name:"). */
const answers = (out: string): string => out.split('\n').filter(l => /^Address: /.test(l)).map(l => l.slice(9).trim()).sort().join(' ')

export default {
  description: '--ipv6 networks: the VM has Docker\'s IPv6 addresses, gateway and AAAA answers on each NIC, the container side none; ping6 and TCP over IPv6 with a runc peer; RUNCVM_IPV6=off boots without',
  needs: ['runcvm'],
  timeoutMs: 480_000,
  async test(ctx) {
    const { docker, runtime, uniq, labels, note } = ctx
    const v6net = async (tag: string) => {
      for (let i = 0; i < 4; i++) {
        const sub6 = ulaSubnet()
        try { return { ...(await createNet(ctx, `${tag}${i || ''}`, ['--ipv6', '--subnet', sub6])), sub6 } } catch (e) { if (i === 3) throw e }
      }
      fail('unreachable')
    }
    const a = await v6net('a')
    const b = await v6net('b')
    const [peer, vm, off] = [uniq('peer'), uniq('vm'), uniq('off')]
    await startDetached(ctx, 'runc', peer, ['--network', a.name, 'runcvm-test/bb', 'sh', '-c', 'mkdir -p /tmp/w && echo peer-v6 > /tmp/w/index.html && exec httpd -f -p "[::]:8080" -h /tmp/w'])
    for (const s of [
      ['create', '--pull=never', `--runtime=${runtime}`, '--name', vm, ...labels, '--network', a.name, 'runcvm-test/bb', 'sleep', '1000'],
      ['network', 'connect', b.name, vm],
      ['start', vm],
    ]) { const r = await docker(s); if (r.code !== 0) fail(`docker ${s[0]}: ${describe(r)}`) }
    await startDetached(ctx, runtime, off, ['-e', 'RUNCVM_IPV6=off', '--network', a.name, 'runcvm-test/bb', 'sleep', '1000'])

    const inspect = async (c: string, net: string, f: string) =>
      (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").${f}}}`, c])).stdout.trim()
    const [vmA, vmB, gwA, lenA, lenB, peerA] = await Promise.all([
      inspect(vm, a.name, 'GlobalIPv6Address'), inspect(vm, b.name, 'GlobalIPv6Address'), inspect(vm, a.name, 'IPv6Gateway'),
      inspect(vm, a.name, 'GlobalIPv6PrefixLen'), inspect(vm, b.name, 'GlobalIPv6PrefixLen'), inspect(peer, a.name, 'GlobalIPv6Address'),
    ])
    if (!vmA.includes(':') || !vmB.includes(':') || !gwA.includes(':') || !peerA.includes(':')) fail(`Docker gave no IPv6 addresses: VM ${vmA} ${vmB} gw ${gwA}, peer ${peerA}`)
    const bad: string[] = []
    const up = await execUntil(ctx, vm, 'ip -6 addr show dev eth0 | grep -q "scope global"', 300_000)
    if (up.code !== 0) fail(`VM eth0 never got a global IPv6 address: ${describe(up)}`)

    const addrs = await docker(['exec', vm, 'sh', '-c', 'ip -6 -o addr show dev eth0; ip -6 -o addr show dev eth1; ip -6 route'])
    note(`VM: ${addrs.stdout.trim().split('\n').map(l => l.replace(/\s+/g, ' ').replace(/ valid_lft.*/, '')).join('; ')}`)
    if (!new RegExp(`^\\d+: eth0 +inet6 ${vmA}/${lenA} scope global`, 'm').test(addrs.stdout)) bad.push(`VM eth0 lacks ${vmA}/${lenA}: ${describe(addrs)}`)
    if (!new RegExp(`^\\d+: eth1 +inet6 ${vmB}/${lenB} scope global`, 'm').test(addrs.stdout)) bad.push(`VM eth1 lacks ${vmB}/${lenB}: ${describe(addrs)}`)
    // Docker's addresses (scope global) must be usable at once; the kernel's own link-local ones
    // are still in DAD for ~1 s after the link comes up, in a runc container too.
    if (/scope global.*(tentative|dadfailed)/.test(addrs.stdout)) bad.push(`VM addresses not usable (DAD): ${describe(addrs)}`)
    if (!new RegExp(`^default via ${gwA} dev eth0`, 'm').test(addrs.stdout)) bad.push(`VM has no IPv6 default route via ${gwA} on eth0: ${describe(addrs)}`)

    // The container's own netns (not the VM's), from a runc container joined to it.
    const ctr = await ctx.runc(['--net=container:' + vm, 'runcvm-test/bb', 'ip', '-6', '-o', 'addr'])
    if (ctr.code !== 0 || /inet6 (?!::1\/128)/.test(ctr.stdout)) bad.push(`the container side keeps IPv6 addresses: ${describe(ctr)}`)

    const ping = await execUntil(ctx, peer, `ping6 -c 1 -W 3 ${vmA}`, 30_000)
    if (ping.code !== 0) bad.push(`peer → VM ${vmA} (ping6): ${describe(ping)}`)
    const neigh = await docker(['exec', peer, 'ip', '-6', 'neigh', 'show', vmA])
    if (!/lladdr 52:54:00:/.test(neigh.stdout)) bad.push(`peer's neighbour entry for ${vmA} is not the VM NIC's 52:54:00 MAC: ${describe(neigh)}`)
    const get = await execUntil(ctx, vm, `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${peerA} 8080 | grep -x peer-v6`, 30_000)
    if (get.code !== 0) bad.push(`VM → http://[${peerA}]:8080/ (nc): ${describe(get)}`)

    const ref = await ctx.runc(['--network', a.name, 'runcvm-test/bb', 'nslookup', peer])
    const res = await docker(['exec', vm, 'nslookup', peer])
    if (!answers(ref.stdout).includes(peerA)) bad.push(`runc reference: no AAAA ${peerA} for ${peer}: ${describe(ref)}`)
    if (answers(res.stdout) !== answers(ref.stdout)) bad.push(`VM resolves ${peer} to '${answers(res.stdout)}', runc to '${answers(ref.stdout)}'`)

    const o = await execUntil(ctx, off, `[ ! -e /proc/net/if_inet6 ] && ping -4 -c 1 -W 3 ${peer} >/dev/null && ip -o addr show dev eth0`, 300_000)
    if (o.code !== 0 || !/inet \d/.test(o.stdout)) bad.push(`RUNCVM_IPV6=off: ${describe(o)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
