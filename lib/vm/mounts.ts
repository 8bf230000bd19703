// /proc/mounts parsing and the /dev fixes upstream runcvm-vm-init applies on a devtmpfs /dev
// (some initramfs leave it without the usual links and with root-only permissions). Pure: the
// fix-ups are data that vm-init applies with plain fs calls (no spawns).

export interface MountInfo { source: string; dir: string; type: string; options: string }

/** /proc/mounts text → entries in mount order (octal escapes like \040 decoded). */
export function parseMounts(text: string): MountInfo[] {
  const dec = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  return text.split('\n').filter(Boolean).map(l => l.split(' ')).filter(f => f.length >= 4)
    .map(f => ({ source: dec(f[0]), dir: dec(f[1]), type: f[2], options: f[3] }))
}

export type DevOp =
  | { op: 'symlink'; path: string; target: string; force?: boolean }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'chgrp'; path: string; gid: number }

/** gid of group `name` in /etc/group text (tty is 5 on Debian/Alpine/busybox when absent). */
export function groupId(groupText: string | undefined, name: string, fallback: number): number {
  for (const line of (groupText ?? '').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2])
  }
  return fallback
}

export function planDevFixes(groupText: string | undefined, devEntries: readonly string[], hasKcore: boolean): DevOp[] {
  const tty = groupId(groupText, 'tty', 5)
  const ops: DevOp[] = [
    { op: 'symlink', path: '/dev/stdin', target: '/proc/self/fd/0' },
    { op: 'symlink', path: '/dev/stdout', target: '/proc/self/fd/1' },
    { op: 'symlink', path: '/dev/stderr', target: '/proc/self/fd/2' },
    ...(hasKcore ? [{ op: 'symlink' as const, path: '/dev/core', target: '/proc/kcore', force: true }] : []),
    { op: 'symlink', path: '/dev/ptmx', target: 'pts/ptmx', force: true },
  ]
  for (const d of ['null', 'random', 'urandom', 'zero', 'tty', 'pts/ptmx']) ops.push({ op: 'chmod', path: `/dev/${d}`, mode: 0o666 })
  for (const d of devEntries.filter(e => /^tty\d+$/.test(e))) ops.push({ op: 'chmod', path: `/dev/${d}`, mode: 0o620 })
  for (const d of devEntries.filter(e => e.startsWith('tty'))) ops.push({ op: 'chgrp', path: `/dev/${d}`, gid: tty })
  return ops
}
