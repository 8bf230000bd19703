// native/runcvm-paths.h must be what packaging/paths-header.ts generates from lib/paths.ts: the C
// helpers then use the very strings the TypeScript roles use.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildPathsHeader, C_PATHS, PATHS_HEADER } from '../../packaging/paths-header'
import { CTR_EXIT, CTR_SHUTDOWN } from '../../lib/paths.js'

describe('native/runcvm-paths.h', () => {
  const committed = readFileSync(new URL(`../../native/${PATHS_HEADER}`, import.meta.url), 'utf8')
  it('is the header generated from lib/paths.ts (run `node build.mjs` after changing paths)', () => {
    expect(committed).toBe(buildPathsHeader())
  })
  it('defines the container roles runcvm-init starts', () => {
    expect(committed).toContain(`#define RUNCVM_CTR_SHUTDOWN "${CTR_SHUTDOWN}"`)
    expect(committed).toContain(`#define RUNCVM_CTR_EXIT "${CTR_EXIT}"`)
    expect(C_PATHS.map(([n]) => n)).toEqual(['RUNCVM_CTR_SHUTDOWN', 'RUNCVM_CTR_EXIT'])
  })
  it('is used by runcvm-init.c instead of literal paths', () => {
    const c = readFileSync(new URL('../../native/runcvm-init.c', import.meta.url), 'utf8')
    expect(c).toContain(`#include "${PATHS_HEADER}"`)
    expect(c).not.toMatch(/"\/\.runcvm\//)
  })
})
