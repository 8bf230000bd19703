// lib/vm/mounts.ts: /dev fixes in the VM.
import { describe, expect, it } from 'vitest'
import { groupId } from '../../lib/vm/mounts.js'

describe('/dev fixes', () => {
  it('tty group id from /etc/group, 5 when absent', () => {
    expect(groupId('root:x:0:\ntty:x:7:\n', 'tty', 5)).toBe(7)
    expect(groupId(undefined, 'tty', 5)).toBe(5)
  })
})
