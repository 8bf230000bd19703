import { describe, expect, it } from 'vitest'
import { SpecError } from '../../lib/errors.js'
import { rewriteExecProcess } from '../../lib/oci/rewrite-exec.js'
import type { Process } from '../../lib/oci/spec.js'
import { CTR_EXEC } from '../../lib/paths.js'
import { pretty, PROCESS_FIXTURES, processFixture } from './helpers.js'

/** runcvm-ctr-exec's argv for each captured `docker exec`, stated from the flags that made it. */
const EXPECTED_ARGS: Record<string, string[]> = {
  'process-exec-detach-home.json': ['0:0:0', '/', '1', 'false', 'true'], // -d -e HOME=/custom
  'process-exec-it.json': ['0:0:0', '/', '0', 'true', 'sh', '-c', 'echo hi'],
  'process-exec-t.json': ['0:0:0', '/', '0', 'true', 'true'],
  'process-exec-tty.json': ['0:0:0', '/', '0', 'true', 'true'],
  'process-exec-user-workdir.json': ['1000:1000:1000', '/tmp', '0', 'false', 'sh', '-c', 'id; pwd'],
}

it('every captured fixture has stated expectations', () => expect(Object.keys(EXPECTED_ARGS).sort()).toEqual([...PROCESS_FIXTURES].sort()))

describe.each(PROCESS_FIXTURES)('%s', name => {
  const input = processFixture(name)
  const out = rewriteExecProcess(input)
  it('prefixes runcvm-ctr-exec with uid:gid:gids, cwd, hasHome, terminal', () => {
    expect(out.args).toEqual([CTR_EXEC, ...EXPECTED_ARGS[name]])
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
