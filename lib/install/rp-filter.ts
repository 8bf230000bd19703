// rp_filter: RunCVM's VM answers from behind a bridge+tap inside the container, and strict reverse
// path filtering on the host's Docker bridge drops those packets. The kernel applies
// max(conf.all.rp_filter, conf.<if>.rp_filter), and new bridges take conf.default; 0 (off) or
// 2 (loose) work, 1 (strict) does not. Pure decisions here; the installer does the I/O.

export type RpFilterPlan =
  | { action: 'unknown'; message: string }
  | { action: 'ok'; message: string }
  | { action: 'fix'; message: string; write: { all: 2; default: 2 } }

/**
 * Decide from the current `net.ipv4.conf.{all,default}.rp_filter` values (file text or number;
 * undefined when the file is missing) whether to change anything. Same rule as upstream's
 * check_rp_filter: fine when `all` is 2 (loose wins everywhere) or when both are 0; otherwise set
 * both to 2. Setting `all` too (not only `default`) also covers bridges that already exist with
 * a strict value, e.g. docker0 created at boot.
 */
export function planRpFilter(all: string | number | undefined, dflt: string | number | undefined): RpFilterPlan {
  const a = all === undefined ? undefined : String(all).trim()
  const d = dflt === undefined ? undefined : String(dflt).trim()
  if (a === undefined || a === '' || d === undefined || d === '') {
    const missing = [a ? '' : 'all', d ? '' : 'default'].filter(Boolean).join(' and ')
    return { action: 'unknown', message: `cannot read net.ipv4.conf.${missing}.rp_filter; not changing anything` }
  }
  if (a === '2') return { action: 'ok', message: 'net.ipv4.conf.all.rp_filter is 2 (loose); nothing to do' }
  if (a === '0' && d === '0') return { action: 'ok', message: 'net.ipv4.conf.all.rp_filter and .default.rp_filter are 0; nothing to do' }
  return {
    action: 'fix',
    message: `net.ipv4.conf.all.rp_filter is ${a} and .default.rp_filter is ${d}; setting both to 2 (loose)`,
    write: { all: 2, default: 2 },
  }
}

/** Matches a persistent strict setting `net.ipv4.conf.(all|default).rp_filter = 1` (either separator). */
const STRICT_LINE = /^(\s*)net([./])ipv4\2conf\2(all|default)\2rp_filter\s*=\s*1\s*$/

/** Marker we put on lines we rewrite, so a later run recognises its own edit. */
export const SYSCTL_MARK = '# RunCVM: strict rp_filter breaks VM networking; was:'

/**
 * Rewrite a sysctl.conf-style text so the settings survive a reboot: every line that sets
 * all/default rp_filter to 1 is commented out (with a note saying why and what it was) and
 * followed by the same key set to 2. Other lines are kept byte for byte. Idempotent.
 */
export function patchSysctlText(text: string): { text: string; changed: boolean } {
  let changed = false
  const lines = text.split('\n').flatMap(line => {
    const m = STRICT_LINE.exec(line)
    if (!m) return [line]
    changed = true
    const [, indent, sep, which] = m
    return [`${SYSCTL_MARK} ${line.trim()}`, `${indent}${['net', 'ipv4', 'conf', which, 'rp_filter'].join(sep)} = 2`]
  })
  return { text: lines.join('\n'), changed }
}

/** Drop-in written when no existing sysctl file pins the values (the runtime fix alone is lost on reboot). */
export const SYSCTL_DROPIN = '/etc/sysctl.d/99-runcvm-rp-filter.conf'
export const SYSCTL_DROPIN_TEXT = [
  '# Written by runcvm-install-runtime: RunCVM VMs reach the network through a bridge inside the',
  '# container; strict reverse-path filtering (1) on the host drops their traffic. 2 = loose.',
  'net.ipv4.conf.all.rp_filter = 2',
  'net.ipv4.conf.default.rp_filter = 2',
  '',
].join('\n')
