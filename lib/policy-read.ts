// The edges of lib/policy.ts: read the policy file and Docker's on-disk records of a container
// (never dockerd's API: the runtime runs inside dockerd's own `create` call). Host reads only,
// all of the same shape: opened with O_NOFOLLOW|O_NONBLOCK, fstat on the descriptor (a regular
// file owned by root, one link, no group/other write), bounded, and the path must be its own real path (no
// symlink anywhere below the data root). Nothing of a file's content reaches a message.
import { closeSync, constants as C, fstatSync, lstatSync, openSync, realpathSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { readFdBounded, unsafeFileReason } from './fsx.js'
import { DEFAULT_POLICY, parsePolicy, type EnvRecords, type Policy } from './policy.js'

const euid = (): number => process.geteuid?.() ?? 0

/** Size bounds: the policy is tiny; Docker's JSON records hold the container's/image's env. */
export const POLICY_MAX_BYTES = 64 * 1024
export const RECORD_MAX_BYTES = 8 * 1024 * 1024

/** Read a root-owned, not group/world-writable regular file; returns its text or why not. */
export function readOwnedFile(file: string, max: number, owner = euid()): { text: string } | { why: string; missing?: boolean } {
  let fd: number
  try {
    fd = openSync(file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? { why: 'absent', missing: true } : { why: code === 'ELOOP' ? 'a symbolic link' : `unreadable (${code})` }
  }
  try {
    const st = fstatSync(fd)
    const why = unsafeFileReason(st, owner, { noSharedWrite: true }) ?? (st.size > max ? `larger than ${max} bytes` : undefined)
    if (why) return { why }
    return { text: readFdBounded(fd, max, file).toString('utf8') }
  } catch (e) {
    return { why: `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})` }
  } finally {
    closeSync(fd)
  }
}

/**
 * The policy in `file`: absent = defaults; unsafe (a symlink, not a regular file, not owned by
 * root, group/world-writable, too large) = defaults, with `warn` told why (the runtime's warnings
 * log); malformed = ConfigError (parsePolicy).
 */
export function readPolicy(file: string, o: { warn: (text: string) => void; owner?: number }): Policy {
  const r = readOwnedFile(file, POLICY_MAX_BYTES, o.owner)
  if ('text' in r) return parsePolicy(r.text, file)
  if (!r.missing) o.warn(`RunCVM: Warning: ignoring the policy file ${file}: ${r.why}; using the defaults (images may set no privileged option)`)
  return DEFAULT_POLICY
}

const HEX64 = /^[0-9a-f]{64}$/

function readJsonRecord(file: string, owner: number): { value: unknown } | { why: string } {
  try {
    if (realpathSync(file) !== file) return { why: `${file} is reached through a symbolic link` }
  } catch { return { why: `${file} is missing` } }
  const r = readOwnedFile(file, RECORD_MAX_BYTES, owner)
  if (!('text' in r)) return { why: `${file} is ${r.why}` }
  try { return { value: JSON.parse(r.text) } } catch { return { why: `${file} is not valid JSON` } }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(e => typeof e === 'string')

/**
 * Docker's records of container `id` whose root is `rootPath` (config.json root.path, resolved):
 * the data root is the ancestor (at most 4 levels up: `<data-root>/<driver>/<layer>/merged` for
 * overlay2) holding `containers/<id>/config.v2.json`; that file names the image id and storage
 * driver, and `<data-root>/image/<driver>/imagedb/content/sha256/<hex>` is the image's config.
 * Returns the records, or why they are unknown (not Docker, rootless Docker, another layout).
 */
export function readDockerEnvRecords(rootPath: string, id: string | undefined, owner = euid()): { records: EnvRecords } | { why: string } {
  if (!id || !HEX64.test(id)) return { why: 'the container id is not a Docker id' }
  let root: string
  try { root = realpathSync(rootPath) } catch { return { why: `the container root ${rootPath} is missing` } }
  let dataRoot: string | undefined
  for (let d = dirname(root), i = 0; i < 4 && d !== dirname(d); d = dirname(d), i++) {
    try { if (lstatSync(join(d, 'containers', id, 'config.v2.json')).isFile()) { dataRoot = d; break } } catch { /* next */ }
  }
  if (!dataRoot) return { why: 'no Docker data root with this container above its root' }
  const c = readJsonRecord(join(dataRoot, 'containers', id, 'config.v2.json'), owner)
  if (!('value' in c)) return c
  const v2 = c.value as { ID?: unknown; Image?: unknown; Driver?: unknown; Config?: { Env?: unknown } }
  const hex = typeof v2?.Image === 'string' && v2.Image.startsWith('sha256:') ? v2.Image.slice(7) : ''
  const driver = typeof v2?.Driver === 'string' && /^[a-z0-9_-]+$/.test(v2.Driver) ? v2.Driver : ''
  if (v2?.ID !== id || !HEX64.test(hex) || !driver) return { why: 'config.v2.json has no ID, image id or storage driver of the expected shape' }
  // The container's root lies in that driver's directory (else these records are not its).
  if (!root.startsWith(resolve(dataRoot, driver) + sep)) return { why: `the container root is not under ${join(dataRoot, driver)}` }
  const merged = v2.Config?.Env ?? []
  if (!isStrings(merged)) return { why: 'config.v2.json Config.Env is not a list of strings' }
  const img = readJsonRecord(join(dataRoot, 'image', driver, 'imagedb', 'content', 'sha256', hex), owner)
  if (!('value' in img)) return img
  const image = (img.value as { config?: { Env?: unknown } })?.config?.Env ?? []
  if (!isStrings(image)) return { why: "the image config's Env is not a list of strings" }
  return { records: { merged, image } }
}
