// The boot watchdog against a fake QEMU: a real unix socket in this test speaking QMP JSON
// (greeting, qmp_capabilities, query-status, x-query-virtio-status, events), driven by an
// injected clock that the watchdog's own sleeps advance.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connectQmp } from '../../lib/qemu/qmp.js'
import {
  bootTimeoutSeconds, deadStateMessage, eventSignOfLife, KVM_BOOT_TIMEOUT_S, PVM_BOOT_TIMEOUT_S, timeoutMessage, VIRTIO_SERIAL_PATH,
  watchBoot, watchdogNeeded, type Verdict, type WatchOptions,
} from '../../lib/qemu/watchdog.js'

const S = 1000

/** What the fake QEMU answers at fake time t (ms). */
interface Script {
  /** QMP stays silent (no greeting) before this time: QEMU still preallocating. */
  greetAt?: number
  status(t: number): string
  /** x-query-virtio-status statuses of the virtio-serial controller; 'error' answers with a QMP error. */
  virtio?(t: number): string[] | 'error'
  /** Events to send once t reaches `at`. */
  events?: { at: number; event: string; data?: Record<string, unknown> }[]
  /** QEMU exits at this time. */
  exitAt?: number
  /** RunCVM's VM init mark appears at this time. */
  bootedAt?: number
  /** One sleep that ends `by` ms late, once t reaches `at` (the container was frozen by docker pause). */
  jump?: { at: number; by: number }
}

let dir: string | undefined
let server: Server | undefined
afterEach(() => {
  server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  server = undefined
  dir = undefined
})

async function run(script: Script, opts: Partial<WatchOptions> = {}, listenAt = 0): Promise<{ v: Verdict; t: number; seen: string[] }> {
  dir = mkdtempSync(join(tmpdir(), 'runcvm-wd-'))
  const path = join(dir, 'qmp.sock')
  let t = 0
  const seen: string[] = []
  const clients: { sock: Socket; greeted: boolean; caps: boolean; sent: Set<number> }[] = []
  const tick = () => {
    for (const c of clients) {
      if (!c.greeted && t >= (script.greetAt ?? 0)) {
        c.greeted = true
        c.sock.write('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}\r\n')
      }
      if (!c.caps) continue
      script.events?.forEach((e, i) => {
        if (t >= e.at && !c.sent.has(i)) {
          c.sent.add(i)
          c.sock.write(JSON.stringify({ timestamp: { seconds: 0, microseconds: 0 }, event: e.event, ...(e.data ? { data: e.data } : {}) }) + '\r\n')
        }
      })
    }
  }
  const listen = () => new Promise<void>(resolve => {
    server = createServer(sock => {
      const c = { sock, greeted: false, caps: false, sent: new Set<number>() }
      clients.push(c)
      let buf = ''
      sock.setEncoding('utf8')
      sock.on('error', () => {})
      sock.on('data', (d: string) => {
        buf += d
        let nl
        while ((nl = buf.indexOf('\n')) >= 0) {
          const cmd = JSON.parse(buf.slice(0, nl)) as { execute: string; arguments?: { path?: string } }
          buf = buf.slice(nl + 1)
          seen.push(cmd.execute)
          let reply: unknown
          if (cmd.execute === 'qmp_capabilities') { c.caps = true; reply = { return: {} } }
          else if (cmd.execute === 'query-status') reply = { return: { status: script.status(t), singlestep: false, running: script.status(t) === 'running' } }
          else if (cmd.execute === 'x-query-virtio-status' && cmd.arguments?.path === VIRTIO_SERIAL_PATH) {
            const v = script.virtio?.(t) ?? []
            reply = v === 'error' ? { error: { class: 'CommandNotFound', desc: 'The command x-query-virtio-status has not been found' } } : { return: { name: 'virtio-serial', status: { statuses: v } } }
          } else reply = { error: { class: 'GenericError', desc: `unexpected ${cmd.execute}` } }
          sock.write(JSON.stringify(reply) + '\r\n')
        }
      })
      tick()
    })
    server.listen(path, resolve)
  })
  if (listenAt === 0) await listen()
  const v = await watchBoot({ timeoutMs: 30 * S, accel: 'kvm', auto: true, replyTimeoutMs: 2000, ...opts }, {
    connect: () => connectQmp(path),
    now: () => t,
    sleep: async ms => {
      t += ms
      if (script.jump && t >= script.jump.at && t < script.jump.at + ms) t += script.jump.by
      if (listenAt > 0 && !server && t >= listenAt) await listen()
      tick()
      await new Promise(r => setTimeout(r, 2)) // let the socket deliver what tick() sent
    },
    booted: () => script.bootedAt !== undefined && t >= script.bootedAt,
    qemuAlive: () => script.exitAt === undefined || t < script.exitAt,
  })
  return { v, t, seen }
}

