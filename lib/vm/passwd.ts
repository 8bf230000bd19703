// /etc/passwd parsing for the HOME rule (moby#2968): when neither the image nor `docker run` set
// HOME, the workload gets the requested user's home directory from the image's passwd file.
// Upstream runs `getent passwd <uid>`; parsing the file needs no extra binary. Pure.

export interface PasswdEntry { name: string; uid: number; gid: number; home: string; shell: string }

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const f = line.split(':')
    if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] })
  }
  return out
}

/** Home of `user` (uid number or name): the first matching entry, as getent does. */
export function homeOf(entries: readonly PasswdEntry[], user: number | string): string | undefined {
  const e = entries.find(x => (typeof user === 'number' ? x.uid === user : x.name === user))
  return e?.home
}

/**
 * HOME for the workload. hasHome: HOME came from the image or `docker run` (RUNCVM_HAS_HOME=1),
 * so keep it. Otherwise the user's passwd home; Docker's own fallback is "/" (moby#2968).
 */
export function resolveHome(hasHome: boolean, current: string | undefined, passwd: string | undefined, uid: number): string | undefined {
  if (hasHome) return current
  const home = passwd === undefined ? undefined : homeOf(parsePasswd(passwd), uid)
  return home || '/'
}
