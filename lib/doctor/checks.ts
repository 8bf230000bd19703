// runcvm-doctor's checks: pure functions from probed host facts (lib/doctor/probe.ts) to findings,
// each with what was found, why it matters and the exact fix. Beyond upstream (which had no such
// command; its installer only checked rp_filter and the daemon.json entry).
//
// Status of a finding: 'ok'; 'warn' (RunCVM works, but slower or with a limit); 'problem' (RunCVM
// cannot work, or not as configured); 'info' (a fact worth knowing, never a fault).
// Exit status for scripts (doctorExitCode): 0 no problem and no warning, 1 any problem, 2
// warnings only.
import { kvmProblem, type KvmProbe } from '../accel.js'
import { planRpFilter } from '../install/rp-filter.js'
import { hostScript, INSTALLER_IMAGE_TARGET, PKG, RUNCVM_HOST } from '../paths.js'

const INSTALL_RUNTIME = hostScript('install-runtime')

/** Everything the checks look at. Optional fields: could not be probed. */
export interface HostFacts {
  /** uname -r. */
  kernel?: string
  cpu: {
    /** vmx or svm among /proc/cpuinfo flags. */
    virt: 'vmx' | 'svm' | 'none'
    /** The `hypervisor` flag: this host is itself a VM. */
    hypervisor: boolean
  }
  /** Loaded KVM modules (/sys/module/<name>), e.g. ['kvm', 'kvm_pvm']. */
  kvmModules: string[]
  /** /sys/module/kvm_{intel,amd}/parameters/nested, when present (Y/N/1/0). */
  nested?: string
  devices: {
    kvm: DeviceFact
    tun: DeviceFact
    vhostNet: DeviceFact
  }
  /** sbin/runcvm-kvm-probe's verdict (it creates and runs a tiny VM on /dev/kvm), when it ran. */
  kvmProbe?: KvmProbe
  /** net.ipv4.conf.{all,default}.rp_filter text. */
  rpFilter: { all?: string; default?: string }
  /** The runc the runtime would hand over to, or why none was found. */
  runc: { path?: string; error?: string; version?: string }
  /** The package tree: does `<root>/scripts/runcvm-runtime` exist and run. */
  pkg: { root: string; runtimeExecutable: boolean }
  /** /etc/docker/daemon.json. */
  daemonJson: { file: string; exists: boolean; error?: string; runtimePath?: string }
  /** What dockerd says (`docker info`); undefined fields: dockerd did not answer. */
  dockerd: {
    answers: boolean
    /** runtimes[name].path as dockerd lists it. */
    runtimePath?: string
    securityOptions?: string[]
    cgroupVersion?: string
    rootDir?: string
  }
  /** The runtime name and path expected (normally runcvm and /opt/runcvm/scripts/runcvm-runtime). */
  expect: { name: string; path: string }
  lsm: { apparmor?: boolean; selinux?: 'enforcing' | 'permissive' }
  /** 'v1', 'hybrid' (v1 controllers + a cgroup2 mount) or 'v2', from /sys/fs/cgroup. */
  cgroup?: 'v1' | 'hybrid' | 'v2'
  /** Free bytes where the package and docker's data live. */
  disk: { path: string; freeBytes: number }[]
  /** /proc/meminfo MemTotal and MemAvailable in bytes. */
  memory?: { totalBytes: number; availableBytes: number }
  /** Lines of the host warnings log (/run/runcvm/warnings.log), newest last; undefined: no log. */
  warnings?: { file: string; lines: string[] }
}

export interface DeviceFact {
  exists: boolean
  /** A character device with the expected major:minor. */
  isCharDev?: boolean
  /** Octal permission bits, e.g. '0660'. */
  mode?: string
  /** open(O_RDWR) result: 'ok' or the errno code. */
  open?: string
}

export type Status = 'ok' | 'warn' | 'problem' | 'info'

export interface Finding {
  /** Stable id for scripts (e.g. 'kvm', 'tun', 'daemon-json'). */
  id: string
  status: Status
  /** One line: what was found. */
  title: string
  /** Why it matters (lines). */
  detail?: string[]
  /** The exact commands or steps that fix it. */
  fix?: string[]
}

