// The boot watchdog (beyond upstream), run by runcvm-ctr-watchdog beside QEMU until the guest
// shows a sign of life, then gone (nothing stays resident). It fails the container when
//  - QEMU reports a run state the guest never leaves by itself: `internal-error` (KVM could not
//    emulate an instruction: QEMU pauses the guest and the container would hang forever), or
//  - the guest has been *running* for the boot timeout without a sign of life.
// Time only counts while QEMU reports `running`: QMP is silent while QEMU preallocates guest RAM
// or zeroes huge pages (no main loop yet), a paused VM is not running, and `docker pause`
// freezes this process too (the gap it leaves counts as at most two ticks).
//
// A sign of life is anything only a running guest kernel does, for any guest (our VM init,
// `RUNCVM_KERNEL_APPEND=init=/sbin/init`, an in-image kernel and initramfs):
//  - its virtio core probed the virtio-serial controller (any status bit set on it, read with
//    x-query-virtio-status; neither SeaBIOS nor the packaged OVMF touch that device: measured
//    here, OVMF drives and resets virtio-rng only), or
//  - a VSERPORT_CHANGE "open" event (Linux's virtio_console opens console ports when it probes
//    them) or a NIC_RX_FILTER_CHANGED event (a guest driver programmed a NIC's receive filter), or
//  - RunCVM's VM init wrote its mark (/.runcvm/booted).
// A guest kernel without virtio_pci shows none of these: RUNCVM_BOOT_TIMEOUT=0 turns the timeout
// off for such guests (dead states are still caught).
import type { Accel } from '../accel.js'
import type { QmpEvent, QmpLink } from './qmp.js'

/** Poll interval: one query-status per second. */
export const WATCH_INTERVAL_MS = 1000
/**
 * Default boot timeout on KVM (seconds of running time). A KVM guest probes its virtio devices
 * about a second after QEMU starts; this leaves room for slow in-image initramfs stages on a
 * loaded host. On a host whose /dev/kvm is kvm-pvm alone (only reachable with RUNCVM_ACCEL=kvm)
 * the guest is known to spin without output, so fail sooner. Under TCG no default: TCG runs any
 * guest, and its boot time depends on the host's speed.
 */
export const KVM_BOOT_TIMEOUT_S = 120
export const PVM_BOOT_TIMEOUT_S = 30
/** QOM path of the virtio-serial controller's backend (lib/qemu/args.ts: virtio-serial-pci,id=serial0). */
export const VIRTIO_SERIAL_PATH = '/machine/peripheral/serial0/virtio-backend'

/** RUNCVM_BOOT_TIMEOUT (seconds; 0 = off) or the default for this accelerator. */
export function bootTimeoutSeconds(setting: number | undefined, accel: Accel, pvmOnly: boolean): number {
  if (setting !== undefined) return setting
  if (accel === 'tcg') return 0
  return pvmOnly ? PVM_BOOT_TIMEOUT_S : KVM_BOOT_TIMEOUT_S
}

/** The watchdog runs under KVM (dead states) and whenever a boot timeout applies. */
export const watchdogNeeded = (accel: Accel, timeoutS: number): boolean => accel === 'kvm' || timeoutS > 0

/** A QMP event that proves the guest kernel runs, in words; undefined for any other event. */
export function eventSignOfLife(e: QmpEvent): string | undefined {
  if (e.event === 'VSERPORT_CHANGE' && e.data?.open === true) return `the guest opened virtio port '${String(e.data.id)}'`
  if (e.event === 'NIC_RX_FILTER_CHANGED') return 'the guest configured a network interface'
  return undefined
}

export interface WatchOptions {
  /** Boot timeout in ms of running time; 0 = none. */
  timeoutMs: number
  accel: Accel
  /** The accelerator was chosen by RUNCVM_ACCEL=auto (messages then do not blame the user's choice). */
  auto: boolean
  intervalMs?: number
  /** How long one QMP reply may take (real time) before the tick counts as "no answer". */
  replyTimeoutMs?: number
}

/** Message for a QMP run state the guest cannot leave; undefined for every other state. */
export function deadStateMessage(status: string, o: Pick<WatchOptions, 'accel' | 'auto'>): string | undefined {
  if (status === 'internal-error') {
    const what = o.accel === 'kvm' ? 'a KVM internal error: this host\'s KVM cannot run the guest' : 'an internal error'
    const fix = o.accel !== 'kvm' ? '' : o.auto
      ? ' (KVM was chosen automatically because /dev/kvm could run a test VM; set RUNCVM_ACCEL=tcg to use TCG emulation on this host)'
      : ' (set RUNCVM_ACCEL=tcg or auto)'
    return `the VM stopped after ${what}${fix}; QEMU status '${status}'`
  }
  if (status === 'guest-panicked') return `the VM's kernel panicked; QEMU status '${status}'`
  return undefined
}

