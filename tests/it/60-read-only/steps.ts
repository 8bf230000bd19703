// 60-read-only: `docker run --read-only` boots, and the VM sees what runc's container sees: the
// root (and /etc, /tmp) refuse writes, also after the guest remounts / rw (the host's mount is
// read-only, not only the guest's), a --tmpfs and a volume stay writable, Docker's DNS works
// through the VM's resolv.conf (which RunCVM can no longer rewrite in place), and the exit status
// still travels through /.runcvm. Byte-equal to runc, on a user network. Known difference, not
// compared: the VM's /proc/mounts lists / as rw (virtio-fs submounts such as volumes inherit a
// read-only guest mount, so the guest's mount stays rw; the host's refuses the writes).
import { type Case, describe, fail, lineDiff } from '../harness'
import { createNet } from '../net'

const SCRIPT = [
  'w() { if touch "$1/.ro-probe" 2>/dev/null; then echo "$1 writable"; rm -f "$1/.ro-probe"; else echo "$1 read-only"; fi; }',
  'for d in / /etc /tmp /scratch /data; do w $d; done',
  'mount -o remount,rw / 2>/dev/null; echo "after remount,rw: $(w /)"',
  'nslookup roself >/dev/null 2>&1 && echo "DNS: roself resolves" || echo "DNS: roself does not resolve"',
  'exit 3',
].join('\n')

export default {
  description: '--read-only: root, /etc, /tmp read-only (even after a guest remount), --tmpfs and volume writable, DNS, exit status; equal to runc',
  timeoutMs: 150_000,
  async test(ctx) {
    const net = await createNet(ctx, 'ro')
    const args = ['--read-only', '--tmpfs', '/scratch', '-v', '/data', '--network', net.name, '--network-alias', 'roself', 'runcvm-test/bb', 'sh', '-c', SCRIPT]
    const [vm, ref] = await Promise.all([ctx.runcvm(args), ctx.runc(args)])
    ctx.note(`runc:\n${ref.stdout.trim()}`)
    const bad: string[] = []
    if (ref.code !== 3 || !ref.stdout.includes('/ read-only') || !ref.stdout.includes('/scratch writable')) {
      bad.push(`runc reference unexpected: ${describe(ref)}`)
    }
    if (vm.code !== ref.code || vm.stdout !== ref.stdout) bad.push(`VM differs from runc (${describe(vm)})\n${lineDiff(vm.stdout, ref.stdout)}`)
    if (vm.stderr.trim()) bad.push(`VM stderr not empty: ${JSON.stringify(vm.stderr)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
