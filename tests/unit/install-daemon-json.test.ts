// daemon.json merge: keeps other keys, idempotent, malformed input rejected and left untouched.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.js'
import { writeFileAtomic } from '../../lib/fsx.js'
import { defaultRuntimeIn, mergeRuntime, runtimePathIn } from '../../lib/install/daemon-json.js'

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

  describe('setDefault (--default-runtime)', () => {
    const D = { setDefault: true }
    it('sets default-runtime = runcvm next to the runtime entry, keeping every other key', () => {
      const r = mergeRuntime(JSON.stringify(BASE), RT, 'daemon.json', D)
      expect(r).toMatchObject({ changed: true })
      expect(r.replacedDefault).toBeUndefined()
      expect(JSON.parse(r.text)).toEqual({ ...BASE, runtimes: { ...BASE.runtimes, runcvm: { path: RT } }, 'default-runtime': 'runcvm' })
      expect(defaultRuntimeIn(r.text)).toBe('runcvm')
    })
    it('an up-to-date path with another default still changes, and names the replaced default', () => {
      const t = JSON.stringify({ runtimes: { runcvm: { path: RT } }, 'default-runtime': 'sysbox-runc' })
      const r = mergeRuntime(t, RT, 'daemon.json', D)
      expect(r.changed).toBe(true)
      expect(r.replacedDefault).toBe('sysbox-runc')
      expect(JSON.parse(r.text)['default-runtime']).toBe('runcvm')
    })
    it('is idempotent and byte-exact once both are set', () => {
      const once = mergeRuntime('{}', RT, 'daemon.json', D)
      expect(mergeRuntime(once.text, RT, 'daemon.json', D)).toEqual({ text: once.text, changed: false })
    })
    it('without the flag default-runtime is never touched (set or absent)', () => {
      const t = JSON.stringify({ 'default-runtime': 'crun' })
      expect(JSON.parse(mergeRuntime(t, RT).text)['default-runtime']).toBe('crun')
      expect(JSON.parse(mergeRuntime('{}', RT).text)).not.toHaveProperty('default-runtime')
    })
    it.each([['{"default-runtime": 5}', 'a number'], ['{"default-runtime": ["runc"]}', 'an array'], ['{"default-runtime": null}', 'null']])(
      'rejects %j with a ConfigError', (text, found) => {
        expect(() => mergeRuntime(text, RT, 'daemon.json', D)).toThrow(new ConfigError(`daemon.json: "default-runtime" must be a string, found ${found}; it was left untouched`))
      })
    it('defaultRuntimeIn reads the name or undefined', () => {
      expect(defaultRuntimeIn('{"default-runtime":"runcvm"}')).toBe('runcvm')
      expect(defaultRuntimeIn('{')).toBeUndefined()
      expect(defaultRuntimeIn('null')).toBeUndefined()
    })
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
