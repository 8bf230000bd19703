// Host-side policy for privileged RUNCVM_* switches. Pure: the classification table, the policy
// file's format, where an env entry came from (the image's ENV or the docker user), and the
// decision. The edges that read the policy file and Docker's on-disk records are in
// lib/policy-read.ts; the runtime applies the decision at `create` (lib/oci/bundle.ts).
//
// Why: Docker merges the image's ENV and `docker run -e` into one process.env in config.json, so
// without this any image could switch on options that widen the container's power on the host
// (CAP_SYS_ADMIN, a root shell outside the VM, host devices, host-side files). Image authors are
// not trusted; docker users are (they control dockerd already).
//
// Differs from upstream: upstream honoured every RUNCVM_* option from the image's ENV.
import { basename, dirname, join } from 'node:path'
import { ConfigError } from './errors.js'
import { SETTINGS, type SettingName } from './settings.js'

export type OptionClass = 'privileged' | 'ordinary'

/** The user options of lib/settings.ts (internal rows are overwritten at create, never honoured). */
export type UserOption = { [K in SettingName]: (typeof SETTINGS)[K] extends { internal: true } ? never : K }[SettingName]

/**
 * Every user option, privileged (affects the host or widens what the container may do outside
 * the VM) or ordinary (acts inside the VM, or on QEMU within the container's own limits). An
 * image's ENV may set ordinary options; privileged ones only when the policy allows it.
 */
export const OPTION_CLASSES: { readonly [K in UserOption]: { readonly class: OptionClass; readonly why: string } } = {
  RUNCVM_KERNEL: { class: 'ordinary', why: 'picks a packaged or in-image kernel for the VM (validated)' },
  RUNCVM_KERNEL_APPEND: { class: 'ordinary', why: "the guest kernel's command line" },
  RUNCVM_KERNEL_DEBUG: { class: 'ordinary', why: 'guest console verbosity' },
  RUNCVM_KERNEL_MOUNT_LIB_MODULES: { class: 'ordinary', why: 'where the VM sees the kernel modules' },
  RUNCVM_DISKS: { class: 'privileged', why: 'creates, truncates and mke2fs-formats files of any size at container paths (volumes, binds: host data) and hands them to QEMU' },
  RUNCVM_DISPLAY_MODE: { class: 'ordinary', why: "the VM's console (the QEMU monitor stays in the container, on the docker user's terminal)" },
  RUNCVM_QEMU_DISPLAY: { class: 'ordinary', why: 'QEMU display frontend in the container' },
  RUNCVM_QEMU_VGA: { class: 'ordinary', why: 'guest VGA adaptor' },
  RUNCVM_QEMU_VNC_DISPLAY: { class: 'ordinary', why: "a VNC server in the container's own network namespace" },
  RUNCVM_QEMU_USB: { class: 'ordinary', why: 'guest USB controller' },
  RUNCVM_QEMU_NET_VHOST: { class: 'privileged', why: "adds the host's /dev/vhost-net device to the container (host kernel attack surface)" },
  RUNCVM_QEMU_MEM_PREALLOC: { class: 'ordinary', why: "touches the VM's memory up front, within the container's memory limit" },
  RUNCVM_QEMU_DEBUG: { class: 'ordinary', why: "reports QEMU's exit status in the container" },
  RUNCVM_QEMU_ARCH: { class: 'ordinary', why: 'guest architecture' },
  RUNCVM_BIOS: { class: 'ordinary', why: 'guest firmware' },
  RUNCVM_BIOS_DEBUG: { class: 'ordinary', why: 'guest firmware output' },
  RUNCVM_SYS_ADMIN: { class: 'privileged', why: 'adds CAP_SYS_ADMIN to the container (outside the VM)' },
  RUNCVM_HUGETLB: { class: 'privileged', why: "takes the VM's memory from the host's shared hugetlb pool, which the container's memory limit does not bound" },
  RUNCVM_MEM_SIZE: { class: 'ordinary', why: 'VM memory; the container memory limit (--memory) wins, as without RunCVM' },
  RUNCVM_VIRTIOFSD_CACHE: { class: 'ordinary', why: "caching of the container's own root" },
  RUNCVM_CGROUPFS: { class: 'ordinary', why: 'cgroupfs mounts inside the VM' },
  RUNCVM_BREAK: { class: 'privileged', why: "drops to a root shell in the container, outside the VM, on the container's stdin" },
  RUNCVM_RUNTIME_DEBUG: { class: 'privileged', why: 'turns on host-side debug logging (files under /run/runcvm/debug on the host)' },
  RUNCVM_ACCEL: { class: 'ordinary', why: 'KVM or TCG; /dev/kvm is given to every RunCVM container' },
  RUNCVM_BOOT_TIMEOUT: { class: 'ordinary', why: 'boot watchdog of this container' },
  RUNCVM_BOOT_TIMING: { class: 'ordinary', why: "timestamps in the container's own /.runcvm" },
  RUNCVM_IPV6: { class: 'ordinary', why: 'IPv6 in the guest kernel' },
  RUNCVM_TCG_TB_SIZE: { class: 'privileged', why: "raises the container's memory limit on the host by up to 1 GiB over the VM's RAM (the translation cache is counted in it), past what --memory asked for" },
}