/** Disk space the package needs (~210 MiB) plus room for one image and a disk: 1 GiB. */
export const MIN_FREE_BYTES = 1 << 30
/** One 512 MiB VM (the default) plus the container's own overhead (~256 MiB). */
export const MIN_AVAILABLE_MEMORY = 768 * (1 << 20)
/** How many recent warnings the report shows. */
export const SHOW_WARNINGS = 3

const GiB = (n: number) => `${(n / (1 << 30)).toFixed(1)} GiB`
const vendorModule = (f: HostFacts) => (f.cpu.virt === 'svm' ? 'kvm_amd' : 'kvm_intel')

export function checkKvm(f: HostFacts): Finding {
  const mods = new Set(f.kvmModules)
  const pvm = mods.has('kvm_pvm')
  const vendor = mods.has('kvm_intel') || mods.has('kvm_amd')
  const kvm = f.devices.kvm
  const tcg = 'RunCVM boots VMs with TCG emulation instead: everything works, about 10x slower (a boot takes seconds, not a fraction of one).'
  const modules = `Loaded KVM modules: ${f.kvmModules.length ? f.kvmModules.join(', ') : 'none'}; CPU virtualisation flag: ${f.cpu.virt}${f.cpu.hypervisor ? ' (this host is itself a VM)' : ''}.`
  if (pvm && !vendor) {
    return {
      id: 'kvm', status: 'warn',
      title: `KVM is kvm-pvm only${kvm.exists ? '' : ' (and /dev/kvm is absent)'}: VMs run under TCG`,
      detail: [
        'kvm_pvm is a paravirtual KVM for hosts without VMX/SVM: it can create VMs but a stock guest kernel cannot boot on it (emulation failures, then QEMU pauses the guest).',
        modules, tcg,
      ],
      fix: [
        'For KVM speed, run on a host whose CPU exposes VMX/SVM: bare metal, or a VM with nested virtualisation enabled by its hypervisor (e.g. a cloud instance type that offers it).',
        `Then load the vendor module: modprobe ${vendorModule(f)} (kvm_pvm may stay; RunCVM then uses the vendor module).`,
        'To silence the fallback per container: docker run --env=RUNCVM_ACCEL=tcg ...',
      ],
    }
  }
  if (f.cpu.virt === 'none') {
    return {
      id: 'kvm', status: 'warn', title: 'The CPU exposes no VMX/SVM: VMs run under TCG',
      detail: [modules, tcg],
      fix: [
        'Bare metal: enable Intel VT-x / AMD-V (SVM) in the firmware setup.',
        'A VM: enable nested virtualisation in its hypervisor (e.g. on a KVM host: modprobe -r kvm_intel && modprobe kvm_intel nested=1, and give the VM the host CPU model).',
      ],
    }
  }
  if (!kvm.exists) {
    return {
      id: 'kvm', status: 'warn', title: `The CPU has ${f.cpu.virt} but /dev/kvm is absent: VMs run under TCG`,
      detail: [modules, tcg],
      fix: [`modprobe ${vendorModule(f)}   # creates /dev/kvm`, `echo ${vendorModule(f)} > /etc/modules-load.d/kvm.conf   # at every boot`],
    }
  }
  if (kvm.isCharDev === false) {
    return { id: 'kvm', status: 'problem', title: '/dev/kvm is not the KVM character device (10:232)', fix: ['rm /dev/kvm && modprobe -r kvm && modprobe kvm && modprobe ' + vendorModule(f)] }
  }
  if (kvm.open !== undefined && kvm.open !== 'ok') {
    return {
      id: 'kvm', status: 'warn', title: `/dev/kvm cannot be opened (${kvm.open}, mode ${kvm.mode ?? '?'}): VMs run under TCG`,
      detail: ['The runtime and QEMU run as root in the container; a device that root cannot open is blocked by a security module, a device cgroup or a user namespace (rootless engine).', tcg],
      fix: ['chmod 0660 /dev/kvm && chgrp kvm /dev/kvm   # the udev default', 'Rootless engines: RunCVM needs a rootful Docker/Podman.'],
    }
  }
  const problem = f.kvmProbe ? kvmProblem(f.kvmProbe) : undefined
  if (problem) {
    return {
      id: 'kvm', status: 'warn', title: `${problem}: VMs run under TCG`,
      detail: ['runcvm-kvm-probe created and ran a tiny VM on /dev/kvm, as the runtime does before each boot.', modules, tcg],
      fix: ['Free VT-x/AMD-V (stop other hypervisors), or fix nested virtualisation on the host that runs this one; then run runcvm-doctor again.'],
    }
  }
  const nested = f.nested !== undefined && /^(Y|1)$/.test(f.nested) ? ' (nested virtualisation enabled)' : ''
  const ran = f.kvmProbe?.ok ? `, a test VM ran${f.kvmProbe.maxVcpus ? ` (max ${f.kvmProbe.maxVcpus} vCPUs)` : ''}` : ''
  return { id: 'kvm', status: 'ok', title: `KVM usable: ${f.cpu.virt}, ${[...mods].filter(m => m !== 'kvm').join(', ') || 'kvm'}, /dev/kvm ${kvm.mode ?? ''}${ran}${nested}`.replace(/ ,/, ',').trim() }
}

