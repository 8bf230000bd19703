// runcvm-doctor's probes: read the host facts lib/doctor/checks.ts judges. Every probe is
// read-only (an open of /dev/kvm is closed at once; `docker info` and `runc --version` only ask).
import { closeSync, constants as C, existsSync, openSync, readFileSync, readdirSync, statSync, statfsSync } from 'node:fs'
import { release } from 'node:os'
import { dirname } from 'node:path'
import { $ } from '../sh.js'
import { runtimePathIn } from '../install/daemon-json.js'
import { parseKvmProbe, type KvmProbe } from '../accel.js'
import { findRunc, isExecutableFile } from '../runc.js'
import { HOST_WARNINGS_LOG } from '../paths.js'
import type { DeviceFact, HostFacts } from './checks.js'

const run = $({ quiet: true, nothrow: true, timeout: '20s' })
const read = (f: string): string | undefined => { try { return readFileSync(f, 'utf8') } catch { return undefined } }

export interface ProbeOpts {
  /** Package root (default /opt/runcvm). */
  root: string
  /** Runtime name and path expected in daemon.json and docker info. */
  name: string
  path: string
  daemonJson: string
  warningsLog?: string
}

/** /dev node facts: exists, char device with the right numbers, mode, open(O_RDWR). */
export function probeDevice(path: string, major: number, minor: number): DeviceFact {
  let st
  try { st = statSync(path) } catch { return { exists: false } }
  const isCharDev = st.isCharacterDevice() && Math.floor(st.rdev / 256) === major && (st.rdev & 0xff) === minor
  let open = 'ok'
  try { closeSync(openSync(path, C.O_RDWR | C.O_NONBLOCK)) } catch (e) { open = (e as NodeJS.ErrnoException).code ?? 'error' }
  return { exists: true, isCharDev, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), open }
}

/** dockerd's environment (for RUNCVM_RUNC): the runtime runs with it. */
function dockerdEnv(): Record<string, string> {
  for (const pid of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    if (read(`/proc/${pid}/comm`)?.trim() !== 'dockerd') continue
    const env = read(`/proc/${pid}/environ`) ?? ''
    return Object.fromEntries(env.split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  }
  return { PATH: process.env.PATH ?? '' }
}

export async function probeHostFacts(o: ProbeOpts): Promise<HostFacts> {
  const cpuinfo = read('/proc/cpuinfo') ?? ''
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].split(/\s+/) ?? []
  const kvmModules = ['kvm', 'kvm_intel', 'kvm_amd', 'kvm_pvm'].filter(m => existsSync(`/sys/module/${m}`))
  const nested = read('/sys/module/kvm_intel/parameters/nested') ?? read('/sys/module/kvm_amd/parameters/nested')

  let runc: HostFacts['runc']
  try {
    const path = findRunc(dockerdEnv())
    const v = await run`${path} --version`
    runc = { path, ...(v.exitCode === 0 ? { version: v.stdout.split('\n')[0].trim() } : {}) }
  } catch (e) {
    runc = { error: (e as Error).message }
  }

  const djText = read(o.daemonJson)
  let dj: HostFacts['daemonJson'] = { file: o.daemonJson, exists: djText !== undefined }
  if (djText !== undefined && djText.trim() !== '') {
    try { JSON.parse(djText) } catch (e) { dj = { ...dj, error: `not valid JSON (${(e as Error).message})` } }
    const p = runtimePathIn(djText, o.name)
    if (p) dj.runtimePath = p
  }

  const info = await run`docker info --format ${'{{json .}}'}`
  let dockerd: HostFacts['dockerd'] = { answers: false }
  if (info.exitCode === 0) {
    try {
      const j = JSON.parse(info.stdout) as { Runtimes?: Record<string, { path?: string }>; SecurityOptions?: string[]; CgroupVersion?: string; DockerRootDir?: string }
      dockerd = {
        answers: true,
        ...(j.Runtimes?.[o.name]?.path ? { runtimePath: j.Runtimes[o.name].path } : {}),
        securityOptions: j.SecurityOptions ?? [],
        ...(j.CgroupVersion ? { cgroupVersion: j.CgroupVersion } : {}),
        ...(j.DockerRootDir ? { rootDir: j.DockerRootDir } : {}),
      }
    } catch { /* leave as not answering */ }
  }

  const cgroup = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' as const
    : existsSync('/sys/fs/cgroup/unified') ? 'hybrid' as const
    : existsSync('/sys/fs/cgroup') ? 'v1' as const : undefined
  const selinuxEnforce = read('/sys/fs/selinux/enforce')?.trim()

  const disk: HostFacts['disk'] = []
  for (const p of [existsSync(o.root) ? o.root : dirname(o.root), dockerd.rootDir ?? '/var/lib/docker']) {
    try {
      const s = statfsSync(p)
      if (!disk.some(d => d.path === p)) disk.push({ path: p, freeBytes: s.bavail * s.bsize })
    } catch { /* not there */ }
  }
  const mem = read('/proc/meminfo') ?? ''
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(mem)?.[1] ?? NaN) * 1024
  const memory = Number.isFinite(kb('MemTotal')) && Number.isFinite(kb('MemAvailable')) ? { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') } : undefined

  // The runtime's own test: create and run a tiny VM on /dev/kvm (the package's static helper).
  let kvmProbe: KvmProbe | undefined
  const probeBin = `${o.root}/sbin/runcvm-kvm-probe`
  if (existsSync('/dev/kvm') && isExecutableFile(probeBin)) {
    const p = await run`${probeBin} /dev/kvm`
    kvmProbe = parseKvmProbe(p.stdout)
  }

  const wlog = o.warningsLog ?? HOST_WARNINGS_LOG
  const wtext = read(wlog)

  return {
    kernel: release(),
    cpu: { virt: flags.includes('vmx') ? 'vmx' : flags.includes('svm') ? 'svm' : 'none', hypervisor: flags.includes('hypervisor') },
    kvmModules,
    ...(nested !== undefined ? { nested: nested.trim() } : {}),
    devices: { kvm: probeDevice('/dev/kvm', 10, 232), tun: probeDevice('/dev/net/tun', 10, 200), vhostNet: probeDevice('/dev/vhost-net', 10, 238) },
    ...(kvmProbe ? { kvmProbe } : {}),
    rpFilter: { all: read('/proc/sys/net/ipv4/conf/all/rp_filter'), default: read('/proc/sys/net/ipv4/conf/default/rp_filter') },
    runc,
    pkg: { root: o.root, runtimeExecutable: isExecutableFile(`${o.root}/scripts/runcvm-runtime`) },
    daemonJson: dj,
    dockerd,
    expect: { name: o.name, path: o.path },
    lsm: {
      apparmor: read('/sys/module/apparmor/parameters/enabled')?.trim() === 'Y',
      ...(selinuxEnforce === '1' ? { selinux: 'enforcing' as const } : selinuxEnforce === '0' ? { selinux: 'permissive' as const } : {}),
    },
    ...(cgroup ? { cgroup } : {}),
    disk,
    ...(memory ? { memory } : {}),
    ...(wtext !== undefined ? { warnings: { file: wlog, lines: wtext.split('\n').filter(Boolean) } } : {}),
  }
}