/** The privileged options, in table order. */
export const PRIVILEGED: readonly UserOption[] =
  (Object.keys(OPTION_CLASSES) as UserOption[]).filter(n => OPTION_CLASSES[n].class === 'privileged')

/** What the runtime does with a privileged switch whose source it cannot tell (see Policy). */
export type UnknownProvenance = 'refuse' | 'allow'

export interface Policy {
  /** Privileged options an image's ENV may set (default: none). */
  imageMaySet: readonly UserOption[]
  /**
   * A privileged option set where its source cannot be told (not a Docker container: podman,
   * containerd's ctr; or Docker's records not found): 'refuse' (default) or 'allow'.
   */
  unknownProvenance: UnknownProvenance
}

export const DEFAULT_POLICY: Policy = { imageMaySet: [], unknownProvenance: 'refuse' }

/** The production policy file (root-owned, optional). */
export const POLICY_FILE = '/etc/runcvm/policy.json'

/**
 * The policy file for a package installed at `hostRoot`: `<R>/etc/runcvm/policy.json` when the
 * package is `<R>/opt/runcvm` (any other layout: POLICY_FILE), so /opt/runcvm gives POLICY_FILE, and a test package at
 * `<dist>/opt/runcvm` (RUNCVM_HOST_ROOT, set only by a test's runtime wrapper, never from a
 * container) has its own `<dist>/etc/runcvm/policy.json`. An image cannot reach either.
 */
export function policyFileFor(hostRoot: string): string {
  const opt = dirname(hostRoot)
  if (basename(hostRoot) !== 'runcvm' || basename(opt) !== 'opt') return POLICY_FILE // another layout: the host's
  return join(dirname(opt), 'etc', 'runcvm', 'policy.json')
}

const ACCEPTED = (file: string) =>
  `${file} must be a JSON object with optional "imageMaySet": [names] (any of ${PRIVILEGED.join(', ')}) and ` +
  '"unknownProvenance": "refuse" or "allow"'

/** Parse the policy file's text. Throws ConfigError naming the file and what is accepted; never quotes the content. */
export function parsePolicy(text: string, file: string): Policy {
  let v: unknown
  try { v = JSON.parse(text) } catch { throw new ConfigError(`malformed policy: ${ACCEPTED(file)} (it is not valid JSON)`) }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`malformed policy: ${ACCEPTED(file)}`)
  const o = v as Record<string, unknown>
  const extra = Object.keys(o).filter(k => k !== 'imageMaySet' && k !== 'unknownProvenance')
  if (extra.length) throw new ConfigError(`malformed policy: unknown key ${JSON.stringify(extra[0].slice(0, 64))}; ${ACCEPTED(file)}`)
  const may = o.imageMaySet ?? []
  if (!Array.isArray(may) || !may.every(n => typeof n === 'string' && (PRIVILEGED as readonly string[]).includes(n))) {
    throw new ConfigError(`malformed policy: "imageMaySet" lists something that is not a privileged option (ordinary options need no permission); ${ACCEPTED(file)}`)
  }
  const unk = o.unknownProvenance ?? DEFAULT_POLICY.unknownProvenance
  if (unk !== 'refuse' && unk !== 'allow') throw new ConfigError(`malformed policy: bad "unknownProvenance"; ${ACCEPTED(file)}`)
  return { imageMaySet: [...new Set(may as UserOption[])], unknownProvenance: unk }
}

