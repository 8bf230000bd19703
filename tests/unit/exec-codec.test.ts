import { describe, expect, it } from 'vitest'
import {
  type ExecRequest, buildInlineCommand, buildVmScript, chdirFailedMessage, decodeRequest, encodeRequest,
  fromBase64, parseUidGid, shQuote,
} from '../../lib/exec/codec.js'

const TORTURE = ['', ' ', 'a b', "it's", '"q"', '\\', '$HOME', '`id`', 'new\nline', 'trail\n', 'ünï€😀', '\x80\x85', '*', "'", '--']

const REQ: ExecRequest = { uid: 1000, gid: 1000, groups: [10, 20], cwd: '/tmp/a b', env: ['PATH=/bin', 'X=a\nb'], args: ['echo', ...TORTURE], tty: false }

/** Minimal POSIX single-quote reader: the inverse of shQuote for one word. */
function unquote(word: string): string {
  let out = ''
  let i = 0
  while (i < word.length) {
    if (word[i] === "'") { const j = word.indexOf("'", i + 1); out += word.slice(i + 1, j); i = j + 1 }
    else if (word[i] === '\\') { out += word[i + 1]; i += 2 }
    else { out += word[i]; i++ }
  }
  return out
}

describe('shQuote', () => {
  it.each(TORTURE)('round-trips %j', s => expect(unquote(shQuote(s))).toBe(s))
  it('keeps everything inside quotes', () => expect(shQuote("a'b")).toBe(`'a'\\''b'`))
})

describe('request encoding', () => {
  it('round-trips any strings', () => expect(decodeRequest(encodeRequest(REQ))).toEqual(REQ))
  it('is shell-inert', () => expect(encodeRequest(REQ)).toMatch(/^[A-Za-z0-9+/=]+$/))
  it('rejects garbage', () => {
    expect(() => decodeRequest('!!!')).toThrow(/malformed/)
    expect(() => decodeRequest(Buffer.from(JSON.stringify({ ...REQ, args: [] })).toString('base64'))).toThrow(/malformed/)
  })
})

describe('parseUidGid', () => {
  it('parses groups', () => expect(parseUidGid('1:2:3,4')).toEqual({ uid: 1, gid: 2, groups: [3, 4] }))
  it('allows no groups', () => expect(parseUidGid('0:0:')).toEqual({ uid: 0, gid: 0, groups: [] }))
  it('rejects names', () => expect(() => parseUidGid('root:0:')).toThrow())
})

describe('VM script', () => {
  const script = buildVmScript(REQ)
  it('quotes every argument and env entry', () => {
    for (const s of [...REQ.args, ...REQ.env]) expect(script).toContain(shQuote(s))
  })
  it('waits for the command so signal deaths become 128+N', () => expect(script.trimEnd().split('\n').at(-1)).toBe('exit $?'))
  it('uses job control only with a tty', () => {
    expect(script).not.toContain('set -m')
    expect(buildVmScript({ ...REQ, tty: true }).startsWith('set -m\ntrap : INT QUIT\n')).toBe(true)
  })
  it('gives runc\'s chdir message', () => {
    expect(chdirFailedMessage('/nonexistent')).toBe('OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory: unknown')
    expect(script).toContain('exit 126')
  })
  it('passes ids and cwd to runcvm-init', () => expect(script).toContain("--no-fork --uid 1000 --gid 1000 --groups '10,20' --cwd '/tmp/a b' --"))
})

describe('inline command', () => {
  const cmd = buildInlineCommand(buildVmScript(REQ))
  it('carries no user data in clear', () => {
    const token = cmd.split(' ').at(-1)!
    expect(token).toMatch(/^[A-Za-z0-9+/=]+$/)
    expect(fromBase64(token)).toBe(buildVmScript(REQ))
    expect(cmd.slice(0, -token.length)).not.toContain('ünï')
  })
})
