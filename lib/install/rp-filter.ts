// rp_filter: a RunCVM VM answers from behind a bridge + tap inside its container's network
// namespace. Strict reverse-path filtering (1) there drops its traffic; the kernel applies
// max(conf.all.rp_filter, conf.<if>.rp_filter), and new bridges take conf.default. The runtime
// sets both to 2 (loose) in each container's own netns (linux.sysctl at create), so the host's
// values do not decide it: the installer checks them and explains, and changes host settings only
// when asked (--set-rp-filter). Pure decisions here; lib/install/steps.ts does the I/O.
//
// Differs from runcvm-install-runtime.sh: upstream set both host values to 2 without asking and
// edited distro sysctl files to persist it.

export type RpFilterPlan =
  | { action: 'unknown'; message: string }
  | { action: 'ok'; message: string }
  | { action: 'explain'; message: string }
  | { action: 'fix'; message: string; write: { all: 2; default: 2 } }

/** The flag that makes the installer change the host's values (upstream's behaviour). */
export const SET_RP_FILTER_FLAG = '--set-rp-filter'

/**
 * Decide from the host's `net.ipv4.conf.{all,default}.rp_filter` (file text or number; undefined
 * when the file is missing) what to say or do. Values are fine when `all` is 2 (loose wins
 * everywhere) or both are 0 (upstream's check_rp_filter rule). Otherwise: with `set`, set both to
 * 2 (setting `all` too covers bridges that already exist with a strict value, e.g. docker0); without
 * it, one paragraph saying what was found, why RunCVM does not need it changed, and the flag.
 */
export function planRpFilter(all: string | number | undefined, dflt: string | number | undefined, set = false): RpFilterPlan {
  const a = all === undefined ? undefined : String(all).trim()
  const d = dflt === undefined ? undefined : String(dflt).trim()
  if (a === undefined || a === '' || d === undefined || d === '') {
    const missing = [a ? '' : 'all', d ? '' : 'default'].filter(Boolean).join(' and ')
    return { action: 'unknown', message: `cannot read net.ipv4.conf.${missing}.rp_filter; not changing anything` }
  }
  if (a === '2') return { action: 'ok', message: 'net.ipv4.conf.all.rp_filter is 2 (loose); nothing to do' }
  if (a === '0' && d === '0') return { action: 'ok', message: 'net.ipv4.conf.all.rp_filter and .default.rp_filter are 0; nothing to do' }
  const found = `net.ipv4.conf.all.rp_filter is ${a} and net.ipv4.conf.default.rp_filter is ${d}`
  if (set) {
    return { action: 'fix', message: `${found}; setting both to 2 (loose), as ${SET_RP_FILTER_FLAG} asks`, write: { all: 2, default: 2 } }
  }
  return {
    action: 'explain',
    message: [
      `Found ${found} on this host (1 = strict reverse-path filtering).`,
      'RunCVM does not need them changed: every RunCVM container sets rp_filter to 2 (loose) in its',
      "own network namespace, where its VM's bridge and tap live, and the host only sees the",
      "container's own address on its interface. So the installer leaves the host's settings and",
      `sysctl files alone. To set both host values to 2 and persist them, as upstream RunCVM's`,
      `installer did, run it again with ${SET_RP_FILTER_FLAG}.`,
    ].join('\n'),
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

/** With --set-rp-filter: drop-in written when no existing sysctl file pins the values (a /proc write alone is lost on reboot). */
export const SYSCTL_DROPIN = '/etc/sysctl.d/99-runcvm-rp-filter.conf'
export const SYSCTL_DROPIN_TEXT = [
  '# Written by runcvm-install-runtime: RunCVM VMs reach the network through a bridge inside the',
  '# container; strict reverse-path filtering (1) on the host drops their traffic. 2 = loose.',
  'net.ipv4.conf.all.rp_filter = 2',
  'net.ipv4.conf.default.rp_filter = 2',
  '',
].join('\n')
