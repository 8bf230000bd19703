// lib/vm/exit-code.ts: the container's exit code from the app's file, the VM's status and QEMU's.
import { describe, expect, it } from 'vitest'
import { deriveExitCode } from '../../lib/vm/exit-code.js'

describe('exit code derivation', () => {
  it.each([
    [{ appCode: -1, exitStatus: 3, qemuStatus: 0 }, 255],
    [{ appCode: 300 }, 44],
    [{ exitStatus: 3, qemuStatus: 0 }, 3],
    [{ exitStatus: 137 }, 137],
    [{ qemuStatus: 5 }, 3], // qemu-exit 3 → 2*3-1
    [{ qemuStatus: 255 }, 128],
    [{ qemuStatus: 0 }, 0],
    [{}, 0],
  ])('%o → %d', (facts, code) => expect(deriveExitCode(facts)).toBe(code))
})
