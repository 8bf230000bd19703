import { describe, expect, it } from 'vitest'
import { parseCtrExecArgs, planCtrExec, vmAddress } from '../../lib/exec/plan.js'
import { MAX_INLINE_COMMAND, nulSplit } from '../../lib/exec/codec.js'
import { parsePasswd } from '../../lib/passwd.js'
import type { NetworkState } from '../../lib/state.js'

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nbad line\nuser:x:1000:1000::/home/user:/bin/sh\nnohome:x:1001:1001:::/bin/sh\n'
const pw = parsePasswd(PASSWD)
const NET: NetworkState = { v: 1, routes: [], interfaces: [
  { name: 'eth1', mac: '02:42:ac:12:00:02', mtu: 1500, ip: '172.18.0.2', prefix: 16 },
  { name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' },
] }

describe('planCtrExec', () => {
  const args = parseCtrExecArgs(['1000:1000:', '/tmp', '0', 'true', 'sh', '-c', 'echo hi'])
  it('parses the rewrite-exec argv', () => expect(args).toEqual({ uidGid: '1000:1000:', cwd: '/tmp', hasHome: false, tty: true, args: ['sh', '-c', 'echo hi'] }))
  it('connects to the default interface with -t', () => {
    const p = planCtrExec({ args, env: { PATH: '/bin' }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.argv.slice(0, 9)).toEqual(['/.runcvm/guest/usr/bin/dbclient', '-t', '-p', '22222', '-y', '-y', '-i', '/.runcvm/dropbear/key', 'root@172.17.0.2'])
    expect(p.file).toBeUndefined()
    expect(nulSplit(Buffer.from(p.argv[9].split(' ').at(-1)!, 'base64')).slice(-3)).toEqual(['sh', '-c', 'echo hi'])
  })
  it('falls back to the first address without a gateway', () => expect(vmAddress({ ...NET, interfaces: [NET.interfaces[0]] })).toBe('172.18.0.2'))
  it('refuses without any address', () =>
    expect(() => planCtrExec({ args, env: {}, passwd: pw, net: { v: 1, routes: [], interfaces: [] }, nonce: 'n' })).toThrow(/network/))
  it('moves huge requests to a file', () => {
    const p = planCtrExec({ args, env: { BIG: 'x'.repeat(20000) }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.file?.path).toBe('/.runcvm/dropbear/exec-n.req')
    expect(p.argv.at(-1)).toBe("exec /.runcvm/guest/sbin/runcvm-init --request-file '/.runcvm/dropbear/exec-n.req'")
    expect(p.argv.at(-1)!.length).toBeLessThan(MAX_INLINE_COMMAND)
    expect(nulSplit(p.file!.content)).toContain(`BIG=${'x'.repeat(20000)}`)
  })
  it('Node fallback on request', () => {
    const p = planCtrExec({ args, env: { RUNCVM_EXEC_VIA: 'node' }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.argv.at(-1)).toMatch(/^exec \/\.runcvm\/guest\/scripts\/runcvm-vm-exec [A-Za-z0-9+/=]+$/)
    expect(p.request.env).not.toContain('RUNCVM_EXEC_VIA=node')
  })
  it('the request carries the workload env: RUNCVM_* hidden, HOME of the requested user', () => {
    const p = planCtrExec({ args, env: { PATH: '/bin', RUNCVM_FOO: '1', HOME: '/root' }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.request.env).toEqual(['PATH=/bin', 'HOME=/home/user'])
  })
})
