// The workload's identity and environment: lib/passwd.ts (image passwd/group), lib/ids.ts
// (uid:gid:groups), lib/workload-env.ts (RUNCVM_* hidden, HOME rule), shared by docker run
// (ctr-entrypoint) and docker exec (ctr-exec).
import { describe, expect, it } from 'vitest'
import { formatUidGid, parseUidGid } from '../../lib/ids.js'
import { groupId, parsePasswd } from '../../lib/passwd.js'
import { withoutRunCvmVars, workloadEnv, workloadHome } from '../../lib/workload-env.js'

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
