// The image's /etc/passwd and /etc/group, parsed in TypeScript (the image may have no getent, no
// libc). Pure: callers pass the file text (undefined when the file is missing). The HOME rule that
// uses them is in lib/workload-env.ts.

export interface PasswdEntry { name: string; uid: number; gid: number; home: string; shell: string }

/**
 * name:passwd:uid:gid:gecos:home:shell. Blank lines, `#` comments and malformed lines (fewer than
 * seven fields, non-numeric ids) are skipped, as libc's files backend does.
 */
export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const f = line.split(':')
    if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] })
  }
  return out
}

/** gid of group `name` in /etc/group text (name:passwd:gid:members), `fallback` when absent. */
export function groupId(groupText: string | undefined, name: string, fallback: number): number {
  for (const line of (groupText ?? '').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2])
  }
  return fallback
}