export function checkTun(f: HostFacts): Finding {
  const d = f.devices.tun
  if (d.exists && d.isCharDev !== false) return { id: 'tun', status: 'ok', title: '/dev/net/tun present (VM network taps)' }
  return {
    id: 'tun', status: 'problem',
    title: d.exists ? '/dev/net/tun is not the tun character device (10:200)' : '/dev/net/tun is missing',
    detail: ["Each VM's NIC is a tap device in its container; without tun, QEMU cannot create it and the container fails to start."],
    fix: ['modprobe tun', 'echo tun > /etc/modules-load.d/tun.conf   # at every boot', ...(d.exists ? [] : ['If /dev/net/tun is still missing: mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun'])],
  }
}

export function checkVhostNet(f: HostFacts): Finding {
  if (f.devices.vhostNet.exists) return { id: 'vhost-net', status: 'ok', title: '/dev/vhost-net present (RUNCVM_QEMU_NET_VHOST=1 available)' }
  return {
    id: 'vhost-net', status: 'info', title: '/dev/vhost-net is absent: RUNCVM_QEMU_NET_VHOST=1 is refused at create (the default networking works)',
    fix: ['modprobe vhost_net   # only needed for RUNCVM_QEMU_NET_VHOST=1'],
  }
}

export function checkRpFilter(f: HostFacts): Finding {
  const plan = planRpFilter(f.rpFilter.all, f.rpFilter.default, false)
  if (plan.action === 'unknown') return { id: 'rp-filter', status: 'info', title: plan.message }
  if (plan.action === 'ok') return { id: 'rp-filter', status: 'ok', title: `rp_filter: ${plan.message.replace(/; nothing to do$/, '')}` }
  return {
    id: 'rp-filter', status: 'warn',
    title: `Strict reverse-path filtering on the host (all=${f.rpFilter.all?.trim()}, default=${f.rpFilter.default?.trim()})`,
    detail: [
      "RunCVM sets rp_filter=2 (loose) in each container's own network namespace, where the VM's bridge and tap live, so Docker and Podman containers work as they are.",
      'Engines that do not apply the runtime-spec linux.sysctl of a container, or network plugins that move interfaces across namespaces, can still drop VM traffic (DNS first).',
    ],
    fix: [`${INSTALL_RUNTIME} --set-rp-filter   # sets both to 2 and persists them`, 'or: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2'],
  }
}

export function checkRunc(f: HostFacts): Finding {
  if (f.runc.path) return { id: 'runc', status: 'ok', title: `runc: ${f.runc.path}${f.runc.version ? ` (${f.runc.version})` : ''}` }
  return {
    id: 'runc', status: 'problem', title: `runc not found: ${f.runc.error ?? 'unknown reason'}`,
    detail: ['The RunCVM runtime rewrites the container config and hands over to the real runc.'],
    fix: ['apt-get install runc   # or your distribution\'s package', "or set RUNCVM_RUNC=/path/to/runc in dockerd's environment (systemd: a drop-in with Environment=RUNCVM_RUNC=...)"],
  }
}

export function checkPackage(f: HostFacts): Finding {
  if (f.pkg.runtimeExecutable) return { id: 'package', status: 'ok', title: `RunCVM package installed at ${f.pkg.root}` }
  return {
    id: 'package', status: 'problem', title: `No RunCVM package at ${f.pkg.root} (${f.pkg.root}/${PKG.scripts}/runcvm-runtime missing or not executable)`,
    fix: ['From a checkout: bash setup.sh', `or with the installer image: docker run --rm -v ${RUNCVM_HOST}:${INSTALLER_IMAGE_TARGET} runcvm-installer && ${INSTALL_RUNTIME}`],
  }
}

