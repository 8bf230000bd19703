// packaging/native.ts — static C helpers from native/*.c (runcvm-init, qemu-exit) into sbin/.
// Static so they run in any image and before anything else is mounted. Cached by source hash in
// .cache/native/. Missing sources are skipped with a note (they are written separately).
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { PKG } from '../lib/paths.js'
import { buildPathsHeader, PATHS_HEADER } from './paths-header'
import { run, sha256, step } from './util'

export function buildNative(repo: string, cache: string, out: string): { built: string[]; notes: string[] } {
  const dir = join(repo, 'native')
  const sources = existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.c')).sort() : []
  const built: string[] = []
  const notes: string[] = []
  if (sources.length === 0) notes.push('native/: no C sources yet, sbin/ helpers skipped')
  // The C view of lib/paths.ts, regenerated when it differs (and part of every helper's cache key).
  const header = buildPathsHeader()
  const headerFile = join(dir, PATHS_HEADER)
  if (!existsSync(headerFile) || readFileSync(headerFile, 'utf8') !== header) {
    writeFileSync(headerFile, header)
    step(`wrote native/${PATHS_HEADER} from lib/paths.ts`)
  }
  const sbin = dirname(PKG.runcvmInit)
  mkdirSync(join(out, sbin), { recursive: true })
  for (const f of sources) {
    const name = f.replace(/\.c$/, '')
    const flags = ['-static', '-O2', '-Wall']
    const cached = join(cache, 'native', `${name}-${sha256(readFileSync(join(dir, f)), header, flags.join(' ')).slice(0, 12)}`)
    if (!existsSync(cached)) {
      step(`gcc ${flags.join(' ')} native/${f}`)
      mkdirSync(join(cache, 'native'), { recursive: true })
      try {
        run('gcc', [...flags, '-o', cached, join(dir, f)])
      } catch (e) {
        notes.push(`native/${f}: compile failed: ${(e as Error).message.split('\n').slice(0, 6).join(' | ')}`)
        continue
      }
    }
    copyFileSync(cached, join(out, sbin, name))
    chmodSync(join(out, sbin, name), 0o755)
    built.push(`${sbin}/${name}`)
  }
  return { built, notes }
}
