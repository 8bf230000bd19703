// Checks for option values that reach host-affecting places: the VM's fstab (RUNCVM_DISKS, the
// container's tmpfs mounts), QEMU's -drive file= and -m. Pure: each returns what is wrong (a
// phrase for an error message) or undefined; callers throw ConfigError naming their option.

/** Linux's PATH_MAX (bytes, with the terminating NUL). */
const PATH_MAX = 4096

/**
 * Why `p` cannot be an fstab path field or a plain file path, or undefined when it can: absolute,
 * no whitespace or control characters (fstab splits fields on blanks; a newline would add a
 * line), no `..` component, shorter than PATH_MAX. An absolute path also keeps QEMU from
 * reading a protocol prefix (`nbd:`, `http:`, `json:`) in `-drive file=`.
 */
export function plainPathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'must be an absolute path'
  if (Buffer.byteLength(p) > PATH_MAX - 1) return `must be at most ${PATH_MAX - 1} bytes long`
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(p)) return 'must not contain whitespace or control characters'
  if (p.split('/').includes('..')) return "must not contain '..' components"
  return undefined
}

/** A filesystem type name for fstab and mke2fs -t: lower-case letters and digits. */
export const FS_NAME = /^[a-z0-9]+$/

/** fstab options field: comma-separated, no whitespace or control characters, not empty. */
// eslint-disable-next-line no-control-regex
export const fstabOptionsOk = (o: string): boolean => o !== '' && !/[\s\x00-\x1f\x7f]/.test(o)

/**
 * Largest VM memory RunCVM accepts (MiB): 1 TiB, the guest-physical address space of QEMU's
 * default 40 physical address bits, so a larger VM could not be mapped anyway.
 */
export const MEM_SIZE_MAX_MIB = 1024 * 1024

/**
 * An option value as error messages show it: control characters escaped (a value must not add
 * lines or terminal escapes to docker's output), cut to 64 characters with its length after.
 */
export function shownValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  const esc = (t: string) => t.replace(/[\x00-\x1f\x7f]/g, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return v.length > 64 ? `${esc(v.slice(0, 64))}...(${v.length} characters)` : esc(v)
}

/** Why `v` cannot be free text for one option (kernel command line), or undefined: bounded, no control characters. */
export function textProblem(v: string, max: number): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (v.length > max || /[\x00-\x1f\x7f]/.test(v)) return `must be at most ${max} characters without control characters`
  return undefined
}

/** A RUNCVM_DISKS size for truncate -s: a whole number of bytes, or with a K, M, G or T suffix. */
export const DISK_SIZE = /^[1-9]\d{0,15}[KMGTkmgt]?$/
