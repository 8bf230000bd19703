import { describe, expect, it } from 'vitest'
import {
  parseCreateArgs, parseExecArgs, parseOpts, parseRuncArgv, RUNC_CREATE_OPTS, RUNC_EXEC_OPTS, RUNC_GLOBAL_OPTS,
} from '../../lib/oci/runc-argv.js'

describe('runc global options', () => {
  it.each([
    [['create', 'x'], 'create'],
    [['--debug', 'state', 'x'], 'state'],
    [['--systemd-cgroup', 'state', 'x'], 'state'],
    [['--log', '/l.json', 'state', 'x'], 'state'],
    [['--log=/l.json', 'state', 'x'], 'state'],
    [['--log-format', 'json', 'state', 'x'], 'state'],
    [['--log-format=json', 'state', 'x'], 'state'],
    [['--root', '/r', 'state', 'x'], 'state'],
    [['--root=/r', 'state', 'x'], 'state'],
    [['--criu', '/c', 'state', 'x'], 'state'],
    [['--criu=/c', 'state', 'x'], 'state'],
    [['--rootless', 'auto', 'state', 'x'], 'state'],
    [['--rootless=true', 'state', 'x'], 'state'],
    [['-debug', '-root', '/r', 'exec', 'x'], 'exec'],
    [['--debug', '--systemd-cgroup', '--root', '/r', '--log=/l', '--log-format', 'json', '--criu', 'c', '--rootless', 'false', 'create', 'x'], 'create'],
  ])('%j -> %s', (argv, verb) => {
    const r = parseRuncArgv(argv)
    expect(r.command).toBe(verb)
    expect(r.rest.at(-1)).toBe('x')
  })

  it('the argv docker 20.10 uses for create', () => {
    const argv = ['--root', '/var/run/docker/runtime-runc/moby', '--log', '/run/x/log.json', '--log-format', 'json',
      'create', '--bundle', '/run/x', '--pid-file', '/run/x/init.pid', '--console-socket', '/tmp/pty.sock', 'cid']
    const { command, rest } = parseRuncArgv(argv)
    expect(command).toBe('create')
    expect(parseCreateArgs(rest)).toEqual({ bundle: '/run/x', id: 'cid' })
  })

  it('no verb at all', () => expect(parseRuncArgv(['--debug']).command).toBeUndefined())

  it('declares every boolean flag as boolean', () => {
    const bools = (defs: typeof RUNC_GLOBAL_OPTS) => defs.filter(d => !d.value).map(d => d.name).sort()
    expect(bools(RUNC_GLOBAL_OPTS)).toEqual(['debug', 'help', 'systemd-cgroup', 'version'])
    expect(bools(RUNC_CREATE_OPTS)).toEqual(['no-new-keyring', 'no-pivot'])
    expect(bools(RUNC_EXEC_OPTS)).toEqual(['detach', 'ignore-paused', 'no-new-privs', 'tty'])
  })
})

describe('create options', () => {
  it.each([
    [['--bundle', '/b', 'id'], '/b'],
    [['-b', '/b', 'id'], '/b'],
    [['--bundle=/b', 'id'], '/b'],
    [['--no-pivot', '--no-new-keyring', '--bundle', '/b', '--preserve-fds', '3', 'id'], '/b'],
    [['--pid-file', '/p', '--console-socket', '/s', '-b', '/b', 'id'], '/b'],
    [['--no-pivot', 'id'], undefined],
    [['id'], undefined],
  ])('%j', (rest, bundle) => {
    expect(parseCreateArgs(rest)).toEqual({ bundle, id: 'id' })
  })
  it('an unknown --x=y does not eat the id', () => expect(parseCreateArgs(['--future=1', '-b', '/b', 'id']).id).toBe('id'))
})

describe('exec options', () => {
  it.each([
    [['--process', '/p.json', 'id']],
    [['-p', '/p.json', 'id']],
    [['--process=/p.json', 'id']],
    [['--process', '/p.json', '--console-socket', '/s', '--detach', '--pid-file', '/x.pid', 'id']],
    [['--tty', '--process', '/p.json', 'id']],
    [['-t', '-d', '-p', '/p.json', 'id']],
    [['--no-new-privs', '--ignore-paused', '--cap', 'CAP_X', '-c', 'CAP_Y', '--cgroup', 'a:b', '-p', '/p.json', 'id']],
    [['-e', 'A=1', '--env', 'B=2', '-u', '1:1', '--user', '2', '-g', '3', '--additional-gids', '4', '--cwd', '/w', '-p', '/p.json', 'id']],
    [['--apparmor', 'x', '--process-label', 'y', '--preserve-fds', '1', '-p', '/p.json', 'id']],
  ])('%j', rest => {
    const r = parseExecArgs(rest)
    expect(r.processFile).toBe('/p.json')
    // Upstream left the -p value on argv and took it for the container id.
    expect(r.id).toBe('id')
  })

  it('flags', () => {
    expect(parseExecArgs(['--process', 'p', '--console-socket', 's', '--detach', 'id'])).toEqual({ processFile: 'p', id: 'id', tty: false, detach: true })
    expect(parseExecArgs(['-t', 'id', 'sh'])).toEqual({ processFile: undefined, id: 'id', tty: true, detach: false })
  })

  it('parseOpts stops at -- and at the first positional', () => {
    expect(parseOpts(['-t', '--', '-p', 'x'], RUNC_EXEC_OPTS)).toEqual({ opts: { tty: true }, next: 2 })
    expect(parseOpts(['id', '-p', 'x'], RUNC_EXEC_OPTS)).toEqual({ opts: {}, next: 0 })
  })
})
