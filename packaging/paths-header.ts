// packaging/paths-header.ts — native/runcvm-paths.h, the C view of lib/paths.ts: the strings the
// static helpers need, generated so that C and TypeScript cannot disagree. packaging/native.ts
// rewrites the header before compiling when it differs; tests/unit/packaging-paths-header.test.ts
// checks the committed copy (the native tests and `make` in native/ compile it as it is).
import { CTR_EXIT, CTR_SHUTDOWN } from '../lib/paths.js'

export const PATHS_HEADER = 'runcvm-paths.h'

/** name -> value of every #define, in order. */
export const C_PATHS: readonly (readonly [string, string, string])[] = [
  ['RUNCVM_CTR_SHUTDOWN', CTR_SHUTDOWN, 'container mode: run on SIGTERM (--on-term default)'],
  ['RUNCVM_CTR_EXIT', CTR_EXIT, 'container mode: exec\'d with the command\'s status (--on-exit default)'],
]

const cString = (s: string): string => JSON.stringify(s) // paths are ASCII without '?' trigraphs

export function buildPathsHeader(): string {
  return [
    '/* Generated from lib/paths.ts by packaging/paths-header.ts (node build.mjs); do not edit. */',
    '#ifndef RUNCVM_PATHS_H',
    '#define RUNCVM_PATHS_H',
    '',
    ...C_PATHS.flatMap(([name, value, why]) => [`/* ${why} */`, `#define ${name} ${cString(value)}`]),
    '',
    '#endif',
    '',
  ].join('\n')
}
