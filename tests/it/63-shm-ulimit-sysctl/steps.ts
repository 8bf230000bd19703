// 63-shm-ulimit-sysctl: `--shm-size`, `--ulimit nofile=` and `--sysctl net.*` apply in the VM as
// under runc: the guest's /dev/shm has the requested size (and holds a file past Docker's 64 MiB
// default), the workload's open-files limits are the requested soft/hard pair, and the guest's
// /proc/sys shows the requested port range and Docker's default unprivileged-port sysctl.
// Byte-equal to runc.
import { type Case, describe, fail, lineDiff } from '../harness'

const SCRIPT = [
  'echo "shm KiB: $(df -k /dev/shm | awk \'NR==2 { print $2 }\')"',
  'dd if=/dev/zero of=/dev/shm/big bs=1M count=80 2>/dev/null && echo "80 MiB in /dev/shm: ok" || echo "80 MiB in /dev/shm: failed"',
  'rm -f /dev/shm/big',
  'echo "nofile: $(ulimit -Sn) $(ulimit -Hn)"',
  'echo "port range: $(cat /proc/sys/net/ipv4/ip_local_port_range)"',
  'echo "unprivileged port start: $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)"',
].join('\n')

export default {
  description: '--shm-size, --ulimit nofile, --sysctl net.* seen by the workload in the VM; equal to runc',
  timeoutMs: 150_000,
  async test(ctx) {
    const args = ['--shm-size', '96m', '--ulimit', 'nofile=1024:2048', '--sysctl', 'net.ipv4.ip_local_port_range=30000 40000',
      'runcvm-test/bb', 'sh', '-c', SCRIPT]
    const [vm, ref] = await Promise.all([ctx.runcvm(args), ctx.runc(args)])
    ctx.note(`runc:\n${ref.stdout.trim()}`)
    const bad: string[] = []
    if (ref.code !== 0 || !ref.stdout.includes('shm KiB: 98304') || !ref.stdout.includes('nofile: 1024 2048')
      || !/port range: 30000\s+40000/.test(ref.stdout)) {
      bad.push(`runc reference unexpected: ${describe(ref)}`)
    }
    if (vm.code !== ref.code || vm.stdout !== ref.stdout) bad.push(`VM differs from runc (${describe(vm)})\n${lineDiff(vm.stdout, ref.stdout)}`)
    if (vm.stderr.trim()) bad.push(`VM stderr not empty: ${JSON.stringify(vm.stderr)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
