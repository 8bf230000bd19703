// /proc/mounts parsing and the /dev fixes upstream runcvm-vm-init applies on a devtmpfs /dev
// (some initramfs leave it without the usual links and with root-only permissions). Pure. The
// fix-ups themselves are lines of the VM's init script (lib/vm/init-script.ts).

export interface MountInfo { source: string; dir: string; type: string; options: string }

/** /proc/mounts text → entries in mount order (octal escapes like \040 decoded). */
export function parseMounts(text: string): MountInfo[] {
  const dec = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  return text.split('\n').filter(Boolean).map(l => l.split(' ')).filter(f => f.length >= 4)
    .map(f => ({ source: dec(f[0]), dir: dec(f[1]), type: f[2], options: f[3] }))
}

/** gid of group `name` in /etc/group text (tty is 5 on Debian/Alpine/busybox when absent). */
export function groupId(groupText: string | undefined, name: string, fallback: number): number {
  for (const line of (groupText ?? '').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2])
  }
  return fallback
}
