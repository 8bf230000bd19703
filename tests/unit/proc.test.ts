// runRole (lib/proc.ts): how every role ends. process.exit and stderr are replaced by spies, so a
// failure is observed as the report text and the status it would exit with.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, RunCvmError, StateError } from '../../lib/errors.js'
import { runRole } from '../../lib/proc.js'

class Exit extends Error { constructor(readonly code: number) { super(`exit ${code}`) } }
let out: string[]
beforeEach(() => {
  out = []
  vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => { out.push(s); return true }) as typeof process.stderr.write)
  vi.spyOn(process, 'exit').mockImplementation(((code: number) => { throw new Exit(code) }) as typeof process.exit)
})
afterEach(() => vi.restoreAllMocks())

/** Run a role (synchronous main) and return what it reported and its exit status (undefined: none). */
function end(main: () => unknown, o?: Parameters<typeof runRole>[1]): { text: string; code?: number } {
  let code: number | undefined
  try { runRole(main, o) } catch (e) { if (e instanceof Exit) code = e.code; else throw e }
  return { text: out.join(''), code }
}

describe('runRole', () => {
  it('a RunCvmError: upstream format, hint on its own line, the error\'s status, no stack', () => {
    const r = end(() => { throw new ConfigError('RUNCVM_X bad', { hint: 'use y', exitCode: 3 }) })
    expect(r).toEqual({ text: '\n\nRunCVM: Error: RUNCVM_X bad\nuse y\n', code: 3 })
  })
  it('anything else is an internal error, status 1, message only', () => {
    const r = end(() => { throw new TypeError('boom') })
    expect(r).toEqual({ text: '\n\nRunCVM: Error: internal error: boom\n', code: 1 })
    expect(r.text).not.toMatch(/at .*proc/)
  })
  it('a rejected promise is reported the same way', async () => {
    const exits: number[] = []
    vi.mocked(process.exit).mockImplementation(((c: number) => { exits.push(c); return undefined as never }) as typeof process.exit)
    runRole(async () => { throw new StateError('/x', 'no state') })
    await new Promise(r => setTimeout(r, 10))
    expect(out.join('')).toBe('\n\nRunCVM: Error: no state\n')
    expect(exits).toEqual([1])
  })
  it('a role keeps its own text, and its last words run after the report', () => {
    const order: string[] = []
    const r = end(() => { throw new RunCvmError('x') }, {
      report: e => { order.push('report'); return `role: ${(e as Error).message}\n` },
      finally: () => { order.push('finally') },
    })
    expect(r).toEqual({ text: 'role: x\n', code: 1 })
    expect(order).toEqual(['report', 'finally'])
  })
  it('success reports nothing and does not exit (process.exitCode stands)', () => {
    const r = end(() => { /* done */ })
    expect(r).toEqual({ text: '', code: undefined })
  })
})
