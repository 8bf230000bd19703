// 83-dockerd-restart: dockerd restarted while VMs run, with `live-restore` on and off, behaves as
// with runc. It runs on a second dockerd the case starts itself (tests/dockerd2.sh: own data-root,
// exec-root, socket, pid file, network and mount namespaces, cgroup parent; the runtime under test
// registered as `runcvm-under-test` by its path from the main dockerd), so the shared dockerd is
// never restarted or reconfigured. The image comes over with `docker save | docker load`.
// Every container runs the same workload: prints a marker, exits 7 on SIGTERM, and prints "said"
// when /tmp/say appears (so stdout still reaching `docker logs` after a restart is checked), with
// --stop-timeout 60 so a slow stop under load is not cut short by SIGKILL.
// - live-restore=true: a VM and a runc container, dockerd stopped (SIGTERM, as systemd does) and
//   started again: QEMU kept running throughout (same pid), both containers running (docker ps,
//   inspect; docker top lists the VM's QEMU), exec into
//   the VM works and its output reaches `docker logs`; `docker stop` gives 7 for both, and the
//   VM's host processes, its mounts (in dockerd's mount namespace and on the host) and its network
//   interfaces are gone.
// - live-restore=false: the two stopped containers started again plus a `--restart=always` VM
//   and runc container; dockerd's shutdown stops all four: the plain ones exit 7 as with runc;
//   after dockerd starts again the `--restart=always` ones run by themselves (the VM booted again:
//   second marker, exec works) and a `docker start` boots the plain VM again.
import { $ } from 'zx/core'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { type Case, type Res, describe, fail } from '../harness'

const IMAGE = 'runcvm-test/bb'
const WORK = 'echo marker; trap "echo got-term; exit 7" TERM; while :; do sleep 1; if [ -f /tmp/say ]; then echo said; rm /tmp/say; fi; done'
const HELPER = `${process.cwd()}/tests/dockerd2.sh`
const BOOT_MS = 150_000

let dir = ''
const ns = `runcvm-83-${process.pid}`
const cgParent = `/runcvm-83-${process.pid}`

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

async function helper(cmd: 'up' | 'down' | 'cleanup', ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await $({ quiet: true, nothrow: true })`bash ${HELPER} ${cmd} ${dir} ${args}`
  return { code: r.exitCode ?? -1, out: (r.stdout + r.stderr).trim() }
}

function writeConfig(runtimePath: string, liveRestore: boolean): void {
  writeFileSync(`${dir}/daemon.json`, JSON.stringify({
    'runtimes': { 'runcvm-under-test': { path: runtimePath } },
    'live-restore': liveRestore,
    'cgroup-parent': cgParent,
    'bip': '10.254.83.1/24',
    'shutdown-timeout': 90,
  }, null, 2))
}

