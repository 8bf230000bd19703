// /etc/passwd and /etc/group of the image, parsed in TS (the image may have no getent, no libc).
// Pure: callers pass the file text (or undefined when the file is missing).

export interface PasswdEntry { name: string; uid: number; gid: number; home: string; shell: string }
export interface GroupEntry { name: string; gid: number; members: string[] }

/** name:passwd:uid:gid:gecos:home:shell; malformed lines are skipped, as libc does. */
export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':')
    if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] })
  }
  return out
}

/** name:passwd:gid:member,member */
export function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = []
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':')
    if (f.length < 4 || !/^\d+$/.test(f[2])) continue
    out.push({ name: f[0], gid: Number(f[2]), members: f[3] === '' ? [] : f[3].split(',') })
  }
  return out
}

/**
 * HOME for a uid when neither the image, `docker run` nor `docker exec` set one (moby#2968):
 * the first passwd entry with that uid. Differs from runcvm-ctr-exec (which left HOME empty for
 * an unknown uid): "/" when there is none, as runc does, so exec output matches runc's.
 */
export function homeOf(uid: number, passwd: readonly PasswdEntry[]): string {
  const home = passwd.find(e => e.uid === uid)?.home
  return home ? home : '/'
}
