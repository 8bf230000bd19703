// The `<uid>:<gid>:<g1,g2,...>` form in which the runtime hands the requested identity to the
// container roles (RUNCVM_UIDGID for `docker run`, ctr-exec's first argument for `docker exec`,
// as upstream): written and parsed here only. Pure.
import { SpecError } from './errors.js'

export interface Ids { uid: number; gid: number; groups: number[] }

/** From an OCI process.user. The group list may be empty. */
export const formatUidGid = (u: { uid: number; gid: number; additionalGids?: number[] }): string =>
  `${u.uid}:${u.gid}:${(u.additionalGids ?? []).join(',')}`

export function parseUidGid(s: string): Ids {
  const m = /^(\d+):(\d+):([\d,]*)$/.exec(s)
  if (!m) throw new SpecError(`invalid uid:gid:groups '${s}'`)
  const groups = m[3] === '' ? [] : m[3].split(',').filter(Boolean).map(Number)
  return { uid: Number(m[1]), gid: Number(m[2]), groups }
}
