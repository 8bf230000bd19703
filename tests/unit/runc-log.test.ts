import { describe, expect, it } from 'vitest'
import { formatRuncLogEntry, runcLogMessage } from '../../lib/oci/runc-log'
import { ConfigError } from '../../lib/errors'

const T = new Date('2026-11-28T10:00:00.123Z')

describe('runc log entries', () => {
  it('writes the JSON line containerd parses (Docker passes --log-format json)', () => {
    const line = formatRuncLogEntry("RunCVM: Error: Kernel 'x' not found", 'json', T)
    expect(line.endsWith('\n')).toBe(true)
    expect(JSON.parse(line)).toEqual({ level: 'error', msg: "RunCVM: Error: Kernel 'x' not found", time: '2026-11-28T10:00:00Z' })
  })
  it('writes logrus text otherwise', () => {
    expect(formatRuncLogEntry('RunCVM: Error: a "b"', undefined, T)).toBe('time="2026-11-28T10:00:00Z" level=error msg="RunCVM: Error: a \\"b\\""\n')
  })
  it('keeps the message on one line with the hint', () => {
    expect(runcLogMessage(new ConfigError('bad\nvalue', { hint: 'use x' }))).toBe('RunCVM: Error: bad value (use x)')
    expect(runcLogMessage(new Error('boom'))).toBe('RunCVM: Error: internal error: boom')
  })
})
