// 40-kernel-modules: the guest kernel loads modules on demand from the package's modules tree
// whatever the image holds (lib/vm/guest-kernel.ts), with no change to the image:
//
// - busybox only (runcvm-test/bb: applets in /bin, no /sbin/modprobe) and Debian minbase without
//   kmod (runcvm-test/debian): /proc/sys/kernel/modprobe is the package's modprobe;
// - Debian with kmod (runcvm-test/debian-kmod): the image's /sbin/modprobe is kept, and its own
//   modprobe/lsmod/modinfo work against the bound tree;
// - in each: overlay (mount), bridge/veth/vxlan (rtnetlink), nf_tables and ip_tables (iptables nft
//   and legacy), xfs (mount of an unknown type) load by themselves; busybox's lsmod lists them.
//   The tools are the package's ip and xtables (test-side only: the images have none), so what is
//   proven is the kernel's own on-demand loading.
// - modules.devname is hidden (bound to /dev/null) exactly when the image has no kmod.
import { type Case, describe, fail } from '../harness'

const G = '/.runcvm/guest'
const PROBE = [
  `P=${G}/usr/sbin; export XTABLES_LIBDIR=${G}/usr/lib/xtables`,
  'echo "modprobe=$(cat /proc/sys/kernel/modprobe)"',
  'mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && mkdir /tmp/m/l /tmp/m/u /tmp/m/w /tmp/m/o',
  'mount -t overlay overlay -o lowerdir=/tmp/m/l,upperdir=/tmp/m/u,workdir=/tmp/m/w /tmp/m/o && echo overlay=ok',
  '$P/ip link add br9 type bridge && echo bridge=ok',
  '$P/ip link add v9a type veth peer name v9b && echo veth=ok',
  '$P/ip link add vx9 type vxlan id 9 dstport 4789 dev eth0 && echo vxlan=ok',
  '$P/xtables-nft-multi iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE && echo nft=ok',
  '$P/xtables-legacy-multi iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE && echo legacy=ok',
  'mount -t xfs /dev/null /tmp/m/o 2>/dev/null; grep -qw xfs /proc/filesystems && echo xfs=ok',
  `echo "lsmod=$(${G}/bin/lsmod | cut -d' ' -f1 | grep -xE 'overlay|bridge|veth|vxlan|nf_tables|ip_tables|xfs' | sort | tr '\\n' ' ')"`,
  'grep -q "modules.devname" /proc/mounts && echo devname=hidden || echo devname=visible',
].join('\n')
const LOADED = 'lsmod=bridge ip_tables nf_tables overlay veth vxlan xfs '
const OK = ['overlay=ok', 'bridge=ok', 'veth=ok', 'vxlan=ok', 'nft=ok', 'legacy=ok', 'xfs=ok', LOADED]

export default {
  description: 'modules load on demand in busybox-only, kmod-less Debian and Debian+kmod images; the image\'s own modprobe/lsmod kept; modules.devname hidden only without kmod',
  needs: ['runcvm', 'image:runcvm-test/debian-kmod'],
  timeoutMs: 300_000,
  async test({ runcvm, note }) {
    const bad: string[] = []
    const expect = (image: string, out: string, want: string[]) => {
      const lines = out.split('\n')
      const missing = want.filter(w => !lines.includes(w))
      if (missing.length) bad.push(`${image}: missing ${missing.join(', ')}; output:\n${out}`)
    }
    for (const image of ['runcvm-test/bb', 'runcvm-test/debian']) {
      const r = await runcvm([image, 'sh', '-c', PROBE])
      if (r.code !== 0) bad.push(`${image}: ${describe(r)}`)
      expect(image, r.stdout, [`modprobe=${G}/bin/modprobe`, ...OK, 'devname=hidden'])
    }
    // The image's kmod: its modprobe stays the kernel's helper, and works by hand too.
    const kmod = await runcvm(['runcvm-test/debian-kmod', 'sh', '-c',
      `${PROBE}\nmodprobe -r xfs && modprobe xfs && echo kmod-modprobe=ok\nlsmod | grep -q '^xfs ' && echo kmod-lsmod=ok\necho "modinfo=$(modinfo -F name vxlan)"`])
    if (kmod.code !== 0) bad.push(`debian-kmod: ${describe(kmod)}`)
    expect('runcvm-test/debian-kmod', kmod.stdout, ['modprobe=/sbin/modprobe', ...OK, 'devname=visible', 'kmod-modprobe=ok', 'kmod-lsmod=ok', 'modinfo=vxlan'])
    if (bad.length) fail(bad.join('\n'))
    note('overlay, bridge, veth, vxlan, nf_tables, ip_tables, xfs loaded on demand in all three images')
  },
} satisfies Case
