// A minimal QMP client (QEMU Machine Protocol: one JSON object per line over a unix socket).
// https://www.qemu.org/docs/master/interop/qmp-spec.html: on connect QEMU sends a greeting
// ({"QMP": {...}}), the client answers {"execute": "qmp_capabilities"}, then every command gets
// one {"return": ...} or {"error": ...} in order, and asynchronous {"event": ...} lines may come
// in between. QEMU only services the monitor from its main loop, so while it is still setting up
// (e.g. preallocating guest RAM) a connection is accepted but nothing is sent.
import { connect, type Socket } from 'node:net'

export interface QmpEvent { event: string; data?: Record<string, unknown> }

type Reply = { return?: unknown; error?: { class?: string; desc?: string } }

export interface QmpLink {
  /** Resolves once the greeting arrived and capabilities were negotiated. */
  readonly ready: Promise<void>
  /** True once `ready` resolved. */
  readonly isReady: boolean
  /** Sends a command; resolves with its reply, or undefined when none came within timeoutMs. */
  execute(command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<Reply | undefined>
  /** Events received so far, oldest first; take() empties the list. */
  takeEvents(): QmpEvent[]
  /** True once the peer hung up (QEMU exited) or the socket failed. */
  readonly closed: boolean
  close(): void
}

/** Connects to a QMP socket. Never throws: a failed connection is a link that is `closed`. */
export function connectQmp(path: string): QmpLink {
  const sock: Socket = connect(path)
  let buf = ''
  let closed = false
  let greeted: () => void
  let hungUp: (e: Error) => void
  const greeting = new Promise<void>((resolve, reject) => { greeted = resolve; hungUp = reject })
  const pending: ((r: Reply | undefined) => void)[] = []
  const events: QmpEvent[] = []
  const end = () => {
    closed = true
    hungUp(new Error(`QMP connection to ${path} closed`))
    for (const p of pending.splice(0)) p(undefined)
  }
  sock.setEncoding('utf8')
  sock.on('error', end)
  sock.on('close', end)
  sock.on('data', (d: string) => {
    buf += d
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim()
      buf = buf.slice(nl + 1)
      if (!line) continue
      let msg: Record<string, unknown>
      try { msg = JSON.parse(line) as Record<string, unknown> } catch { continue }
      if ('QMP' in msg) greeted()
      else if (typeof msg.event === 'string') events.push({ event: msg.event, ...(msg.data ? { data: msg.data as Record<string, unknown> } : {}) })
      else if ('return' in msg || 'error' in msg) pending.shift()?.(msg as Reply)
    }
  })
  const execute = (command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<Reply | undefined> => {
    if (closed) return Promise.resolve(undefined)
    return new Promise(resolve => {
      let done = false
      const finish = (r: Reply | undefined) => { if (!done) { done = true; clearTimeout(t); resolve(r) } }
      // A reply that comes after the timeout is still consumed in order (its slot stays queued).
      const t = setTimeout(() => finish(undefined), timeoutMs)
      pending.push(finish)
      sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + '\n')
    })
  }
  const ready = greeting.then(async () => {
    const r = await execute('qmp_capabilities', undefined, 10_000)
    if (!r || r.error) throw new Error(`QMP capabilities negotiation failed: ${JSON.stringify(r?.error ?? 'no reply')}`)
  })
  let isReady = false
  ready.then(() => { isReady = true }, () => { /* stays not ready; the caller sees isReady false */ })
  return {
    ready,
    get isReady() { return isReady },
    execute,
    takeEvents: () => events.splice(0),
    get closed() { return closed },
    close: () => { sock.destroy(); end() },
  }
}