const ACK = ['VIRTIO_CONFIG_S_ACKNOWLEDGE: Valid virtio device found']

describe('boot watchdog against a fake QMP socket', () => {
  it('no kill before `running`: a VM paused (or not started) for longer than the timeout is left alone', async () => {
    const { v, t } = await run({ status: t => (t < 40 * S ? 'prelaunch' : t < 300 * S ? 'paused' : 'running') })
    expect(v.kind).toBe('fail')
    // The clock starts at the first `running` (300 s): the 30 s timeout fires at 330 s, not before.
    expect(t).toBeGreaterThanOrEqual(330 * S)
    expect(t).toBeLessThanOrEqual(332 * S)
  }, 20_000)

  it('slow preallocation is not killed: QMP silent for 200 s, then the guest boots', async () => {
    const { v, t } = await run({ greetAt: 200 * S, status: () => 'running', virtio: t => (t >= 210 * S ? ACK : []) })
    expect(v).toMatchObject({ kind: 'booted', sign: 'the guest\'s virtio core probed the virtio-serial controller' })
    expect(t).toBeGreaterThanOrEqual(210 * S)
    expect((v as { runningMs: number }).runningMs).toBeLessThanOrEqual(11 * S)
  }, 20_000)

  it('kills on internal-error, and says KVM was chosen automatically', async () => {
    const { v, t } = await run({ status: t => (t < 5 * S ? 'running' : 'internal-error') })
    expect(t).toBe(5 * S)
    expect(v.kind).toBe('fail')
    const msg = (v as { message: string }).message
    expect(msg).toContain('a KVM internal error: this host\'s KVM cannot run the guest')
    expect(msg).toContain('KVM was chosen automatically')
    expect(msg).toContain('RUNCVM_ACCEL=tcg')
  })

  it('honours the timeout option: 7 s of running without a sign of life', async () => {
    const { v, t } = await run({ status: () => 'running' }, { timeoutMs: 7 * S })
    expect(v.kind).toBe('fail')
    expect(t).toBe(7 * S) // `running` first seen at 0 s, 1 s counted per tick after it
    expect((v as { message: string }).message).toContain('no sign of life within 7 s of running')
  })

  it('timeout 0: no limit; a dead state still fails, and QEMU exiting ends the watch', async () => {
    expect((await run({ status: () => 'running', exitAt: 900 * S }, { timeoutMs: 0 })).v).toEqual({ kind: 'qemu-gone' })
    expect((await run({ status: t => (t < 500 * S ? 'running' : 'internal-error') }, { timeoutMs: 0 })).v.kind).toBe('fail')
  }, 30_000)

  it('a `docker pause` gap counts as two ticks at most', async () => {
    // Running, no sign of life; at 4 s one sleep ends 600 s late. Counted in full, the 30 s timeout
    // would fire right after the gap (604 s); capped at 2 s, 3 + 2 + 25 ticks: 629 s.
    const { v, t } = await run({ status: () => 'running', jump: { at: 4 * S, by: 600 * S } })
    expect(v.kind).toBe('fail')
    expect(t).toBe(629 * S)
  }, 20_000)

  it.each([
    ['VSERPORT_CHANGE open', { event: 'VSERPORT_CHANGE', data: { open: true, id: 'console0' } }, 'the guest opened virtio port \'console0\''],
    ['NIC_RX_FILTER_CHANGED', { event: 'NIC_RX_FILTER_CHANGED', data: { path: '/machine/peripheral-anon/device[4]/virtio-backend' } }, 'the guest configured a network interface'],
  ])('sign of life from the event %s', async (_n, e, sign) => {
    const { v, t } = await run({ status: () => 'running', virtio: () => 'error', events: [{ at: 4 * S, ...e }] })
    expect(v).toMatchObject({ kind: 'booted', sign })
    expect(t).toBe(4 * S)
  })

  it('a VSERPORT_CHANGE close is no sign of life; RunCVM\'s VM init mark is', async () => {
    const { v, t } = await run({ status: () => 'running', events: [{ at: 1 * S, event: 'VSERPORT_CHANGE', data: { open: false, id: 'console0' } }], bootedAt: 6 * S })
    expect(v).toMatchObject({ kind: 'booted', sign: 'RunCVM\'s VM init started' })
    expect(t).toBe(6 * S)
  })

  it('QEMU not listening yet: keeps reconnecting', async () => {
    const { v, seen } = await run({ status: () => 'running', virtio: t => (t >= 12 * S ? ACK : []) }, {}, 5 * S)
    expect(v.kind).toBe('booted')
    expect(seen.slice(0, 3)).toEqual(['qmp_capabilities', 'query-status', 'x-query-virtio-status'])
  })
})

