// What a container's seccomp profile (runtime-spec linux.seccomp, as the engine wrote it) lets
// through, for choices that depend on it. Pure.
import type { Seccomp } from './spec.js'

const PASSES = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'])

/**
 * True when `name` always passes the profile: a rule naming it without argument conditions has
 * an allow (or log) action, or no rule names it and the default action allows. A rule with
 * argument conditions only, or any other action, counts as "not always".
 */
export function syscallAllowed(p: Seccomp | undefined, name: string): boolean {
  if (!p) return true
  const rules = (p.syscalls ?? []).filter(r => r.names?.includes(name))
  if (rules.length === 0) return PASSES.has(p.defaultAction)
  const plain = rules.filter(r => !r.args || r.args.length === 0)
  return plain.some(r => PASSES.has(r.action)) && !plain.some(r => !PASSES.has(r.action))
}

/** The io_uring system calls QEMU's `aio=io_uring` needs (liburing: setup, enter, register for probes). */
export const IO_URING_SYSCALLS = ['io_uring_setup', 'io_uring_enter', 'io_uring_register'] as const

/**
 * The AIO engine for RUNCVM_DISKS disks. io_uring (upstream's choice: less overhead per request)
 * when the container may use it; else QEMU's portable thread pool, instead of QEMU failing with
 * "Unable to use io_uring". Docker 25 and later deny io_uring_* in their default seccomp profile
 * (moby#46762: io_uring has been a frequent source of kernel exploits), and a host may disable it
 * with the kernel.io_uring_disabled sysctl (Linux 6.6+: 2 = for everyone, 1 = unless the process
 * has CAP_SYS_ADMIN or is in kernel.io_uring_group). Differs from upstream (always io_uring): we
 * keep the engine's profile as it is rather than re-allowing io_uring for QEMU, whose process is
 * what a guest escape would control.
 */
export function diskAio(o: { seccomp: Seccomp | undefined; ioUringDisabled?: number; sysAdmin: boolean }): 'io_uring' | 'threads' {
  if (!IO_URING_SYSCALLS.every(n => syscallAllowed(o.seccomp, n))) return 'threads'
  if (o.ioUringDisabled === 2 || (o.ioUringDisabled === 1 && !o.sysAdmin)) return 'threads'
  return 'io_uring'
}
