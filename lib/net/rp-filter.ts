// Reverse-path filtering inside the container's netns, checked by ctr-entrypoint after the bridges
// exist. The kernel applies max(conf.all.rp_filter, conf.<if>.rp_filter); upstream's README says 1
// (strict) on the bridge a VM sits behind breaks Docker DNS in the VM, 0 or 2 work. Not reproduced
// on this host (see NETNS_SYSCTLS in lib/oci/rewrite-create.ts, which sets 2 in the container's
// netns), so this warns only when the user forced strict mode with `--sysctl`. Pure.

/** The warning to print (one line, says what to change), or undefined when the values are fine. */
export function rpFilterWarning(all: string | undefined, bridges: Readonly<Record<string, string | undefined>>): string | undefined {
  const a = Number(all?.trim() ?? 0)
  const strict = Object.entries(bridges).filter(([, v]) => Math.max(a, Number(v?.trim() ?? 0)) === 1).map(([b]) => b)
  if (strict.length === 0) return undefined
  return `RunCVM: Warning: strict reverse-path filtering (rp_filter 1; all=${a}) on ${strict.join(', ')} in the container; ` +
    'container names may not resolve in the VM (Docker DNS; RunCVM README "rp_filter sysctl settings"). If so, use --sysctl net.ipv4.conf.all.rp_filter=2 ' +
    '--sysctl net.ipv4.conf.default.rp_filter=2 (or 0) instead of 1.'
}
