// Reading files of an image (the container root, or the VM's '/'): the one edge through which the
// runtime and the container-side roles look at the image. The image is hostile:
// - a path is resolved INSIDE the image root (realpathIn: `..` stops at the root, absolute and
//   relative symlinks are followed within it), so nothing outside the image is ever read;
// - only a regular file is read: the last component is opened with O_NOFOLLOW|O_NONBLOCK and
//   checked with fstat on that descriptor (a FIFO, a device like /dev/zero, a socket or a
//   directory gives undefined, and the open never blocks);
// - reads are bounded: more than `max` bytes gives undefined (a huge os-release never eats memory).
// An unreadable file is undefined, never an error carrying its content.
// Limit: an intermediate directory swapped for a symlink between the walk and the open could still
// redirect the open; at create nothing of the container runs yet, and in the container the roles
// read before the VM (the only writer) starts, except ctr-exec's /etc/passwd (whose content only
// decides the exec's HOME).
import { closeSync, constants as C, fstatSync, lstatSync, openSync, readlinkSync } from 'node:fs'
import { readFdBounded } from './fsx.js'

export interface PathFs { isLink(p: string): boolean; readlink(p: string): string }

/** realpath of absolute-or-relative `p` (relative to '/') inside a root, through `fs` (pure walk). */
export function realpathIn(p: string, fs: PathFs, maxLinks = 40): string {
  const todo = p.split('/').filter(Boolean)
  const out: string[] = []
  let links = 0
  while (todo.length) {
    const c = todo.shift()!
    if (c === '.') continue
    if (c === '..') { out.pop(); continue }
    const cur = '/' + [...out, c].join('/')
    if (fs.isLink(cur)) {
      if (++links > maxLinks) return cur
      const t = fs.readlink(cur)
      if (t.startsWith('/')) out.length = 0
      todo.unshift(...t.split('/').filter(Boolean))
      continue
    }
    out.push(c)
  }
  return '/' + out.join('/')
}

/** Default bound for text files of the image (os-release, passwd, group, fstab, resolv.conf...). */
export const IMAGE_TEXT_MAX = 1024 * 1024

/** The PathFs of the image rooted at `root` ('' for '/'). */
export function imagePathFs(root: string): PathFs {
  return {
    isLink: p => { try { return lstatSync(root + p).isSymbolicLink() } catch { return false } },
    readlink: p => readlinkSync(root + p),
  }
}

/** `p` (absolute, in the image) resolved inside the image root: a host path under `root`. */
export const resolveInImage = (root: string, p: string): string => root + realpathIn(p, imagePathFs(root))

/** The bytes of regular file `p` of the image, or undefined (missing, not a regular file, too big). */
export function readImageBytes(root: string, p: string, max = IMAGE_TEXT_MAX): Buffer | undefined {
  let fd: number
  try { fd = openSync(resolveInImage(root, p), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK) } catch { return undefined }
  try {
    const st = fstatSync(fd)
    if (!st.isFile() || st.size > max) return undefined
    return readFdBounded(fd, max, p)
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

export const readImageText = (root: string, p: string, max = IMAGE_TEXT_MAX): string | undefined =>
  readImageBytes(root, p, max)?.toString('utf8')

/** Whether `p` is a regular file of the image (resolved inside the root, not followed outside). */
export function isImageFile(root: string, p: string): boolean {
  try { return lstatSync(resolveInImage(root, p)).isFile() } catch { return false }
}