export function checkRegistration(f: HostFacts): Finding[] {
  const { name, path } = f.expect
  const dj = f.daemonJson
  const install = `${INSTALL_RUNTIME}   # adds runtimes.${name}.path to ${dj.file} and reloads dockerd`
  const out: Finding[] = []
  if (dj.error) {
    out.push({ id: 'daemon-json', status: 'problem', title: `${dj.file} cannot be read: ${dj.error}`, fix: [`Fix ${dj.file} by hand (it must be one JSON object), then: ${install}`] })
  } else if (dj.runtimePath === path) {
    out.push({ id: 'daemon-json', status: 'ok', title: `${dj.file}: runtimes.${name}.path = ${path}` })
  } else {
    out.push({
      id: 'daemon-json', status: 'problem',
      title: dj.runtimePath ? `${dj.file}: runtimes.${name}.path is ${dj.runtimePath}, not ${path}` : `The ${name} runtime is not registered in ${dj.file}${dj.exists ? '' : ' (no such file)'}`,
      detail: [`docker run --runtime=${name} fails with "unknown or invalid runtime name: ${name}" until it is.`],
      fix: [install],
    })
  }
  if (!f.dockerd.answers) {
    out.push({ id: 'dockerd', status: 'warn', title: 'dockerd does not answer (docker info failed): its loaded runtimes cannot be checked', fix: ['Start dockerd (systemctl start docker), then run runcvm-doctor again.'] })
  } else if (f.dockerd.runtimePath === path) {
    out.push({ id: 'dockerd', status: 'ok', title: `dockerd lists runtime ${name} (${path})` })
  } else if (dj.runtimePath === path) {
    out.push({
      id: 'dockerd', status: 'problem',
      title: `dockerd has not loaded ${dj.file} since ${name} was registered (docker info lists ${f.dockerd.runtimePath ?? 'no such runtime'})`,
      fix: ['systemctl reload docker   # systemd', 'or: kill -HUP "$(cat /var/run/docker.pid)"   # dockerd re-reads daemon.json; running containers are not disturbed'],
    })
  } else if (f.dockerd.runtimePath) {
    out.push({ id: 'dockerd', status: 'info', title: `dockerd lists runtime ${name} as ${f.dockerd.runtimePath} (from its command line or an older daemon.json)` })
  }
  return out
}

export function checkSecurity(f: HostFacts): Finding[] {
  const opts = f.dockerd.securityOptions ?? []
  const out: Finding[] = []
  const has = (k: string) => opts.find(o => o.split(',').includes(`name=${k}`))
  if (has('rootless')) {
    out.push({ id: 'rootless', status: 'problem', title: 'dockerd runs rootless', detail: ['RunCVM needs a rootful engine: the runtime creates taps, bridges and device nodes and runs QEMU as root in the container.'], fix: ['Use a rootful dockerd for RunCVM containers.'] })
  }
  if (has('userns')) {
    out.push({ id: 'userns', status: 'warn', title: 'dockerd remaps users (userns-remap)', detail: ['/dev/kvm and /dev/net/tun must be usable by the remapped root; untested with RunCVM.'], fix: ['docker run --userns=host --runtime=runcvm ...   # per container'] })
  }
  const seccomp = has('seccomp')
  out.push({ id: 'seccomp', status: 'info', title: seccomp ? `seccomp: ${seccomp.replace(/^name=seccomp,?/, '') || 'on'} (RunCVM adds one rule: unshare without namespace flags, for virtiofsd)` : 'seccomp: not reported by dockerd' })
  if (f.lsm.apparmor) out.push({ id: 'apparmor', status: 'info', title: 'AppArmor enabled: containers get docker-default, which RunCVM works under' })
  if (f.lsm.selinux === 'enforcing') {
    out.push({ id: 'selinux', status: 'warn', title: 'SELinux is enforcing', detail: ['QEMU and virtiofsd run in the container under its SELinux label; untested with RunCVM.'], fix: ['If VMs fail to start: docker run --security-opt label=disable --runtime=runcvm ...'] })
  } else if (f.lsm.selinux === 'permissive') {
    out.push({ id: 'selinux', status: 'info', title: 'SELinux is permissive' })
  }
  return out
}

