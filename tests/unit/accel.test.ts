import { describe, expect, it } from 'vitest'
import { decideAccel, kvmProblem, parseKvmProbe, type AccelProbe, type KvmProbe } from '../../lib/accel.js'
import { ConfigError } from '../../lib/errors.js'

// Probe lines exactly as native/runcvm-kvm-probe prints them (tests/native checks the binary).
const OK = parseKvmProbe('ok api=12 max_vcpus=1024 smm=1\n')
const fail = (line: string): KvmProbe => parseKvmProbe(line)
const host = (kvm: KvmProbe, over: Partial<AccelProbe> = {}): AccelProbe => ({ kvm, pvm: false, vendor: true, ...over })

describe('runcvm-kvm-probe output', () => {
  it('parses ok and failure lines', () => {
    expect(OK).toEqual({ ok: true, maxVcpus: 1024 })
    expect(fail('fail stage=create-vm errno=EBUSY')).toEqual({ ok: false, stage: 'create-vm', errno: 'EBUSY' })
    expect(fail('fail stage=exit errno=EIO reason=17 suberror=1')).toEqual({ ok: false, stage: 'exit', errno: 'EIO', reason: 17 })
    expect(fail('')).toEqual({ ok: false, stage: 'probe', errno: 'no output' })
    expect(fail('garbage')).toMatchObject({ ok: false, stage: 'probe' })
  })
})

describe('accelerator decision table', () => {
  // [what, setting, probe, accelerator, warning pattern (undefined: none)]
  const table: [string, 'auto' | 'kvm' | 'tcg', AccelProbe, 'kvm' | 'tcg', RegExp | undefined][] = [
    ['working VMX/SVM', 'auto', host(OK), 'kvm', undefined],
    ['no /dev/kvm', 'auto', host(fail('fail stage=open errno=ENOENT'), { vendor: false }), 'tcg', /\/dev\/kvm is not available; running the VM with TCG/],
    ['permission denied (rootless, userns-remap)', 'auto', host(fail('fail stage=open errno=EACCES')), 'tcg', /cannot be opened \(permission denied: rootless Docker, user-namespace remapping/],
    ['EPERM on open is a permission error too', 'auto', host(fail('fail stage=open errno=EPERM')), 'tcg', /permission denied/],
    ['another hypervisor holds VT-x', 'auto', host(fail('fail stage=create-vm errno=EBUSY')), 'tcg', /EBUSY: another hypervisor/],
    ['broken nested: entry fails', 'auto', host(fail('fail stage=exit errno=EIO reason=9 suberror=7')), 'tcg', /could not run it \(exit: exit reason 9; broken nested/],
    ['vCPU never halts', 'auto', host(fail('fail stage=run errno=ETIMEDOUT')), 'tcg', /could not run it \(run: ETIMEDOUT/],
    ['not a KVM device', 'auto', host(fail('fail stage=api errno=ENOTTY')), 'tcg', /not a usable KVM device \(ENOTTY\)/],
    ['kvm-pvm alone, even when its probe passes', 'auto', host(OK, { pvm: true, vendor: false }), 'tcg', /kvm-pvm, which cannot boot a stock kernel/],
    ['kvm-pvm next to kvm_intel/kvm_amd: KVM', 'auto', host(OK, { pvm: true, vendor: true }), 'kvm', undefined],
    ['probe binary missing', 'auto', host({ ok: false, stage: 'probe', errno: 'ENOENT' }), 'tcg', /KVM cannot create a VM \(probe: ENOENT\)/],
    ['forced TCG never probes a thing', 'tcg', host(fail('fail stage=open errno=ENOENT')), 'tcg', undefined],
    ['forced KVM on a working host', 'kvm', host(OK), 'kvm', undefined],
    ['forced KVM on kvm-pvm: KVM with a warning', 'kvm', host(OK, { pvm: true, vendor: false }), 'kvm', /RUNCVM_ACCEL=kvm although \/dev\/kvm is kvm-pvm/],
    ['forced KVM that cannot run: KVM with a warning', 'kvm', host(fail('fail stage=create-vm errno=EBUSY')), 'kvm', /RUNCVM_ACCEL=kvm although KVM cannot create a VM/],
  ]
  it.each(table)('%s', (_what, setting, probe, accel, warning) => {
    const c = decideAccel(setting, probe)
    expect(c.accel).toBe(accel)
    if (warning) expect(c.warning).toMatch(warning)
    else expect(c.warning).toBeUndefined()
    // The integration harness recognises this one line as the accelerator's (ACCEL_WARNING).
    if (c.warning) expect(c.warning).toMatch(/^RunCVM: Warning: [^\n]*(?:TCG|KVM)[^\n]*$/)
  })

  it('forced KVM without a usable device node is a clear error, not a QEMU failure', () => {
    expect(() => decideAccel('kvm', host(fail('fail stage=open errno=ENOENT')))).toThrow(ConfigError)
    expect(() => decideAccel('kvm', host(fail('fail stage=open errno=EACCES')))).toThrow('RUNCVM_ACCEL=kvm, but /dev/kvm exists but cannot be opened (permission denied')
  })

  it('passes the host KVM vCPU limit on', () => {
    expect(decideAccel('auto', host(OK)).maxVcpus).toBe(1024)
    expect(decideAccel('auto', host(fail('fail stage=open errno=ENOENT'))).maxVcpus).toBeUndefined()
    expect(kvmProblem(OK)).toBeUndefined()
  })
})
