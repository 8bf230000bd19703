// The container's exit code once QEMU has ended (runcvm-ctr-exit). Pure.
//
// Order (beyond upstream, which only had the first and third):
//  1. /.runcvm/exitcode, written by the application itself (upstream feature), & 255;
//  2. /.runcvm/exit-status, written by `runcvm-init --vm` with the workload's own status
//     (0-255, 128+N for a signal death): `docker run` returns it with no help from the app;
//  3. QEMU's status: sbin/qemu-exit N leaves QEMU with 2N-1 through isa-debug-exit, so N =
//     (status+1)/2 (a plain power-off gives 0);
//  4. 0.
export interface ExitFacts {
  appCode?: number
  exitStatus?: number
  qemuStatus?: number
  /** QEMU itself was killed by this signal (runcvm-init's `signal=N` argument). */
  qemuSignal?: number
}

export function deriveExitCode(f: ExitFacts): number {
  if (f.appCode !== undefined) return f.appCode & 255
  if (f.exitStatus !== undefined) return f.exitStatus & 255
  // A QEMU killed by a signal has no qemu-exit status: 128+N, as for any process killed by N
  // (decoding 135 = SIGBUS as qemu-exit's 2N-1 gave 68, with no word of what happened).
  if (f.qemuSignal) return (128 + f.qemuSignal) & 255
  if (f.qemuStatus !== undefined) return ((f.qemuStatus + 1) >> 1) & 255
  return 0
}

/** The error to print when QEMU died of a signal before the workload's status was known. */
export function qemuSignalError(f: ExitFacts, signalName?: string): string | undefined {
  if (!f.qemuSignal || f.appCode !== undefined || f.exitStatus !== undefined) return undefined
  const why: Record<number, string> = {
    7: ': its guest RAM file could not be backed (a /dev/shm smaller than the VM memory, or no memory left)',
    9: ' (the container hit its memory limit, or something killed it)',
  }
  return `RunCVM: Error: QEMU was killed by signal ${f.qemuSignal}${signalName ? ` (${signalName})` : ''}; the VM ended abnormally${why[f.qemuSignal] ?? ''}`
}
