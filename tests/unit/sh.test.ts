// lib/sh.ts: shell quoting and the one-script batch form of a command plan.
import { describe, expect, it } from 'vitest'
import { shWord } from '../../lib/sh.js'

describe('shell quoting for batches', () => {
  it('quotes only what needs it', () => {
    expect(shWord('/sys/fs/cgroup')).toBe('/sys/fs/cgroup')
    expect(shWord("it's a b")).toBe(`'it'\\''s a b'`)
    expect(shWord('')).toBe("''")
  })
})

describe('buildShScript', () => {
  it('one script: ip runs as a here-doc batch, failures stop unless keepGoing, background last', async () => {
    const { buildShScript } = await import('../../lib/sh.js')
    const cmds = [['/bb', 'mount', '-o', 'remount,rw', '/'], ['/ip', 'link', 'set', 'lo', 'up'], ['/ip', 'addr', 'add', '1.2.3.4/8', 'dev', 'eth0'], ['/bb', 'mkdir', "it's"]]
    expect(buildShScript(cmds, { batchIp: '/ip' })).toBe(
      "/bb mount -o remount,rw / || exit $?\n/ip -batch - <<'RUNCVM_EOF' || exit $?\nlink set lo up\naddr add 1.2.3.4/8 dev eth0\nRUNCVM_EOF\n/bb mkdir 'it'\\''s' || exit $?\n")
    expect(buildShScript([['/ip', 'x']], { batchIp: '/ip', keepGoing: true, background: [['/bb', 'arping', '-U']] })).toBe(
      "/ip -force -batch - <<'RUNCVM_EOF'\nx\nRUNCVM_EOF\n/bb arping -U &\n")
    expect(buildShScript([['/bb', 'mount', '-t', 'proc', 'proc', '/proc'], ['/x', 'y']], { applets: '/bb', keepGoing: true })).toBe('mount -t proc proc /proc\n/x y\n')
  })
})
