// The network namespace path of the spec is judged by what it leads to: a symlink (or any other
// name) for the host's namespace is refused at create like --network=host; the engine's own
// sandboxes pass. The path comes from the engine (a host path), never from the image.
import { readFileSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatForDocker, RunCvmError } from '../../lib/errors.js'
import { runCreate } from '../../lib/oci/bundle.js'
import { checkNetnsIdentity } from '../../lib/oci/rewrite-create.js'
import { makeBundle, tempDir } from './helpers.js'

describe('checkNetnsIdentity', () => {
  const host = [{ dev: 4, ino: 4026531840 }]
  it('refuses a path whose namespace is the host one, naming the path', () =>
    expect(() => checkNetnsIdentity('/run/netns/x', { dev: 4, ino: 4026531840 }, host)).toThrow(/\/run\/netns\/x is the host's network namespace/))
  it('passes another namespace, and a path that cannot be opened (runc reports that)', () => {
    expect(() => checkNetnsIdentity('/run/netns/x', { dev: 4, ino: 4026532000 }, host)).not.toThrow()
    expect(() => checkNetnsIdentity('/run/netns/x', undefined, host)).not.toThrow()
  })
})

describe('runCreate with a netns path leading to the host namespace', () => {
  function create(netnsPath: string): { error?: string; before: Buffer; after: Buffer } {
    const { bundle, file, hostRoot } = makeBundle(spec => {
      spec.linux.namespaces = spec.linux.namespaces.map((n: { type: string }) => n.type === 'network' ? { type: 'network', path: netnsPath } : n)
    })
    const before = readFileSync(file)
    let error: string | undefined
    try { runCreate(bundle, { hostRoot }) } catch (e) { if (!(e instanceof RunCvmError)) throw e; error = formatForDocker(e) }
    return { error, before, after: readFileSync(file) }
  }
  it('a symlink (as under /var/run/netns) to the runtime\'s own namespace: refused, config.json untouched', () => {
    const link = join(tempDir(), 'netns-x')
    symlinkSync('/proc/self/ns/net', link)
    expect(statSync(link).ino).toBe(statSync('/proc/self/ns/net').ino)
    const r = create(link)
    expect(r.error).toMatch(/RunCVM: Error: the container's network namespace path .*netns-x is the host's network namespace/)
    expect(r.after.equals(r.before)).toBe(true)
  })
  it("an engine sandbox path that is not the host's passes", () => expect(create('/var/run/docker/netns/0123456789ab').error).toBeUndefined())
})
