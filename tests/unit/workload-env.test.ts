// The workload's identity and environment: lib/passwd.ts (image passwd/group), lib/ids.ts
// (uid:gid:groups), lib/workload-env.ts (RUNCVM_* hidden, HOME rule), shared by docker run
// (ctr-entrypoint) and docker exec (ctr-exec).
import { describe, expect, it } from 'vitest'
import { formatUidGid, parseUidGid } from '../../lib/ids.js'
import { groupId, parsePasswd } from '../../lib/passwd.js'
import {
  dropWorkloadEnv, readWorkloadEnv, ROLE_PATH, roleEnv, roleInputEnv, withoutRunCvmVars, workloadEnv, workloadHome, WORKLOAD_ENV_PREFIX,
} from '../../lib/workload-env.js'
import { envOf } from '../../lib/settings.js'

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n# comment:x:1000:1000::/comment:/bin/sh\nbad line\n' +
  'user:x:1000:1000::/home/user:/bin/sh\nnohome:x:1001:1001:::/bin/sh\nuser2:x:1000:1000::/second:/bin/sh\n'
const pw = parsePasswd(PASSWD)

describe('passwd / group', () => {
  it('skips comments, blank and malformed lines', () => expect(pw.map(e => e.name)).toEqual(['root', 'user', 'nohome', 'user2']))
  it('a missing file is no entries', () => expect(parsePasswd(undefined)).toEqual([]))
  it('tty group id from /etc/group, the fallback when absent', () => {
    expect(groupId('root:x:0:\ntty:x:7:\n', 'tty', 5)).toBe(7)
    expect(groupId('tty:x:notanumber:\n', 'tty', 5)).toBe(5)
    expect(groupId(undefined, 'tty', 5)).toBe(5)
  })
})

describe('HOME (moby#2968)', () => {
  it('an explicit HOME wins', () => expect(workloadHome(true, '/custom', pw, 1000)).toBe('/custom'))
  it('else the first passwd entry of the uid', () => expect(workloadHome(false, '/root', pw, 1000)).toBe('/home/user'))
  it('"/" like runc when the uid is unknown, its home empty, or there is no passwd', () => {
    expect(workloadHome(false, '/root', pw, 4242)).toBe('/')
    expect(workloadHome(false, '/root', pw, 1001)).toBe('/')
    expect(workloadHome(false, undefined, [], 0)).toBe('/')
  })
})

describe('workloadEnv', () => {
  const o = (hasHome: boolean, uid = 0) => ({ hasHome, uid, passwd: pw })
  it('hides every RUNCVM_* name, options, internal ones and unknown ones, and keeps order', () =>
    expect(workloadEnv({ PATH: '/bin', RUNCVM_UIDGID: '0:0:', A: '1', RUNCVM_FOO: '1', RUNCVM_EXEC_VIA: 'node', HOME: '/x', B: 'RUNCVM_Y' }, o(true)))
      .toEqual(['PATH=/bin', 'A=1', 'HOME=/x', 'B=RUNCVM_Y']))
  it('replaces, in place, the HOME runc gave the RunCVM role when nobody set HOME', () =>
    expect(workloadEnv({ PATH: '/bin', HOME: '/root', Z: 'z' }, o(false, 1000))).toEqual(['PATH=/bin', 'HOME=/home/user', 'Z=z']))
  it('appends HOME when absent', () => expect(workloadEnv({ PATH: '/bin' }, o(false))).toEqual(['PATH=/bin', 'HOME=/root']))
  it('skips unset values', () => expect(workloadEnv({ A: undefined, HOME: '/h' }, o(true))).toEqual(['HOME=/h']))
  it('withoutRunCvmVars on NAME=value lists', () =>
    expect(withoutRunCvmVars(['RUNCVM_X=1', 'X=RUNCVM_Y', 'E=', 'RUNCVM_='])).toEqual(['X=RUNCVM_Y', 'E=']))
})