export function timeoutMessage(seconds: number, o: Pick<WatchOptions, 'accel' | 'auto'>): string {
  const causes = o.accel === 'kvm'
    ? (o.auto
      ? 'either this host\'s KVM cannot run the guest (set RUNCVM_ACCEL=tcg to use TCG emulation), or the guest boots without virtio drivers'
      : 'either KVM cannot run the guest on this host (RUNCVM_ACCEL=kvm was set; try RUNCVM_ACCEL=auto or tcg), or the guest boots without virtio drivers')
    : 'the guest boots without virtio drivers or is stuck before loading them'
  return `the VM showed no sign of life within ${seconds} s of running (no virtio device probed, no virtio port opened, RunCVM's VM init not started): ${causes}. RUNCVM_BOOT_TIMEOUT sets the limit in seconds (0: none)`
}

export interface WatchDeps {
  /** Opens a QMP connection (a link that is `closed` when QEMU is not listening yet). */
  connect(): QmpLink
  /** Monotonic milliseconds. */
  now(): number
  sleep(ms: number): Promise<void>
  /** RunCVM's VM init has marked the boot. */
  booted(): boolean
  /** The QEMU process still exists. */
  qemuAlive(): boolean
}

export type Verdict =
  | { kind: 'booted'; sign: string; runningMs: number }
  | { kind: 'qemu-gone' }
  | { kind: 'fail'; message: string }

type StatusReply = { return?: { status?: unknown } }
type VirtioReply = { return?: { status?: { statuses?: unknown } } }

/** Watches until the guest shows a sign of life, QEMU ends, or the VM has to be failed. */
export async function watchBoot(o: WatchOptions, d: WatchDeps): Promise<Verdict> {
  const interval = o.intervalMs ?? WATCH_INTERVAL_MS
  const replyMs = o.replyTimeoutMs ?? 5000
  let link: QmpLink | undefined
  let runningMs = 0
  let wasRunning = false
  let last = d.now()
  const booted = (sign: string): Verdict => { link?.close(); return { kind: 'booted', sign, runningMs } }
  const fail = (message: string): Verdict => { link?.close(); return { kind: 'fail', message } }
  for (;;) {
    if (d.booted()) return booted('RunCVM\'s VM init started')
    if (!d.qemuAlive()) { link?.close(); return { kind: 'qemu-gone' } }
    if (!link || link.closed) {
      link = d.connect()
      // Give a fresh connection one reply time to finish its handshake (QEMU silent: move on).
      let timer: NodeJS.Timeout | undefined
      await Promise.race([link.ready.catch(() => {}), new Promise<void>(r => { timer = setTimeout(r, replyMs) })])
      clearTimeout(timer)
    }
    let status: string | undefined
    if (link.isReady) {
      const r = await link.execute('query-status', undefined, replyMs) as StatusReply | undefined
      if (typeof r?.return?.status === 'string') status = r.return.status
      // x-query-virtio-status (QEMU 7.2): an error reply (another QEMU) just means no answer.
      const v = await link.execute('x-query-virtio-status', { path: VIRTIO_SERIAL_PATH }, replyMs) as VirtioReply | undefined
      const statuses = v?.return?.status?.statuses
      if (Array.isArray(statuses) && statuses.length > 0) return booted('the guest\'s virtio core probed the virtio-serial controller')
    }
    for (const e of link.takeEvents()) {
      const sign = eventSignOfLife(e)
      if (sign) return booted(sign)
    }
    const now = d.now()
    const running = status === 'running'
    // Clock from the first `running`; a long gap between ticks (docker pause) counts as two ticks.
    if (running && wasRunning) runningMs += Math.min(now - last, 2 * interval)
    wasRunning = running
    last = now
    const dead = status !== undefined ? deadStateMessage(status, o) : undefined
    if (dead) return fail(dead)
    if (o.timeoutMs > 0 && runningMs >= o.timeoutMs) return fail(timeoutMessage(Math.round(o.timeoutMs / 1000), o))
    await d.sleep(interval)
  }
}
