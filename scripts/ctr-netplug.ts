// runcvm-ctr-netplug: one reconcile pass for `docker network connect`/`disconnect` on a running
// VM, run by the container's link watcher (ctr-entrypoint starts it) after each burst of link
// changes. Plans with lib/net/hotplug.ts; acts on the container netns (ip), QEMU (QMP) and the VM
// (a busybox script through the `docker exec` path). Writes one line per action to stderr (the watcher's log,
// /.runcvm/netplug.log). Exit 0 when nothing failed.
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeJsonAtomic } from '../lib/fsx.js'
import { parseIpJson } from '../lib/net/discover.js'
import {
  enslavedLinks, guestAddScript, planAddContainer, planHotplug, planRemoveContainer, qmpAdd, qmpRemove, deviceId,
  type HotNic, type HotState, type QmpCommand,
} from '../lib/net/hotplug.js'
import { connectQmp, type QmpLink } from '../lib/qemu/qmp.js'
import { readNetwork } from '../lib/state.js'
import { $, applyCmds } from '../lib/sh.js'
import { BIN, CTR_EXEC, GUEST_TOOLS_PATH, QMP_SOCKET, STATE_DIR } from '../lib/paths.js'
import { envOf } from '../lib/settings.js'
import { roleEnv } from '../lib/workload-env.js'
import { runRole } from '../lib/proc.js'

const HOT_FILE = `${STATE_DIR}/hotplug.json`
const say = (m: string) => process.stderr.write(`${new Date().toISOString()} netplug: ${m}\n`)

function readHot(): HotState {
  try { return JSON.parse(readFileSync(HOT_FILE, 'utf8')) as HotState } catch { return {} }
}

async function qmp(link: QmpLink, c: QmpCommand): Promise<void> {
  const r = await link.execute(c.execute, c.arguments, 10_000)
  if (!r || r.error) throw new Error(`QMP ${c.execute} ${JSON.stringify(c.arguments)}: ${JSON.stringify(r?.error ?? 'no reply')}`)
}

/**
 * Runs a busybox sh script in the VM as root through the `docker exec` path (runcvm-ctr-exec:
 * dbclient to the VM's dropbear); resolves with its exit status and output.
 */
async function guestSh(script: string): Promise<{ code: number; out: string }> {
  // ctr-exec takes the command's env as data only (lib/workload-env.ts roleEnv); this script needs none of the workload's.
  const env = { ...process.env, ...envOf(roleEnv([`PATH=${GUEST_TOOLS_PATH}`])) }
  const r = await $({ nothrow: true, quiet: true, timeout: 30_000, env })`${CTR_EXEC} 0:0:0 / 0 false ${BIN.busybox} sh -c ${script}`
  return { code: r.exitCode ?? -1, out: r.stdout + r.stderr }
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
  const plan = planHotplug(parseIpJson(link, addr, route), enslavedLinks(link), readNetwork(), hot)
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
      const bad = await applyCmds(planAddContainer(h, BIN.ip, BIN.xtables), { batchIp: BIN.ip, env })
      if (bad.length) throw new Error(`bridge/tap for ${h.nif.name} failed`)
      hot[h.nif.name] = h as HotNic
      save()
      for (const c of qmpAdd(h)) await qmp(q, c)
      const t1 = Date.now()
      const r = await guestSh(guestAddScript(h.nif, BIN.ip, BIN.busybox))
      if (r.code !== 0) throw new Error(`the VM could not configure ${h.nif.name} (status ${r.code}): ${r.out.trim()}`)
      say(`added ${h.nif.name} ${h.nif.ip}/${h.nif.prefix} on port ${h.port}: container+QMP ${t1 - t0} ms, guest ${Date.now() - t1} ms`)
    } catch (e) { failed = true; say(`add ${h.nif.name}: ${(e as Error).message}`) }
  }
  q.close()
  if (failed) process.exitCode = 1
}

runRole(main)