/**
 * Where the env came from, as Docker recorded it: `merged` is the container's Config.Env
 * (config.v2.json), `image` the image's config.Env (imagedb). Undefined: unknown.
 */
export interface EnvRecords { merged: readonly string[]; image: readonly string[] }

/** Longest env Docker's records may hold for the order analysis (beyond it: unknown). */
export const MAX_ENV_ENTRIES = 4096

const keyOf = (kv: string): string => kv.split('=')[0]

/**
 * How many leading entries of `merged` the docker user gave, or undefined when the records do not
 * fit Docker's merge. Docker builds Config.Env as the user's entries (`-e`, `--env-file`, in
 * order) followed by the image's entries whose name the user did not set, in the image's order.
 * The smallest such prefix is taken: an entry that could be either the user's or the image's
 * counts as the image's (when the user repeats an image entry with the same value in the same
 * place, the two cannot be told apart).
 */
export function userPrefixLength(r: EnvRecords): number | undefined {
  const { merged, image } = r
  if (merged.length > MAX_ENV_ENTRIES || image.length > MAX_ENV_ENTRIES) return undefined
  const userKeys = new Set<string>()
  for (let k = 0; k <= merged.length; k++) {
    if (k > 0) userKeys.add(keyOf(merged[k - 1]))
    const rest = image.filter(e => !userKeys.has(keyOf(e)))
    if (rest.length === merged.length - k && rest.every((e, i) => e === merged[k + i])) return k
  }
  return undefined
}

export type Source = 'user' | 'image' | 'unknown'

/**
 * Where the effective `NAME=value` of each name came from. `records` undefined: unknown. An entry
 * Docker's records do not hold as the last definition of that name (the engine added it): unknown.
 */
export function sourceOf(name: string, value: string, records: EnvRecords | undefined): Source {
  if (!records) return 'unknown'
  const k = userPrefixLength(records)
  if (k === undefined) return 'unknown'
  let j = -1
  records.merged.forEach((e, i) => { if (keyOf(e) === name) j = i })
  if (j < 0 || records.merged[j] !== `${name}=${value}`) return 'unknown'
  return j < k ? 'user' : 'image'
}

/** Whether a privileged option's value switches it on (upstream's truthiness; lists and strings: non-empty). */
export function isActive(name: UserOption, value: string | undefined): boolean {
  if (value === undefined || value === '') return false
  const row = SETTINGS[name] as { kind: string; truth?: string }
  if (row.kind === 'bool') return row.truth === 'one' ? value === '1' : row.truth === 'on' ? value === 'on' : true
  return true
}

/** The privileged options switched on in an OCI env list (last definition wins). */
export function activePrivileged(specEnv: readonly string[]): UserOption[] {
  const env: Record<string, string> = {}
  for (const kv of specEnv) { const i = kv.indexOf('='); if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1) }
  return PRIVILEGED.filter(n => isActive(n, env[n]))
}

export interface Denial { name: UserOption; source: 'image' | 'unknown' }

/**
 * The decision (pure): every privileged option switched on in the spec's env (last definition
 * wins) whose source the policy does not allow. Empty: go ahead.
 */
export function decidePrivileged(specEnv: readonly string[], records: EnvRecords | undefined, policy: Policy): Denial[] {
  const env: Record<string, string> = {}
  for (const kv of specEnv) { const i = kv.indexOf('='); if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1) }
  const out: Denial[] = []
  for (const name of activePrivileged(specEnv)) {
    const src = sourceOf(name, env[name], records)
    if (src === 'image' && !policy.imageMaySet.includes(name)) out.push({ name, source: 'image' })
    if (src === 'unknown' && policy.unknownProvenance !== 'allow') out.push({ name, source: 'unknown' })
  }
  return out
}

/** The one-line refusal for the first denial (the caller throws it as a ConfigError). */
export function denialMessage(d: Denial, file: string, unknownWhy?: string): string {
  if (d.source === 'image') {
    return `${d.name} is set by the image's ENV; images may not set privileged options (${file}): ` +
      `set it with docker run -e ${d.name}=..., or allow it in ${file} ("imageMaySet": ["${d.name}"])`
  }
  return `${d.name} is set, but whether by the image's ENV or by the user cannot be told (${unknownWhy ?? 'not a Docker container'}); ` +
    `privileged options then need ${file} to say "unknownProvenance": "allow"`
}
