import { describe, expect, it } from 'vitest'
import { SpecError } from '../../lib/errors.js'
import { rewriteExecProcess } from '../../lib/oci/rewrite-exec.js'
import type { Process } from '../../lib/oci/spec.js'
import { CTR_EXEC } from '../../lib/paths.js'
import { envOf } from '../../lib/settings.js'
import { pretty, PROCESS_FIXTURES, processFixture } from './helpers.js'

describe.each(PROCESS_FIXTURES)('%s', name => {
  const input = processFixture(name)
  const out = rewriteExecProcess(input)
  it('prefixes runcvm-ctr-exec with uid:gid:gids, cwd, hasHome, terminal', () => {
    const u = input.user
    expect(out.args).toEqual([
      CTR_EXEC,
      `${u.uid}:${u.gid}:${(u.additionalGids ?? []).join(',')}`,
      input.cwd,
      envOf(input.env).HOME ? '1' : '0',
      input.terminal === true ? 'true' : 'false',
      ...input.args!,
    ])
  })
  it('runs as root in / and keeps everything else', () => {
    expect(out.user).toEqual({ uid: 0, gid: 0 })
    expect(out.cwd).toBe('/')
    const { args: _a, user: _u, cwd: _c, ...rest } = out
    const { args: _b, user: _v, cwd: _d, ...restIn } = input
    expect(rest).toEqual(restIn)
    expect(input).toEqual(processFixture(name))
  })
  it('golden', async () => {
    await expect(pretty(out)).toMatchFileSnapshot(`../golden/${name.replace(/\.json$/, '')}.exec.json`)
  })
})

describe('specific', () => {
  it('-u 1000:1000 -w /tmp', () => {
    expect(rewriteExecProcess(processFixture('process-exec-user-workdir.json')).args!.slice(1, 5)).toEqual(['1000:1000:1000', '/tmp', '0', 'false'])
  })
  it('-e HOME=/custom', () => {
    expect(rewriteExecProcess(processFixture('process-exec-detach-home.json')).args![3]).toBe('1')
  })
  it('-t', () => {
    expect(rewriteExecProcess(processFixture('process-exec-t.json')).args![4]).toBe('true')
  })
  it('--- passes the rest through to the container unchanged', () => {
    const p = processFixture('process-exec-user-workdir.json')
    p.args = ['---', 'sh', '-c', 'id']
    const out = rewriteExecProcess(p)
    expect(out).toEqual({ ...p, args: ['sh', '-c', 'id'] })
  })
  it('rejects a process without user', () => {
    expect(() => rewriteExecProcess({ cwd: '/' } as Process)).toThrow(SpecError)
  })
})