describe('boot watchdog rules', () => {
  it('timeout defaults: explicit setting wins; KVM 120 s (30 s on kvm-pvm alone); none under TCG', () => {
    expect([KVM_BOOT_TIMEOUT_S, PVM_BOOT_TIMEOUT_S]).toEqual([120, 30])
    expect(bootTimeoutSeconds(undefined, 'kvm', false)).toBe(120)
    expect(bootTimeoutSeconds(undefined, 'kvm', true)).toBe(30)
    expect(bootTimeoutSeconds(undefined, 'tcg', false)).toBe(0)
    expect(bootTimeoutSeconds(45, 'tcg', false)).toBe(45)
    expect(bootTimeoutSeconds(0, 'kvm', true)).toBe(0)
    expect([watchdogNeeded('kvm', 0), watchdogNeeded('tcg', 0), watchdogNeeded('tcg', 10)]).toEqual([true, false, true])
  })

  it('messages blame KVM only when KVM runs, and name the user\'s choice only when it was one', () => {
    expect(timeoutMessage(9, { accel: 'tcg', auto: true })).not.toMatch(/KVM/)
    expect(timeoutMessage(9, { accel: 'kvm', auto: true })).toContain('either this host\'s KVM cannot run the guest (set RUNCVM_ACCEL=tcg')
    expect(timeoutMessage(9, { accel: 'kvm', auto: false })).toContain('RUNCVM_ACCEL=kvm was set')
    expect(deadStateMessage('internal-error', { accel: 'kvm', auto: false })).toContain('(set RUNCVM_ACCEL=tcg or auto)')
    expect(deadStateMessage('internal-error', { accel: 'tcg', auto: true })).not.toMatch(/KVM/)
    expect(deadStateMessage('guest-panicked', { accel: 'kvm', auto: true })).toContain('kernel panicked')
    expect(['running', 'paused', 'prelaunch', 'inmigrate', 'shutdown'].map(s => deadStateMessage(s, { accel: 'kvm', auto: true }))).toEqual([undefined, undefined, undefined, undefined, undefined])
    expect(eventSignOfLife({ event: 'RTC_CHANGE', data: {} })).toBeUndefined()
  })
})
