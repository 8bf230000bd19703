// Console/display choice (upstream runcvm-ctr-qemu RUNCVM_DISPLAY_MODE block). Pure.
import type { RunCvmSettings } from '../settings.js'
import type { DisplayMode, VmSpec } from './vm-spec.js'

type DisplaySettings = Pick<RunCvmSettings, 'RUNCVM_DISPLAY_MODE' | 'RUNCVM_QEMU_DISPLAY' | 'RUNCVM_QEMU_VGA' | 'RUNCVM_QEMU_VNC_DISPLAY'>

export function displayOf(s: DisplaySettings): VmSpec['display'] {
  const mode = s.RUNCVM_DISPLAY_MODE
  const frontend = s.RUNCVM_QEMU_DISPLAY || 'none'
  if (mode === 'vnc') return { mode, frontend, vga: s.RUNCVM_QEMU_VGA || 'virtio', vncDisplay: s.RUNCVM_QEMU_VNC_DISPLAY ?? 0 }
  return { mode, frontend, vga: s.RUNCVM_QEMU_VGA || 'none', ...(s.RUNCVM_QEMU_VNC_DISPLAY !== undefined ? { vncDisplay: s.RUNCVM_QEMU_VNC_DISPLAY } : {}) }
}

/** The VM's console device for each mode: virtconsole, 8250 UART, VGA text console. */
export function consoleDevice(mode: DisplayMode): 'hvc0' | 'ttyS0' | 'tty0' {
  return mode === 'headless' ? 'hvc0' : mode === 'serial' ? 'ttyS0' : 'tty0'
}
