import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCtrExecArgs, planCtrExec, vmAddress, withRequestCleanup } from '../../lib/exec/plan.js'
import { tempDir } from './helpers.js'
import { MAX_INLINE_COMMAND, decodeRequest, nulSplit } from '../../lib/exec/codec.js'
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
    const p = planCtrExec({ args, env: { PATH: '/bin', SECRET: 's3cr3t' }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.argv.slice(0, 8)).toEqual(['/.runcvm/guest/usr/bin/dbclient', '-t', '-p', '22222', '-y', '-i', '/.runcvm/dropbear/key', 'root@172.17.0.2'])
    expect(p.argv.filter(a => a === '-y')).toEqual(['-y']) // the host key is checked (pinned in known_hosts): never -y -y
    // the request (env included) is never on dbclient's world-readable argv: always the file
    expect(p.argv[8]).toBe("exec /.runcvm/guest/sbin/runcvm-init --request-file '/.runcvm/dropbear/exec-n.req'")
    expect(p.argv.join(' ')).not.toContain('s3cr3t')
    expect(nulSplit(p.file.content).slice(-3)).toEqual(['sh', '-c', 'echo hi'])
    expect(nulSplit(p.file.content)).toContain('SECRET=s3cr3t')
  })
  it('falls back to the first address without a gateway', () => expect(vmAddress({ ...NET, interfaces: [NET.interfaces[0]] })).toBe('172.18.0.2'))
  it('refuses without any address', () =>
    expect(() => planCtrExec({ args, env: {}, passwd: pw, net: { v: 1, routes: [], interfaces: [] }, nonce: 'n' })).toThrow(/network/))
  it('huge requests: the same file', () => {
    const p = planCtrExec({ args, env: { BIG: 'x'.repeat(20000) }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.file?.path).toBe('/.runcvm/dropbear/exec-n.req')
    expect(p.argv.at(-1)).toBe("exec /.runcvm/guest/sbin/runcvm-init --request-file '/.runcvm/dropbear/exec-n.req'")
    expect(p.argv.at(-1)!.length).toBeLessThan(MAX_INLINE_COMMAND)
    expect(nulSplit(p.file!.content)).toContain(`BIG=${'x'.repeat(20000)}`)
  })
  it('Node fallback on request', () => {
    const p = planCtrExec({ args, env: { RUNCVM_EXEC_VIA: 'node' }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.argv.at(-1)).toBe("exec /.runcvm/guest/scripts/runcvm-vm-exec --request-file '/.runcvm/dropbear/exec-n.req'")
    expect(decodeRequest(p.file.content.toString())).toEqual(p.request)
    expect(p.request.env).not.toContain('RUNCVM_EXEC_VIA=node')
  })
  it('the request carries the workload env: RUNCVM_* hidden, HOME of the requested user', () => {
    const p = planCtrExec({ args, env: { PATH: '/bin', RUNCVM_FOO: '1', HOME: '/root' }, passwd: pw, net: NET, nonce: 'n' })
    expect(p.request.env).toEqual(['PATH=/bin', 'HOME=/home/user'])
  })
})

describe('the request file is removed when dbclient ends, whatever happened', () => {
  // The real script, run by the host's sh (`/usr/bin/env sh`, `/usr/bin/env rm` stand in for busybox).
  const run = (argv: string[], opts: { signal?: NodeJS.Signals } = {}) => {
    const dir = tempDir(), req = join(dir, 'exec-n.req')
    writeFileSync(req, 'request')
    const cmd = withRequestCleanup(req, argv, '/usr/bin/env')
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 10_000 })
    return { status: r.status, left: existsSync(req), stderr: r.stderr }
  }
  it('dbclient succeeds: status 0, no file left', () => expect(run(['true'])).toMatchObject({ status: 0, left: false }))
  it('dbclient fails (unreachable, refused login, host key mismatch): its status kept, no file left', () =>
    expect(run(['sh', '-c', 'exit 255'])).toMatchObject({ status: 255, left: false }))
  it('dbclient cannot be started: 127, no file left', () => expect(run(['/nonexistent/dbclient'])).toMatchObject({ status: 127, left: false }))
  it('the wrapper gets SIGTERM: 143, no file left', () =>
    // The command signals its parent (the wrapper) and ends: the trap runs after it.
    expect(run(['sh', '-c', 'kill -TERM $PPID; sleep 0.2'])).toMatchObject({ status: 143, left: false }))
  it('the wrapper gets SIGHUP: 129, no file left', () =>
    expect(run(['sh', '-c', 'kill -HUP $PPID; sleep 0.2'])).toMatchObject({ status: 129, left: false }))
  it('the plan execs dbclient under the wrapper for its own request file', () => {
    const args = parseCtrExecArgs(['0:0:', '/', '1', 'false', 'true'])
    const p = planCtrExec({ args, env: {}, passwd: pw, net: NET, nonce: 'n' })
    expect(p.execArgv).toEqual(withRequestCleanup('/.runcvm/dropbear/exec-n.req', p.argv))
    expect(p.execArgv.slice(0, 3)).toEqual(['/.runcvm/guest/usr/bin/busybox', 'sh', '-c'])
    expect(p.execArgv.slice(4, 7)).toEqual(['runcvm-exec', '/.runcvm/dropbear/exec-n.req', '/.runcvm/guest/usr/bin/dbclient'])
  })
})
