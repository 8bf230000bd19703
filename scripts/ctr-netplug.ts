// runcvm-ctr-netplug: one reconcile pass for `docker network connect`/`disconnect` on a running
// VM, run by the container's link watcher (ctr-entrypoint starts it) after each burst of link
// changes. Plans with lib/net/hotplug.ts; acts on the container netns (ip), the VM's plan files
// (HOTPLUG_PLAN_DIR in /.runcvm, read by the VM's own watcher when the NIC appears) and QEMU (QMP).
// Writes one line per action to stderr (the watcher's log, /.runcvm/netplug.log). Exit 0 when
// nothing failed.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { ensurePrivateDir, writeFileAtomic, writeJsonAtomic } from '../lib/fsx.js'
import { parseIpJson } from '../lib/net/discover.js'
import {
  enslavedLinks, hotPlanFile, hotPlanText, HOTPLUG_PLAN_DIR, planAddContainer, planHotplug, planRemoveContainer, qmpAdd, qmpRemove, deviceId, routesVia,
  type HotNic, type HotState, type QmpCommand,
} from '../lib/net/hotplug.js'
import { connectQmp, type QmpLink } from '../lib/qemu/qmp.js'
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

async function main(): Promise<void> {
  if (!existsSync(QMP_SOCKET)) return
  const show = async (what: string) => (await $({ quiet: true })`${BIN.ip} -json ${what} show`).stdout
  const [link, addr, route] = await Promise.all([show('link'), show('addr'), show('route')])
  const hot = readHot()
  const now = parseIpJson(link, addr, route)
  const plan = planHotplug(now, enslavedLinks(link), readNetwork(), hot)
  for (const n of plan.noPort) say(`RunCVM: Warning: no free hot-plug port for ${n}: the VM does not get it`)
  if (!plan.add.length && !plan.remove.length) return
  const q = connectQmp(QMP_SOCKET)
  await q.ready
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
  for (const h of plan.add) {
    const t0 = Date.now()
    try {
      // The VM's plan first (the NIC may show up in the VM before device_add returns), then the bridge + tap, then the NIC.
      writeFileAtomic(hotPlanFile(h.nif.mac, planDir()), hotPlanText(h, routesVia(now, h.nif.name)), 0o600)
      const bad = await applyCmds(planAddContainer(h, BIN.ip, BIN.xtables), { batchIp: BIN.ip, env })
      if (bad.length) throw new Error(`bridge/tap for ${h.nif.name} failed`)
      hot[h.nif.name] = h as HotNic
      save()
      for (const c of qmpAdd(h)) await qmp(q, c)
      say(`added ${h.nif.name} ${h.nif.ip}/${h.nif.prefix} on port ${h.port}: container+QMP ${Date.now() - t0} ms (the VM configures it when it appears)`)
    } catch (e) { failed = true; say(`add ${h.nif.name}: ${(e as Error).message}`) }
  }
  q.close()
  if (failed) process.exitCode = 1
}

runRole(main)
