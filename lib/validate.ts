// Checks for option values that reach host-affecting places: the VM's fstab (RUNCVM_DISKS, the
// container's tmpfs mounts), QEMU's -drive file= and -m. Pure: each returns what is wrong (a
// phrase for an error message) or undefined; callers throw ConfigError naming their option.

/**
 * Why `p` cannot be an fstab path field or a plain file path, or undefined when it can: absolute,
 * no whitespace or control characters (fstab splits fields on blanks; a newline would add a
 * line), no `..` component. An absolute path also keeps QEMU from reading a protocol prefix
 * (`nbd:`, `http:`, `json:`) in `-drive file=`.
 */
export function plainPathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'must be an absolute path'
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
