// runcvm-ctr-netplug: one reconcile pass for `docker network connect`/`disconnect` on a running
// VM, run by the container's link watcher (ctr-entrypoint starts it) after each burst of link
// changes. Plans with lib/net/hotplug.ts; acts on the container netns (ip), the VM's plan files
// (HOTPLUG_PLAN_DIR in /.runcvm, read by the VM's own watcher when the NIC appears) and QEMU (QMP).
// Writes one line per action to stderr (the watcher's log, /.runcvm/netplug.log). Exit 0 when
// nothing failed.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { watch } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ensurePrivateDir, readFileChecked, writeFileAtomic, writeJsonAtomic } from '../lib/fsx.js'
import { parseIpJson } from '../lib/net/discover.js'
import {
  downLinks, enslavedLinks, hotPlanFile, hotPlanText, HOTPLUG_PLAN_DIR, planAddContainer, planHotplug, planRemoveContainer, qmpAdd, qmpRemove, deviceId, routesVia, timelineText, completeLines, vmHotResults, VM_HOTPLUG_LOG,
  type HotNic, type HotState, type QmpCommand,
} from '../lib/net/hotplug.js'
import { connectQmp, type QmpLink } from '../lib/qemu/qmp.js'
import { HOTPLUG_PORTS } from '../lib/qemu/args.js'
import { readNetwork } from '../lib/state.js'
import { $, applyCmds } from '../lib/sh.js'
import { BIN, QMP_SOCKET, STATE_DIR } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

const HOT_FILE = `${STATE_DIR}/hotplug.json`
/**
 * HOTPLUG_PLAN_DIR, made if missing; refused unless it is our own private directory (the VM's
 * root shares /.runcvm and could leave a symlink there to have us write elsewhere).
 */
function planDir(): string {
  ensurePrivateDir(HOTPLUG_PLAN_DIR)
  return HOTPLUG_PLAN_DIR
}

/**
 * Host monotonic time, ms (CLOCK_MONOTONIC: the clock /proc/uptime counts on a host that never
 * suspended, which is what the watcher's times are read from).
 */
const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6
/** When this process was exec'd, host monotonic ms (/proc/self/stat starttime, in 1/100 s). */
function execMs(): number | undefined {
  try {
    const st = readFileSync('/proc/self/stat', 'utf8')
    const ticks = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19])
    return Number.isFinite(ticks) ? ticks * 10 : undefined
  } catch { return undefined }
}
const MAIN_MS = monoMs()
const say = (m: string) => process.stderr.write(`${new Date().toISOString()} netplug: ${m}\n`)

function readHot(): HotState {
  try { return JSON.parse(readFileSync(HOT_FILE, 'utf8')) as HotState } catch { return {} }
}

async function qmp(link: QmpLink, c: QmpCommand): Promise<void> {
  const r = await link.execute(c.execute, c.arguments, 10_000)
  if (!r || r.error) throw new Error(`QMP ${c.execute} ${JSON.stringify(c.arguments)}: ${JSON.stringify(r?.error ?? 'no reply')}`)
}

async function waitDeleted(link: QmpLink, id: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (link.takeEvents().some(e => e.event === 'DEVICE_DELETED' && e.data?.device === id)) return true
    await sleep(20)
  }
  return false
}

/** How long netplug waits for the VM's line about the NICs it added (then logs that it has none). */
const VM_RESULT_WAIT_MS = 5000
/** The VM watcher's log (written by the VM's root: read bounded, never through a link). */
function vmLog(): string {
  try { return readFileChecked(VM_HOTPLUG_LOG, 1 << 20).toString('utf8') } catch { return '' }
}

/**
 * Wait until the VM's log has a line for every name in `names` after its first `skip` lines (or
 * `ms` passed), woken by inotify on /.runcvm (the VM's writes arrive through virtiofsd), no polling.
 */
async function waitVmResults(names: string[], skip: number, ms: number): Promise<ReturnType<typeof vmHotResults>> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), ms)
  const have = () => { const r = vmHotResults(vmLog(), skip); return { r, all: names.every(n => r.has(n)) } }
  let cur = { r: vmHotResults('', 0), all: false }
  try {
    const events = watch(STATE_DIR, { signal: ac.signal })
    cur = have()
    if (!cur.all) for await (const _ of events) { cur = have(); if (cur.all) break }
  } catch { cur = have() } finally { clearTimeout(timer) }
  return cur.r
}

