// What the /dev fixes need from the image (upstream runcvm-vm-init fixes a devtmpfs /dev that some
// initramfs leave without the usual links and with root-only permissions). Pure. The fix-ups
// themselves are lines of the VM's init script (lib/vm/init-script.ts).

/** gid of group `name` in /etc/group text (tty is 5 on Debian/Alpine/busybox when absent). */
export function groupId(groupText: string | undefined, name: string, fallback: number): number {
  for (const line of (groupText ?? '').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2])
  }
  return fallback
}
