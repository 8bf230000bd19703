import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { appendLine, formatWarningLine, prepareHostWarningsLog, warn, warningTargets, WARNINGS_LOG_MAX_BYTES } from '../../lib/warnings.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'runcvm-warn-'))
const NOW = new Date('2026-11-30T12:00:00.000Z')
const TEXT = 'RunCVM: Warning: /dev/kvm is not available; running the VM with TCG emulation (slow).'

describe('formatWarningLine / warningTargets', () => {
  it('one line: time, id, text (newlines folded)', () => {
    expect(formatWarningLine(NOW, 'c0ffee', 'a\n  b')).toBe('2026-11-30T12:00:00.000Z c0ffee a b\n')
    expect(formatWarningLine(NOW, undefined, 'x')).toBe('2026-11-30T12:00:00.000Z - x\n')
  })
  it('the terminal only with -t; the host log always', () => {
    expect(warningTargets({ tty: false, hostLog: true })).toEqual(['host-log'])
    expect(warningTargets({ tty: true, hostLog: true })).toEqual(['tty', 'host-log'])
  })
})

describe('warn (container side)', () => {
  it('without a tty: nothing on stderr, one line in the mounted log', () => {
    const d = tmp(), log = join(d, 'w.log')
    writeFileSync(log, '')
    const err: string[] = []
    warn(TEXT, { tty: false, id: 'c1', log, now: NOW, stderr: s => err.push(s) })
    expect(err).toEqual([])
    expect(readFileSync(log, 'utf8')).toBe(`2026-11-30T12:00:00.000Z c1 ${TEXT}\n`)
  })
  it('with a tty: on the console too', () => {
    const d = tmp(), log = join(d, 'w.log')
    writeFileSync(log, 'old\n')
    const err: string[] = []
    warn(TEXT, { tty: true, id: 'c2', log, now: NOW, stderr: s => err.push(s) })
    expect(err).toEqual([`${TEXT}\n`])
    expect(readFileSync(log, 'utf8')).toBe(`old\n2026-11-30T12:00:00.000Z c2 ${TEXT}\n`)
  })
  it('no log mounted (rootless, or an old runtime): the warning is dropped, never thrown', () => {
    const err: string[] = []
    expect(() => warn(TEXT, { tty: false, log: join(tmp(), 'absent'), stderr: s => err.push(s) })).not.toThrow()
    expect(err).toEqual([])
  })
  it('appendLine never follows a symlink nor opens a FIFO', () => {
    const d = tmp(), target = join(d, 'target')
    writeFileSync(target, '')
    symlinkSync(target, join(d, 'link'))
    expect(appendLine(join(d, 'link'), 'x\n')).toBe(false)
    expect(readFileSync(target, 'utf8')).toBe('')
    execFileSync('mkfifo', [join(d, 'fifo')])
    expect(appendLine(join(d, 'fifo'), 'x\n')).toBe(false)
  })
})

describe('prepareHostWarningsLog (runtime, host side)', () => {
  const uid = process.getuid!()
  it('creates the directory (0755) and the log (0640) once, then reuses them', () => {
    const d = tmp(), file = join(d, 'runcvm', 'warnings.log')
    expect(prepareHostWarningsLog(file, uid)).toBe(file)
    expect(statSync(join(d, 'runcvm')).mode & 0o777).toBe(0o755)
    expect(statSync(file).mode & 0o777).toBe(0o640)
    writeFileSync(file, 'kept\n')
    expect(prepareHostWarningsLog(file, uid)).toBe(file)
    expect(readFileSync(file, 'utf8')).toBe('kept\n')
  })
  it('rotates a log past the cap to .1', () => {
    const d = tmp(), file = join(d, 'warnings.log')
    writeFileSync(file, 'x'.repeat(WARNINGS_LOG_MAX_BYTES + 1))
    expect(prepareHostWarningsLog(file, uid)).toBe(file)
    expect(statSync(file).size).toBe(0)
    expect(statSync(`${file}.1`).size).toBe(WARNINGS_LOG_MAX_BYTES + 1)
  })
  it('refuses a planted symlink, a group-writable directory or another owner: no mount', () => {
    const d = tmp(), other = join(d, 'elsewhere')
    writeFileSync(other, '')
    mkdirSync(join(d, 'a'))
    symlinkSync(other, join(d, 'a', 'warnings.log'))
    expect(prepareHostWarningsLog(join(d, 'a', 'warnings.log'), uid)).toBeUndefined()
    mkdirSync(join(d, 'b'))
    chmodSync(join(d, 'b'), 0o777)
    expect(prepareHostWarningsLog(join(d, 'b', 'warnings.log'), uid)).toBeUndefined()
    expect(prepareHostWarningsLog(join(tmp(), 'warnings.log'), uid + 1)).toBeUndefined()
  })
})
