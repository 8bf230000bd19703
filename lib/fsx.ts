// The only JSON file I/O. Read once, write once, atomically.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { dirname, basename, join } from 'node:path'
import { SpecError } from './errors.js'

export function readJson<T>(file: string): T {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new SpecError(`cannot read ${file}: ${(e as Error).message}`, { cause: e })
  }
  try {
    return JSON.parse(text) as T
  } catch (e) {
    throw new SpecError(`malformed JSON in ${file}: ${(e as Error).message}`, { cause: e })
  }
}

/**
 * Write `data` to `file` so that readers see either the old or the new content, never a partial
 * file: write a temporary file in the same directory (same filesystem, so rename(2) is atomic),
 * flush it, then rename it over the target. On any failure the target is untouched.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'w', mode)
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, file)
  } catch (e) {
    if (fd !== undefined) closeSync(fd)
    try { unlinkSync(tmp) } catch { /* nothing to clean */ }
    throw e
  }
}

export function writeJsonAtomic(file: string, value: unknown, mode = 0o644): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode)
}
