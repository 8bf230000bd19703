// Host-key pinning for docker exec: the dropbear ed25519 key file (a real one, made by the
// package's dropbearkey) → the known_hosts line dbclient checks the VM against; and the private
// directory dbclient's HOME must be.
import { mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, chmodSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dropbearEd25519Public, knownHostsLine } from '../../lib/exec/hostkey.js'
import { ensurePrivateDir } from '../../lib/fsx.js'

const KEY = readFileSync('tests/fixtures/dropbear/ed25519_host_key')
// `dropbearkey -y -f ed25519_host_key`, recorded with the key.
const PUB = readFileSync('tests/fixtures/dropbear/ed25519_host_key.pub', 'utf8').trim().split(' ')

describe('dropbear host key → known_hosts', () => {
  it('gives the public key dropbearkey -y prints', () => {
    expect(PUB[0]).toBe('ssh-ed25519')
    expect(dropbearEd25519Public(KEY)).toBe(PUB[1])
  })
  it('is one line: address, type, key', () => {
    expect(knownHostsLine('172.17.0.2', KEY)).toBe(`172.17.0.2 ssh-ed25519 ${PUB[1]}\n`)
    expect(knownHostsLine('fd00::2', KEY)).toBe(`fd00::2 ssh-ed25519 ${PUB[1]}\n`)
  })
  it('refuses anything that is not exactly a dropbear ed25519 key', () => {
    const rsa = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), KEY.subarray(15)])
    for (const bad of [Buffer.alloc(0), KEY.subarray(0, 40), Buffer.concat([KEY, Buffer.from([0])]), rsa, Buffer.from('ssh-ed25519 AAAA')]) {
      expect(() => dropbearEd25519Public(bad)).toThrow(/not a dropbear ed25519 key/)
    }
  })
  it('refuses a host that is not an address (no known_hosts line injection)', () => {
    for (const h of ['', 'a b', '1.2.3.4\n5.6.7.8 ssh-ed25519 AAAA', 'host.example']) {
      expect(() => knownHostsLine(h, KEY)).toThrow(/not an IP address/)
    }
  })
})

describe('ensurePrivateDir', () => {
  const base = mkdtempSync(join(tmpdir(), 'runcvm-privdir-'))
  it('creates a missing directory 0700', () => {
    const d = join(base, 'new')
    ensurePrivateDir(d)
    expect(statSync(d).mode & 0o777).toBe(0o700)
    ensurePrivateDir(d) // existing and private: fine
  })
  it('refuses a symlink, a file and a directory others may use', () => {
    const target = join(base, 'target'); mkdirSync(target, 0o700)
    const link = join(base, 'link'); symlinkSync(target, link)
    const file = join(base, 'file'); writeFileSync(file, '')
    const open = join(base, 'open'); mkdirSync(open); chmodSync(open, 0o755)
    for (const d of [link, file, open]) expect(() => ensurePrivateDir(d)).toThrow(/not a private directory/)
  })
})