export default {
  description: 'dockerd restarted with a VM running: live-restore=true keeps it running (exec, logs, stop, nothing left); live-restore=false stops it with runc\'s exit code, --restart=always brings it back, docker start boots it',
  needs: ['runcvm'],
  timeoutMs: 420_000,
  async test(ctx) {
    const { docker, note } = ctx
    const bad: string[] = []
    const D = (args: readonly string[], opts?: { input?: string; timeoutMs?: number }) => docker(['-H', `unix://${dir}/docker.sock`, ...args], opts)
    const must = async (args: readonly string[], what: string): Promise<Res> => {
      const r = await D(args)
      if (r.code !== 0) fail(`${what}: ${describe(r)}`)
      return r
    }
    const state = async (c: string) => (await D(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', c])).stdout.trim()
    const execUntil = async (c: string, ms: number): Promise<Res> => {
      const deadline = Date.now() + ms
      for (;;) {
        const r = await D(['exec', c, 'echo', 'ok'])
        if (r.code === 0 || Date.now() > deadline) return r
        await sleep(1000)
      }
    }
    const logLines = async (c: string, line: string) => (await D(['logs', c])).stdout.split('\n').filter(l => l === line).length
    const waitLog = async (c: string, line: string, n: number, ms: number): Promise<number> => {
      const deadline = Date.now() + ms
      for (;;) {
        const k = await logLines(c, line)
        if (k >= n || Date.now() > deadline) return k
        await sleep(500)
      }
    }
    const cgroupPids = (id: string): number[] => {
      // cgroup v1 (pids controller) or v2 (unified): the cgroupfs driver's <parent>/<id>.
      for (const base of [`/sys/fs/cgroup/pids${cgParent}`, `/sys/fs/cgroup${cgParent}`]) {
        try { return readFileSync(`${base}/${id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number) } catch { /* next */ }
      }
      return []
    }
    const restart = async (what: string): Promise<number> => {
      const down = await helper('down')
      if (down.code !== 0) fail(`${what}: stopping dockerd: ${down.out}`)
      const t0 = Date.now()
      const up = await helper('up', ns)
      if (up.code !== 0) fail(`${what}: starting dockerd again: ${up.out}`)
      note(`${what}: dockerd stopped in ${(Number(down.out) / 1000).toFixed(1)} s, answering again ${((Date.now() - t0) / 1000).toFixed(1)} s after start`)
      return Number(down.out)
    }
    const run = (name: string, runtime: string, extra: string[] = []) =>
      must(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--stop-timeout', '60', '--name', name, ...extra, IMAGE, 'sh', '-c', WORK], `docker run ${name}`)

    // The second dockerd, with the runtime under test at the path the main dockerd knows.
    const info = await docker(['info', '--format', '{{json .Runtimes}}'])
    const runtimePath = (JSON.parse(info.stdout || '{}') as Record<string, { path?: string }>)[ctx.runtime]?.path
    if (!runtimePath) fail(`the main dockerd has no runtime ${ctx.runtime}: ${describe(info)}`)
    dir = mkdtempSync('/tmp/runcvm-83.')
    writeConfig(runtimePath, true)
    const up = await helper('up', ns)
    if (up.code !== 0) fail(`second dockerd: ${up.out}`)
    const save = await $({ quiet: true, nothrow: true })`docker save ${IMAGE} | docker -H ${`unix://${dir}/docker.sock`} load`
    if (save.exitCode !== 0) fail(`docker save | load: ${save.stderr}`)

    // live-restore=true
    await run('vm', 'runcvm-under-test')
    await run('rc', 'runc')
    const e0 = await execUntil('vm', BOOT_MS)
    if (e0.code !== 0) fail(`VM never answered exec: ${describe(e0)}`)
    const vmId = (await must(['inspect', '-f', '{{.Id}}', 'vm'], 'inspect vm')).stdout.trim()
    const vmPids = cgroupPids(vmId)
    if (vmPids.length < 2) fail(`VM's host processes not found in its cgroup (${cgParent}/${vmId}): ${vmPids.join(' ')}`)
    const qemu = vmPids.filter(p => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('qemu-system') } catch { return false } })
    if (qemu.length !== 1) fail(`expected one QEMU among the VM's processes, found ${qemu.length}`)
    await restart('live-restore=true')
    if (!alive(qemu[0])) bad.push(`live-restore=true: QEMU (pid ${qemu[0]}) is gone after the dockerd restart`)
    for (const c of ['vm', 'rc']) {
      const s = await state(c)
      if (s !== 'running 0') bad.push(`live-restore=true: ${c} after the dockerd restart: "${s}" (want "running 0")`)
    }
    const ps = await D(['ps', '--format', '{{.Names}}'])
    if (ps.stdout.split('\n').sort().join(' ').trim() !== 'rc vm') bad.push(`live-restore=true: docker ps after the restart: ${describe(ps)}`)
    const top = await D(['top', 'vm'])
    if (top.code !== 0 || !top.stdout.includes('qemu-system')) bad.push(`live-restore=true: docker top of the VM after the restart: ${describe(top)}`)
    const e1 = await execUntil('vm', 30_000)
    if (e1.code !== 0 || e1.stdout !== 'ok\n') bad.push(`live-restore=true: exec into the VM after the restart: ${describe(e1)}`)
    for (const c of ['vm', 'rc']) {
      await D(['exec', c, 'touch', '/tmp/say'])
      const said = await waitLog(c, 'said', 1, 20_000)
      if (said !== 1) bad.push(`live-restore=true: ${c}'s output after the restart did not reach docker logs ("said" lines: ${said})`)
    }
    const t0 = Date.now()
    const [sv, sr] = await Promise.all([D(['stop', 'vm']), D(['stop', 'rc'])])
    note(`live-restore=true: docker stop after the restart took ${((Date.now() - t0) / 1000).toFixed(1)} s (both at once)`)
    if (sv.code !== 0 || sr.code !== 0) bad.push(`live-restore=true: docker stop: ${describe(sv)} / ${describe(sr)}`)
    const [xv, xr] = [await state('vm'), await state('rc')]
    if (xv !== 'exited 7' || xr !== 'exited 7') bad.push(`live-restore=true: after docker stop: vm "${xv}", rc "${xr}" (want "exited 7" for both, as the workload's TERM trap exits 7)`)
    const left = vmPids.filter(alive)
    if (left.length) bad.push(`live-restore=true: VM host processes left after docker stop: ${left.join(' ')}`)
    const mnt = await $({ quiet: true, nothrow: true })`nsenter --mount=${`${dir}/mnt`} grep -c ${vmId} /proc/self/mountinfo`
    if (mnt.stdout.trim() !== '0') bad.push(`live-restore=true: mounts of the VM container left in dockerd's mount namespace: ${mnt.stdout.trim()}`)
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(vmId)) bad.push('live-restore=true: mounts of the VM container left on the host')
    // dockerd releases a stopped container's endpoint (its veth) just after `docker stop` returns,
    // with runc as with RunCVM: give it up to 10 s before calling a veth left over.
    let extra: string[] = []
    const tl = Date.now()
    for (let i = 0; i < 20; i++) {
      const links = await $({ quiet: true, nothrow: true })`ip -n ${ns} -o link show`
      extra = links.stdout.split('\n').filter(l => l && !/: (lo|docker0):/.test(l))
      if (!extra.length) break
      await sleep(500)
    }
    if (!extra.length && Date.now() - tl > 400) note(`live-restore=true: the stopped containers' veths were gone ${((Date.now() - tl) / 1000).toFixed(1)} s after docker stop returned`)
    if (extra.length) bad.push(`live-restore=true: network interfaces left in dockerd's namespace after both stopped: ${extra.map(l => l.split(':')[1]).join(',')}`)

    // live-restore=false (config changed with the daemon idle: no containers running).
    await helper('down')
    writeConfig(runtimePath, false)
    const up2 = await helper('up', ns)
    if (up2.code !== 0) fail(`second dockerd (live-restore=false): ${up2.out}`)
    await must(['start', 'vm'], 'docker start vm')
    await must(['start', 'rc'], 'docker start rc')
    await run('vm-always', 'runcvm-under-test', ['--restart=always'])
    await run('rc-always', 'runc', ['--restart=always'])
    const booted = await Promise.all(['vm', 'vm-always'].map(c => execUntil(c, BOOT_MS)))
    booted.forEach((r, i) => { if (r.code !== 0) fail(`live-restore=false: ${['vm', 'vm-always'][i]} never answered exec: ${describe(r)}`) })
    const vmPids2 = cgroupPids(vmId)
    const downMs = await restart('live-restore=false')
    const left2 = vmPids2.filter(alive)
    if (left2.length) bad.push(`live-restore=false: VM host processes left after dockerd's shutdown: ${left2.join(' ')}`)
    const [yv, yr] = [await state('vm'), await state('rc')]
    note(`live-restore=false: after dockerd's shutdown (${(downMs / 1000).toFixed(1)} s): vm "${yv}", rc "${yr}"`)
    if (yv !== yr || yr !== 'exited 7') bad.push(`live-restore=false: after dockerd's shutdown vm "${yv}", rc "${yr}" (want "exited 7" for both)`)
    await must(['start', 'vm'], 'docker start vm after the restart')
    const again = await Promise.all(['vm', 'vm-always'].map(c => execUntil(c, BOOT_MS)))
    again.forEach((r, i) => { if (r.code !== 0) bad.push(`live-restore=false: ${['vm', 'vm-always'][i]} after the restart: exec ${describe(r)}`) })
    for (const c of ['vm-always', 'rc-always']) {
      const s = await state(c)
      const markers = await waitLog(c, 'marker', 2, 20_000)
      if (s !== 'running 0' || markers !== 2) bad.push(`live-restore=false: --restart=always ${c} after the restart: "${s}", ${markers} marker lines (want running, 2)`)
    }
    if (bad.length) fail(bad.join('\n'))
  },
  async finish(ctx) {
    if (!dir) return
    const r = await helper('cleanup', ns, cgParent)
    if (r.out) ctx.note(`cleanup: ${r.out}`)
    if (r.code !== 0) fail(`cleanup of the second dockerd: ${r.out}`)
  },
} satisfies Case
