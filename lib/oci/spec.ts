// Types for the subset of the OCI runtime-spec config.json / process.json that RunCVM reads or
// writes. No logic. Every field the runtime does not touch stays in the object untouched (the
// index signatures keep unknown fields typed as `unknown`, never dropped).
// Reference: https://github.com/opencontainers/runtime-spec/blob/main/config.md

export interface User {
  uid: number
  gid: number
  umask?: number
  additionalGids?: number[]
  username?: string
}

/** The capability sets of config.md "process.capabilities"; every one optional in the spec. */
export interface Capabilities {
  bounding?: string[]
  effective?: string[]
  inheritable?: string[]
  permitted?: string[]
  ambient?: string[]
}

/** config.json `process`, and the whole of the process.json handed to `runc exec --process`. */
export interface Process {
  terminal?: boolean
  user: User
  args?: string[]
  env?: string[]
  cwd: string
  capabilities?: Capabilities
  [k: string]: unknown
}

export interface Mount {
  destination: string
  type?: string
  source?: string
  options?: string[]
  [k: string]: unknown
}

/** linux.devices entry: a device node runc creates in the container. */
export interface DeviceNode {
  path: string
  type: string
  major?: number
  minor?: number
  fileMode?: number
  uid?: number
  gid?: number
}

/** linux.resources.devices entry: a cgroup device access rule. */
export interface DeviceRule {
  allow: boolean
  type?: string
  major?: number
  minor?: number
  access?: string
}

export interface SeccompArg {
  index: number
  value: number
  valueTwo?: number
  op: string
}

export interface SeccompSyscall {
  names: string[]
  action: string
  errnoRet?: number
  args?: SeccompArg[]
  [k: string]: unknown
}

export interface Seccomp {
  defaultAction: string
  architectures?: string[]
  syscalls?: SeccompSyscall[]
  [k: string]: unknown
}

export interface Resources {
  devices?: DeviceRule[]
  /** runtime-spec: `swap` is the memory+swap limit (cgroup v1 memsw semantics, also on v2 hosts). */
  memory?: { limit?: number; reservation?: number; swap?: number; [k: string]: unknown }
  cpu?: { quota?: number; period?: number; shares?: number; cpus?: string; mems?: string; [k: string]: unknown }
  [k: string]: unknown
}

/** linux.namespaces entry (runtime-spec config-linux.md "Namespaces"). */
export interface Namespace {
  type: string
  /** Join this existing namespace instead of creating one. */
  path?: string
}

export interface Linux {
  devices?: DeviceNode[]
  namespaces?: Namespace[]
  resources?: Resources
  seccomp?: Seccomp
  [k: string]: unknown
}

export interface Spec {
  ociVersion: string
  process: Process
  root: { path: string; readonly?: boolean }
  hostname?: string
  mounts?: Mount[]
  linux?: Linux
  [k: string]: unknown
}
