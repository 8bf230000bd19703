// The container's exit code once QEMU has ended (runcvm-ctr-exit). Pure.
//
// Order (beyond upstream, which only had the first and third):
//  1. /.runcvm/exitcode, written by the application itself (upstream feature), & 255;
//  2. /.runcvm/exit-status, written by `runcvm-init --vm` with the workload's own status
//     (0-255, 128+N for a signal death): `docker run` returns it with no help from the app;
//  3. QEMU's status: sbin/qemu-exit N leaves QEMU with 2N-1 through isa-debug-exit, so N =
//     (status+1)/2 (a plain power-off gives 0);
//  4. 0.
export interface ExitFacts { appCode?: number; exitStatus?: number; qemuStatus?: number }

export function deriveExitCode(f: ExitFacts): number {
  if (f.appCode !== undefined) return f.appCode & 255
  if (f.exitStatus !== undefined) return f.exitStatus & 255
  if (f.qemuStatus !== undefined) return ((f.qemuStatus + 1) >> 1) & 255
  return 0
}
