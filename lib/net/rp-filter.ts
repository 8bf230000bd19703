// Reverse-path filtering inside the container's netns, checked by ctr-entrypoint after the bridges
// exist. The kernel applies max(conf.all.rp_filter, conf.<if>.rp_filter): 1 (strict) on a VM's
// bridge breaks Docker DNS in the VM (measured here with the host's values inherited by the
// netns: host default=1 → NXDOMAIN, all=1 → timeout), 0 or 2 work. The runtime sets 2 in the
// container netns (lib/oci/rewrite-create.ts NETNS_SYSCTLS), so this only fires when the user
// overrode it with `--sysctl` or another runtime path skipped that. Pure.

/** The warning to print (one line, says what to change), or undefined when the values are fine. */
export function rpFilterWarning(all: string | undefined, bridges: Readonly<Record<string, string | undefined>>): string | undefined {
  const a = Number(all?.trim() ?? 0)
  const strict = Object.entries(bridges).filter(([, v]) => Math.max(a, Number(v?.trim() ?? 0)) === 1).map(([b]) => b)
  if (strict.length === 0) return undefined
  return `RunCVM: Warning: strict reverse-path filtering (rp_filter 1; all=${a}) on ${strict.join(', ')} in the container; ` +
    'container names will not resolve in the VM (Docker DNS). Use --sysctl net.ipv4.conf.all.rp_filter=2 ' +
    '--sysctl net.ipv4.conf.default.rp_filter=2 (or 0), not 1.'
}
