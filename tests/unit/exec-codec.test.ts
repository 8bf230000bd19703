import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ExecRequest, buildFileCommand, buildInitArgs, buildInlineCommand, chdirFailedMessage, decodeRequest,
  encodeRequest, nulJoin, nulSplit,
} from '../../lib/exec/codec.js'
import { shQuote } from '../../lib/cmd.js'

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

describe('runcvm-init argv', () => {
  const args = buildInitArgs(REQ)
  it('exact env, ids, cwd with runc\'s message, then the command verbatim', () => {
    expect(args.slice(0, 6)).toEqual(['--no-fork', '--clear-env', '--env', 'PATH=/bin', '--env', 'X=a\nb'])
    expect(args.slice(6, args.indexOf('--'))).toEqual(['--uid', '1000', '--gid', '1000', '--groups', '10,20',
      '--cwd', '/tmp/a b', '--cwd-error', chdirFailedMessage('/tmp/a b'), '--runc-exec-errors'])
    expect(args.slice(args.indexOf('--') + 1)).toEqual(REQ.args)
  })
  it('gives runc\'s chdir message', () =>
    expect(chdirFailedMessage('/nonexistent')).toBe('OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory: unknown'))
  it('NUL form round-trips any strings', () => expect(nulSplit(nulJoin(args))).toEqual(args))
})

describe('remote command', () => {
  const cmd = buildInlineCommand(buildInitArgs(REQ))
  it('carries no user data in clear', () => {
    const token = cmd.split(' ').at(-1)!
    expect(cmd).toBe(`exec /.runcvm/guest/sbin/runcvm-init --request ${token}`)
    expect(token).toMatch(/^[A-Za-z0-9+/=]+$/)
    expect(nulSplit(Buffer.from(token, 'base64'))).toEqual(buildInitArgs(REQ))
  })
  it('file form names a quoted path', () =>
    expect(buildFileCommand('/.runcvm/dropbear/exec-1.req')).toBe("exec /.runcvm/guest/sbin/runcvm-init --request-file '/.runcvm/dropbear/exec-1.req'"))
})

// The real decoder: native/runcvm-init.c compiled here, fed what the TS side builds (torture
// strings in args and env), must run the command with exactly those bytes.
describe('runcvm-init decodes what the TS side encodes', () => {
  let dir = ''
  let init = ''
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runcvm-codec-'))
    init = join(dir, 'runcvm-init')
    execFileSync('gcc', ['-O2', '-std=gnu11', '-o', init, join(__dirname, '../../native/runcvm-init.c')])
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const me = { uid: process.getuid!(), gid: process.getgid!(), groups: [] as number[] }
  // printf %s\0 of argv then env: every byte visible, nothing added by a shell.
  const probe = ['/bin/sh', '-c', 'printf "%s\\0" "$@"; printf "\\1"; env -0', 'probe', ...TORTURE]
  const env = ['PATH=/usr/bin:/bin', ...TORTURE.filter(Boolean).map((t, i) => `T${i}=${t}`)]
  const check = (out: Buffer) => {
    const [argv, envOut] = out.toString('utf8').split('\x01')
    expect(argv.split('\0').slice(0, -1)).toEqual(TORTURE)
    const got = envOut.split('\0').filter(Boolean).filter(e => !/^(PWD|SHLVL|_)=/.test(e))
    expect(got.sort()).toEqual([...env].sort())
  }
  it('inline token', () => {
    const cmd = buildInlineCommand(buildInitArgs({ ...me, cwd: '/', env, args: probe, tty: false }))
    const r = spawnSync(init, cmd.split(' ').slice(2), { env: { LEAK: 'no' } })
    expect(r.stderr.toString()).toBe('')
    check(r.stdout)
  })
  it('request file (removed after reading)', () => {
    const f = join(dir, 'req')
    writeFileSync(f, nulJoin(buildInitArgs({ ...me, cwd: '/', env, args: probe, tty: false })))
    const r = spawnSync(init, ['--request-file', f])
    check(r.stdout)
    expect(spawnSync('test', ['-e', f]).status).toBe(1)
  })
  it('command not found: runc\'s message on stdout, CRLF, 126', () => {
    const cmd = buildInlineCommand(buildInitArgs({ ...me, cwd: '/', env: ['PATH=/nonexistent'], args: ['true'], tty: false }))
    const r = spawnSync(init, cmd.split(' ').slice(2))
    expect(r.status).toBe(126)
    expect(r.stdout.toString()).toBe('OCI runtime exec failed: exec failed: unable to start container process: exec: "true": executable file not found in $PATH: unknown\r\n')
  })
  it('missing cwd: runc\'s message on stdout, CRLF, 126', () => {
    const cmd = buildInlineCommand(buildInitArgs({ ...me, cwd: '/nonexistent', env, args: ['true'], tty: false }))
    const r = spawnSync(init, cmd.split(' ').slice(2))
    expect(r.status).toBe(126)
    expect(r.stdout.toString()).toBe(`${chdirFailedMessage('/nonexistent')}\r\n`)
  })
})
