// packaging/verify.ts — the check that fails the build: every dynamic ELF in the tree must resolve all
// of its libraries inside the tree, using the tree's own loader (`ld.so --list`, which ignores the
// file's PT_INTERP and follows its DT_RPATH exactly as at run time).
import { lstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isElf, parseElf } from './elf'
import { INTERP, ldProblems, parseLdList } from './plan'
import { step, tryRun, walkFiles } from './util'

export interface VerifyResult {
  checked: number
  statics: number
  problems: string[]
}

export function verifyTree(out: string): VerifyResult {
  const loader = join(out, 'lib', 'ld-linux-x86-64.so.2')
  const res: VerifyResult = { checked: 0, statics: 0, problems: [] }
  for (const rel of walkFiles(out)) {
    if (rel.startsWith('kernels/') || rel === 'lib/ld-linux-x86-64.so.2') continue
    const abs = join(out, rel)
    if (lstatSync(abs).isSymbolicLink()) continue
    const buf = readFileSync(abs)
    if (!isElf(buf)) continue
    const info = parseElf(buf)
    if (!info.dynamic) {
      res.statics++
      continue
    }
    res.checked++
    const { status, out: text } = tryRun(loader, ['--list', abs])
    if (status !== 0) {
      res.problems.push(`${rel}: ld.so --list failed: ${text.split('\n').slice(-3).join(' ')}`)
      continue
    }
    for (const p of ldProblems(parseLdList(text), out)) res.problems.push(`${rel}: ${p}`)
    // Libraries such as libc.so.6 carry a PT_INTERP to be runnable; only executables matter here.
    if (!rel.startsWith('lib/') && info.interp && info.interp !== INTERP) res.problems.push(`${rel}: PT_INTERP is ${info.interp}`)
  }
  step(`verify: ${res.checked} dynamic ELF(s) resolve inside the tree, ${res.statics} static; ${res.problems.length} problem(s)`)
  return res
}