async function main(): Promise<void> {
  if (!existsSync(QMP_SOCKET)) return
  // `ip -json addr` carries every link field we read (name, MAC, MTU, master, flags): it serves as
  // the link view too, one exec less. `ip -json route` lists IPv4 only; without IPv6 in the host
  // kernel `-6 route` fails: none.
  const show = async (...what: string[]) => {
    const r = await $({ quiet: true, nothrow: what[0] === '-6' })`${BIN.ip} -json ${what} show`
    return r.exitCode === 0 ? r.stdout : ''
  }
  const [addr, route, route6] = await Promise.all([show('addr'), show('route'), show('-6', 'route')])
  const link = addr
  const readMs = monoMs()
  const hot = readHot()
  const now = parseIpJson(link, addr, route, route6)
  const plan = planHotplug(now, enslavedLinks(link), readNetwork(), hot, HOTPLUG_PORTS, downLinks(link))
  for (const n of plan.noPort) say(`RunCVM: Warning: no free hot-plug port for ${n}: the VM does not get it`)
  if (!plan.add.length && !plan.remove.length) return
  // QMP's connect and greeting overlap the container side of an add (plan file, bridge + tap).
  const q = connectQmp(QMP_SOCKET)
  const ready = q.ready.then(() => monoMs())
  ready.catch(() => undefined)
  if (plan.remove.length) await ready
  const save = () => writeJsonAtomic(HOT_FILE, hot)
  const env = { ...process.env, XTABLES_LIBDIR: BIN.xtablesLibdir }
  let failed = false
  for (const h of plan.remove) {
    const t0 = Date.now()
    const { device, netdev } = qmpRemove(h)
    try { rmSync(hotPlanFile(h.nif.mac, planDir()), { force: true }) } catch (e) { say(`remove ${h.nif.name}: ${(e as Error).message}`) }
    try {
      await qmp(q, device)
      if (!(await waitDeleted(q, deviceId(h.port), 20_000))) throw new Error(`the VM did not release ${deviceId(h.port)} within 20 s`)
      await qmp(q, netdev)
    } catch (e) { failed = true; say(`remove ${h.nif.name}: ${(e as Error).message}`) }
    const bad = await applyCmds(planRemoveContainer(h, BIN.ip), { env })
    if (bad.length) failed = true
    delete hot[h.nif.name]
    save()
    say(`removed ${h.nif.name} (port ${h.port}) in ${Date.now() - t0} ms`)
  }
  const [, , event, quietEnd] = process.argv
  const exec = execMs()
  const vmSkip = completeLines(vmLog())
  const added: { name: string; at: number }[] = []
  for (const h of plan.add) {
    const t0 = Date.now()
    const marks: [string, number][] = [...(exec !== undefined ? [['exec', exec] as [string, number]] : []), ['main', MAIN_MS], ['ip-read', readMs]]
    try {
      // The VM's plan first (the NIC may show up in the VM before device_add returns), then the bridge + tap, then the NIC.
      writeFileAtomic(hotPlanFile(h.nif.mac, planDir()), hotPlanText(h, routesVia(now, h.nif.name)), 0o600)
      marks.push(['plan', monoMs()])
      const bad = await applyCmds(planAddContainer(h, BIN.ip, BIN.xtables), { batchIp: BIN.ip, env })
      if (bad.length) throw new Error(`bridge/tap for ${h.nif.name} failed`)
      marks.push(['bridge', monoMs()], ['qmp-ready', await ready])
      hot[h.nif.name] = h as HotNic
      save()
      for (const c of qmpAdd(h)) await qmp(q, c)
      marks.push(['qmp', monoMs()])
      added.push({ name: h.nif.name, at: Date.now() })
      say(`added ${h.nif.name} ${h.nif.ip}/${h.nif.prefix} on port ${h.port}: container+QMP ${Date.now() - t0} ms (the VM configures it when it appears)`)
      const tl = timelineText(h.nif.name, event, quietEnd, marks)
      if (tl) say(tl)
    } catch (e) { failed = true; say(`add ${h.nif.name}: ${(e as Error).message}`) }
  }
  q.close()
  // Whether the VM configured them: its watcher's line (ip -batch's exit code), or none in time.
  if (added.length) {
    const r = await waitVmResults(added.map(a => a.name), vmSkip, VM_RESULT_WAIT_MS)
    for (const a of added) {
      const v = r.get(a.name)
      say(v ? `the VM configured ${a.name} (its ip -batch exit code ${v.rc}), seen ${Date.now() - a.at} ms after device_add` : `the VM has not reported configuring ${a.name} within ${VM_RESULT_WAIT_MS / 1000} s of device_add`)
    }
  }
  if (failed) process.exitCode = 1
}

runRole(main)
