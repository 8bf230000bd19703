// lib/vm/passwd.ts: /etc/passwd parsing and the HOME rule in the VM.
import { describe, expect, it } from 'vitest'
import { homeOf, parsePasswd, resolveHome } from '../../lib/vm/passwd.js'

describe('passwd / HOME (moby#2968)', () => {
  const pw = 'root:x:0:0:root:/root:/bin/sh\n# c\nbad line\nuser:x:1000:1000::/home/user:/bin/sh\nnobody:x:65534:65534:n:/nonexistent:/bin/false\n'
  it('parses and looks up by uid or name', () => {
    expect(parsePasswd(pw)).toHaveLength(3)
    expect(homeOf(parsePasswd(pw), 1000)).toBe('/home/user')
    expect(homeOf(parsePasswd(pw), 'root')).toBe('/root')
  })
  it('keeps an explicit HOME, else the user\'s home, else /', () => {
    expect(resolveHome(true, '/custom', pw, 1000)).toBe('/custom')
    expect(resolveHome(false, '/root', pw, 1000)).toBe('/home/user')
    expect(resolveHome(false, '/root', pw, 4242)).toBe('/')
    expect(resolveHome(false, '/root', undefined, 0)).toBe('/')
  })
})