describe('uid:gid:groups', () => {
  it('formats an OCI user', () => {
    expect(formatUidGid({ uid: 1000, gid: 100, additionalGids: [4, 24] })).toBe('1000:100:4,24')
    expect(formatUidGid({ uid: 0, gid: 0 })).toBe('0:0:')
  })
  it('parses what it formats', () => {
    expect(parseUidGid('1:2:3,4')).toEqual({ uid: 1, gid: 2, groups: [3, 4] })
    expect(parseUidGid('0:0:')).toEqual({ uid: 0, gid: 0, groups: [] })
    expect(parseUidGid(formatUidGid({ uid: 7, gid: 8, additionalGids: [9] }))).toEqual({ uid: 7, gid: 8, groups: [9] })
  })
  it('rejects names and garbage', () => {
    expect(() => parseUidGid('root:0:')).toThrow(/uid:gid:groups/)
    expect(() => parseUidGid('1:2')).toThrow(/uid:gid:groups/)
  })
})

describe('roleEnv / readWorkloadEnv: the container side never runs with the workload env', () => {
  const HOSTILE = [
    'PATH=/evil/bin:/usr/bin', 'NODE_OPTIONS=--require /x.js', 'LD_PRELOAD=/x.so', 'LD_LIBRARY_PATH=/evil', 'BASH_ENV=/x.sh',
    'ENV=/x.sh', 'GCONV_PATH=/evil', 'LOCPATH=/evil', 'HOSTALIASES=/evil', 'GLIBC_TUNABLES=glibc.malloc.check=3',
    'OPENSSL_CONF=/evil.cnf', 'ZX_SHELL=/x.sh', 'TERM=xterm', 'WEIRD=a=b\nc', 'RUNCVM_KERNEL=debian',
  ]
  const out = roleEnv(HOSTILE)
  const names = out.map(kv => kv.slice(0, kv.indexOf('=')))
  it('has only PATH, HOME, a plain TERM, RUNCVM_* and the data chunks', () => {
    expect(names.filter(n => !n.startsWith('RUNCVM_'))).toEqual(['PATH', 'HOME', 'TERM'])
    expect(out).toContain(`PATH=${ROLE_PATH}`)
    expect(out).toContain('HOME=/')
    expect(out).toContain('RUNCVM_KERNEL=debian')
  })
  it('the workload env round-trips as data, RUNCVM_* aside', () => {
    expect(Object.entries(readWorkloadEnv(envOf(out))).map(([k, v]) => `${k}=${v}`)).toEqual(HOSTILE.filter(kv => !kv.startsWith('RUNCVM_')))
    expect(roleInputEnv(envOf(out))).toMatchObject({ NODE_OPTIONS: '--require /x.js', RUNCVM_KERNEL: 'debian' })
  })
  it('a TERM that is not a plain name stays data only', () => {
    expect(roleEnv(['TERM=../../evil']).filter(kv => kv.startsWith('TERM='))).toEqual([])
  })
  it('chunks planted by the image are dropped, not appended', () => {
    const e = roleEnv(['A=1', `${WORKLOAD_ENV_PREFIX}1=,"LD_PRELOAD=/x.so"]`, `${WORKLOAD_ENV_PREFIX}0=["X=1"`])
    expect(readWorkloadEnv(envOf(e))).toEqual({ A: '1' })
  })
  it('a huge env (700 KB, astral characters at chunk edges) fits the kernel limit per string and round-trips', () => {
    const big = Array.from({ length: 70 }, (_, i) => `V${i}=${'\u{1F600}'.repeat(2_500)}${'x'.repeat(i)}`)
    const e = roleEnv(big)
    for (const kv of e) expect(Buffer.byteLength(kv) + 1).toBeLessThanOrEqual(128 * 1024)
    expect(e.filter(kv => kv.startsWith(WORKLOAD_ENV_PREFIX)).length).toBeGreaterThan(5)
    expect(Object.entries(readWorkloadEnv(envOf(e))).map(([k, v]) => `${k}=${v}`)).toEqual(big)
  })
  it('refuses a missing or malformed workload env', () => {
    expect(() => readWorkloadEnv({ PATH: '/bin' })).toThrow(/RUNCVM_WORKLOAD_ENV_/)
    expect(() => readWorkloadEnv({ [`${WORKLOAD_ENV_PREFIX}0`]: '{"a":1}' })).toThrow(/malformed/)
  })
  it('dropWorkloadEnv removes only the chunks', () => {
    const env: Record<string, string | undefined> = envOf(out)
    dropWorkloadEnv(env)
    expect(Object.keys(env).some(k => k.startsWith(WORKLOAD_ENV_PREFIX))).toBe(false)
    expect(env.PATH).toBe(ROLE_PATH)
  })
})