export function checkCgroup(f: HostFacts): Finding {
  const v = f.cgroup ?? (f.dockerd.cgroupVersion === '2' ? 'v2' : f.dockerd.cgroupVersion === '1' ? 'v1' : undefined)
  if (!v) return { id: 'cgroup', status: 'info', title: 'cgroup version unknown' }
  const words = { v1: 'v1', hybrid: 'v1 with a cgroup2 mount (hybrid)', v2: 'v2 (unified)' }
  return { id: 'cgroup', status: 'ok', title: `cgroups ${words[v]}: supported` }
}

export function checkResources(f: HostFacts): Finding[] {
  const out: Finding[] = []
  for (const d of f.disk) {
    out.push(d.freeBytes >= MIN_FREE_BYTES
      ? { id: 'disk', status: 'ok', title: `${d.path}: ${GiB(d.freeBytes)} free` }
      : { id: 'disk', status: 'warn', title: `${d.path}: only ${GiB(d.freeBytes)} free`, detail: ['The package takes ~210 MiB (twice during an upgrade while VMs still use the old tree); images and RUNCVM_DISKS files need more.'], fix: [`Free space under ${d.path} (docker system prune, old images).`] })
  }
  if (f.memory) {
    const m = f.memory
    out.push(m.availableBytes >= MIN_AVAILABLE_MEMORY
      ? { id: 'memory', status: 'ok', title: `memory: ${GiB(m.availableBytes)} available of ${GiB(m.totalBytes)}` }
      : { id: 'memory', status: 'warn', title: `memory: only ${GiB(m.availableBytes)} available`, detail: ['Each VM takes its memory (-m, default 512 MiB) plus ~256 MiB for QEMU and its helpers.'], fix: ['Run fewer VMs, or smaller ones: docker run -m 256m --runtime=runcvm ...'] })
  }
  return out
}

export function checkWarnings(f: HostFacts): Finding | undefined {
  if (!f.warnings || f.warnings.lines.length === 0) return undefined
  const lines = f.warnings.lines
  return {
    id: 'recent-warnings', status: 'info',
    title: `${lines.length} warning(s) from RunCVM containers in ${f.warnings.file}; the latest:`,
    detail: lines.slice(-SHOW_WARNINGS),
  }
}

/** Every check, in report order. */
export function runChecks(f: HostFacts): Finding[] {
  return [
    checkKvm(f), checkTun(f), checkVhostNet(f), checkRpFilter(f), checkRunc(f), checkPackage(f),
    ...checkRegistration(f), ...checkSecurity(f), checkCgroup(f), ...checkResources(f),
    ...[checkWarnings(f)].filter((x): x is Finding => x !== undefined),
  ]
}

/** 0: all fine; 1: at least one problem; 2: warnings only. */
export function doctorExitCode(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some(x => x.status === 'problem')) return 1
  if (findings.some(x => x.status === 'warn')) return 2
  return 0
}

const LABEL: Record<Status, string> = { ok: 'OK     ', warn: 'WARN   ', problem: 'PROBLEM', info: 'INFO   ' }

/** The human report: one line per finding, indented detail and fix lines, a summary. */
export function formatReport(findings: readonly Finding[]): string {
  const out: string[] = ['RunCVM doctor: checks of this host', '']
  for (const x of findings) {
    out.push(`${LABEL[x.status]} ${x.title}`)
    for (const d of x.detail ?? []) out.push(`        ${d}`)
    for (const [i, c] of (x.fix ?? []).entries()) out.push(`        ${i === 0 ? 'fix: ' : '     '}${c}`)
  }
  const n = (s: Status) => findings.filter(x => x.status === s).length
  const code = doctorExitCode(findings)
  out.push('', `${n('ok')} ok, ${n('warn')} warning(s), ${n('problem')} problem(s); exit status ${code} (${['ready', 'problems to fix', 'works, with warnings'][code]})`)
  return out.join('\n') + '\n'
}

/**
 * Facts with parts replaced (`runcvm-doctor --facts FILE`): each top-level key of `over` replaces
 * the probed one, objects merged one level deep. For checking what the doctor says about a host
 * one does not have (tests: missing tun, strict rp_filter, an unregistered runtime).
 */
export function overlayFacts(base: HostFacts, over: Partial<Record<keyof HostFacts, unknown>>): HostFacts {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? { ...b, ...v } : v
  }
  return out as unknown as HostFacts
}
