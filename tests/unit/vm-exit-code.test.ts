// lib/vm/exit-code.ts: the container's exit code from the app's file, the VM's status and QEMU's.
import { describe, expect, it } from 'vitest'
import { deriveExitCode, qemuSignalError } from '../../lib/vm/exit-code.js'

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
    [{ qemuStatus: 135, qemuSignal: 7 }, 135], // QEMU killed by SIGBUS: not qemu-exit 68
    [{ exitStatus: 0, qemuStatus: 137, qemuSignal: 9 }, 0], // the workload's own status still wins
  ])('%o → %d', (facts, code) => expect(deriveExitCode(facts)).toBe(code))
  it('an error names the signal when QEMU died before the workload ended', () => {
    expect(qemuSignalError({ qemuStatus: 135, qemuSignal: 7 }, 'SIGBUS')).toBe(
      'RunCVM: Error: QEMU was killed by signal 7 (SIGBUS); the VM ended abnormally: its guest RAM file could not be backed (a /dev/shm smaller than the VM memory, or no memory left)')
    expect(qemuSignalError({ exitStatus: 0, qemuSignal: 9 })).toBeUndefined()
    expect(qemuSignalError({ qemuStatus: 0 })).toBeUndefined()
  })
})
