// Which accelerator QEMU uses (beyond upstream, which always passes -enable-kvm).
// decideAccel() is pure; probeAccel() gathers the three facts it needs.
//
// Why not "does /dev/kvm exist": kvm-pvm (a paravirtual KVM module for hosts without VMX/SVM)
// provides a /dev/kvm that opens and creates VMs, but a stock kernel cannot boot on it: QEMU hits
// emulation failures and then *pauses* the guest (seen on the development machine). So auto wants real hardware
// virtualisation: vmx or svm in /proc/cpuinfo, and no kvm_pvm module.
import { closeSync, existsSync, openSync, readFileSync, constants } from 'node:fs'

export type Accel = 'kvm' | 'tcg'

export interface AccelProbe {
  /** /dev/kvm opened O_RDWR. */
  kvmRw: boolean
  /** /proc/cpuinfo flags contain vmx or svm. */
  cpuVirt: boolean
  /** /sys/module/kvm_pvm exists. */
  pvm: boolean
}

export interface AccelChoice {
  accel: Accel
  /** One line for stderr when auto fell back to TCG. */
  warning?: string
}

export function decideAccel(setting: 'auto' | 'kvm' | 'tcg', p: AccelProbe): AccelChoice {
  if (setting === 'kvm' || setting === 'tcg') return { accel: setting }
  if (p.kvmRw && p.cpuVirt && !p.pvm) return { accel: 'kvm' }
  const why = !p.kvmRw ? '/dev/kvm is not available'
    : p.pvm ? '/dev/kvm is kvm-pvm, which cannot boot a stock kernel'
    : 'the CPU has no vmx/svm'
  return {
    accel: 'tcg',
    warning: `RunCVM: Warning: ${why}; running the VM with TCG emulation (slow). Set RUNCVM_ACCEL=kvm to force KVM.`,
  }
}

/** /proc/cpuinfo text → has vmx or svm among the flags. */
export const cpuinfoHasVirt = (cpuinfo: string): boolean => /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo)

export function probeAccel(): AccelProbe {
  let kvmRw = false
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR))
    kvmRw = true
  } catch { /* absent or not permitted */ }
  let cpuinfo = ''
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  } catch { /* treat as no virt */ }
  return { kvmRw, cpuVirt: cpuinfoHasVirt(cpuinfo), pvm: existsSync('/sys/module/kvm_pvm') }
}
