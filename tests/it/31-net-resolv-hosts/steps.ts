// 31-net-resolv-hosts: /etc/resolv.conf, /etc/hosts and the hostname in the VM equal runc's for
// the same `--hostname --dns --dns-search --dns-option --add-host` flags, on a user-defined network
// (with `--ip`) and on the default bridge. Differences allowed, and only these: on a user network
// the VM's nameserver is RunCVM's dnsmasq (169.254.169.254) where runc has Docker's 127.0.0.11,
// and the container's own address (each container has its own).
import { type Case, fail, lineDiff } from '../harness'
import { createNet } from '../net'

const FLAGS = ['--hostname', 'vmhost', '--dns', '10.254.254.1', '--dns-search', 'a.runcvm.test', '--dns-search', 'b.runcvm.test',
  '--dns-option', 'ndots:3', '--dns-option', 'timeout:2', '--add-host', 'peer.runcvm.test:10.254.254.9']
const SCRIPT = 'cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; hostname; cat /etc/hostname'

export default {
  description: 'resolv.conf, /etc/hosts, hostname in the VM equal runc\'s for --hostname/--dns*/--add-host (user network + --ip, default bridge)',
  timeoutMs: 180_000,
  async test(ctx) {
    const net = await createNet(ctx, 'net')
    const bad: string[] = []
    const variants: [string, string[], string[]][] = [
      ['user network + --ip', ['--network', net.name, '--ip', `${net.prefix}.60`], ['--network', net.name, '--ip', `${net.prefix}.61`]],
      ['default bridge', [], []],
    ]
    for (const [what, vmNet, refNet] of variants) {
      const [a, b] = await Promise.all([
        ctx.runcvm([...vmNet, ...FLAGS, 'runcvm-test/bb', 'sh', '-c', SCRIPT]),
        ctx.runc([...refNet, ...FLAGS, 'runcvm-test/bb', 'sh', '-c', SCRIPT]),
      ])
      // The container's own address appears in /etc/hosts as "<ip>\tvmhost".
      const norm = (s: string) => s.replace(/^nameserver 169\.254\.169\.254$/m, 'nameserver 127.0.0.11')
        .replace(/^\d+\.\d+\.\d+\.\d+(\s+vmhost)$/m, '<own-ip>$1')
      if (a.code !== 0 || norm(a.stdout) !== norm(b.stdout)) {
        bad.push(`${what}: VM differs from runc (exit ${a.code}/${b.code}, stderr ${JSON.stringify(a.stderr)})\n${lineDiff(norm(a.stdout), norm(b.stdout))}`)
      }
      if (what.includes('--ip') && !a.stdout.includes(`${net.prefix}.60\tvmhost`)) bad.push(`${what}: --ip not in the VM's /etc/hosts:\n${a.stdout}`)
    }
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
