// daemon.json merge: keeps other keys, idempotent, malformed input rejected and left untouched.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import { writeFileAtomic } from '../../lib/fsx.js'
import { mergeRuntime, runtimePathIn } from '../../lib/install/daemon-json.js'

const RT = '/opt/runcvm/scripts/runcvm-runtime'

// A daemon.json as other people (and other engineers on the shared test host) leave it.
const BASE = {
  'log-driver': 'json-file',
  'log-opts': { 'max-size': '10m' },
  runtimes: { sysbox: { path: '/usr/bin/sysbox-runc' } },
  features: { buildkit: true },
  'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }],
}

describe('mergeRuntime', () => {
  it('adds runtimes.runcvm.path and keeps every other key', () => {
    const { text, changed } = mergeRuntime(JSON.stringify(BASE), RT)
    expect(changed).toBe(true)
    expect(JSON.parse(text)).toEqual({ ...BASE, runtimes: { ...BASE.runtimes, runcvm: { path: RT } } })
  })

  it('creates the document from an empty or missing file', () => {
    for (const t of ['', '  \n']) expect(JSON.parse(mergeRuntime(t, RT).text)).toEqual({ runtimes: { runcvm: { path: RT } } })
    expect(JSON.parse(mergeRuntime('{}', RT).text)).toEqual({ runtimes: { runcvm: { path: RT } } })
  })

  it('is idempotent: a second merge reports unchanged and returns the text byte for byte', () => {
    const once = mergeRuntime(JSON.stringify(BASE), RT)
    const twice = mergeRuntime(once.text, RT)
    expect(twice).toEqual({ text: once.text, changed: false })
  })

  it('judges on values, not formatting', () => {
    const compact = `{"runtimes":{"runcvm":{"path":"${RT}"}},"debug":true}`
    expect(mergeRuntime(compact, RT)).toEqual({ text: compact, changed: false })
  })

  it('keeps runtimeArgs of an existing runcvm entry and fixes a wrong path', () => {
    const t = JSON.stringify({ runtimes: { runcvm: { path: '/usr/local/bin/old', runtimeArgs: ['--debug'] } } })
    const r = mergeRuntime(t, RT)
    expect(r.changed).toBe(true)
    expect(JSON.parse(r.text).runtimes.runcvm).toEqual({ path: RT, runtimeArgs: ['--debug'] })
  })

  it.each([
    ['{"runtimes": ', /not valid JSON/],
    ['{"a": 1,}', /not valid JSON/],
    ['[1, 2]', /JSON object at the top level, found an array/],
    ['"text"', /found a string/],
    ['null', /found null/],
    ['{"runtimes": []}', /"runtimes" must be an object, found an array/],
    ['{"runtimes": {"runcvm": "/x"}}', /"runtimes.runcvm" must be an object, found a string/],
  ])('rejects %j with a ConfigError', (text, msg) => {
    expect(() => mergeRuntime(text, RT, '/etc/docker/daemon.json')).toThrow(ConfigError)
    expect(() => mergeRuntime(text, RT, '/etc/docker/daemon.json')).toThrow(msg)
  })

  it('runtimePathIn reads the path or undefined', () => {
    expect(runtimePathIn(mergeRuntime('{}', RT).text)).toBe(RT)
    expect(runtimePathIn('{')).toBeUndefined()
    expect(runtimePathIn('{}')).toBeUndefined()
  })
})

// The installer's edge, on real temp files: read, merge, write atomically only when changed.
describe('daemon.json on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runcvm-daemon-json-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const apply = (file: string) => {
    const r = mergeRuntime(readFileSync(file, 'utf8'), RT, file)
    if (r.changed) writeFileAtomic(file, r.text)
    return r.changed
  }

  it('merges once, then leaves the file alone', () => {
    const f = join(dir, 'ok.json')
    writeFileSync(f, JSON.stringify(BASE, null, 4))
    expect(apply(f)).toBe(true)
    const after = readFileSync(f, 'utf8')
    expect(apply(f)).toBe(false)
    expect(readFileSync(f, 'utf8')).toBe(after)
    expect(JSON.parse(after)['log-opts']).toEqual(BASE['log-opts'])
  })

  it('leaves a malformed file untouched (bytes identical, no temp file left)', () => {
    const f = join(dir, 'bad.json')
    const bad = '{ "log-driver": "json-file", \n'
    writeFileSync(f, bad)
    expect(() => apply(f)).toThrow(/bad\.json is not valid JSON/)
    expect(readFileSync(f, 'utf8')).toBe(bad)
    expect(readdirSync(dir).filter(n => n.includes('.tmp'))).toEqual([])
  })
})
