// rp_filter decision table (upstream check_rp_filter) and persistent sysctl patching.
import { describe, expect, it } from 'vitest'
import { patchSysctlText, planRpFilter, SYSCTL_MARK } from '../../lib/install/rp-filter.js'

describe('planRpFilter', () => {
  it.each([
    // all, default, action without --set-rp-filter, action with it
    ['0', '0', 'ok', 'ok'],
    ['2', '0', 'ok', 'ok'],
    ['2', '1', 'ok', 'ok'],
    ['2', '2', 'ok', 'ok'],
    ['0', '1', 'explain', 'fix'],
    ['0', '2', 'explain', 'fix'], // upstream is strict here too: an existing bridge may still be at 1
    ['1', '0', 'explain', 'fix'],
    ['1', '1', 'explain', 'fix'],
    ['1', '2', 'explain', 'fix'],
    ['1\n', '1\n', 'explain', 'fix'], // as read from /proc
    [undefined, '1', 'unknown', 'unknown'],
    ['1', undefined, 'unknown', 'unknown'],
    ['', '', 'unknown', 'unknown'],
  ] as const)('all=%j default=%j -> %s, with the flag %s', (all, dflt, plain, withFlag) => {
    expect(planRpFilter(all, dflt).action).toBe(plain)
    const p = planRpFilter(all, dflt, true)
    expect(p.action).toBe(withFlag)
    if (p.action === 'fix') expect(p.write).toEqual({ all: 2, default: 2 })
  })

  it('without the flag: one paragraph saying what was found, why RunCVM does not need it, and the flag', () => {
    expect(planRpFilter('1\n', '1\n').message).toBe([
      'Found net.ipv4.conf.all.rp_filter is 1 and net.ipv4.conf.default.rp_filter is 1 on this host (1 = strict reverse-path filtering).',
      'RunCVM does not need them changed: every RunCVM container sets rp_filter to 2 (loose) in its',
      "own network namespace, where its VM's bridge and tap live, and the host only sees the",
      "container's own address on its interface. So the installer leaves the host's settings and",
      "sysctl files alone. To set both host values to 2 and persist them, as upstream RunCVM's",
      'installer did, run it again with --set-rp-filter.',
    ].join('\n'))
  })

  it('accepts numbers and names what it could not read', () => {
    expect(planRpFilter(2, 1).action).toBe('ok')
    expect(planRpFilter(undefined, undefined).message).toMatch(/all and default/)
  })
})

describe('patchSysctlText', () => {
  it('comments out strict settings and adds loose ones, keeping other lines', () => {
    const text = ['# comment', 'net.ipv4.conf.all.rp_filter=1', '  net/ipv4/conf/default/rp_filter = 1', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.eth0.rp_filter=1', ''].join('\n')
    const r = patchSysctlText(text)
    expect(r.changed).toBe(true)
    expect(r.text.split('\n')).toEqual([
      '# comment',
      `${SYSCTL_MARK} net.ipv4.conf.all.rp_filter=1`,
      'net.ipv4.conf.all.rp_filter = 2',
      `${SYSCTL_MARK} net/ipv4/conf/default/rp_filter = 1`,
      '  net/ipv4/conf/default/rp_filter = 2',
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.eth0.rp_filter=1',
      '',
    ])
  })

  it('is idempotent and ignores commented or non-strict settings', () => {
    const once = patchSysctlText('net.ipv4.conf.all.rp_filter=1\n').text
    expect(patchSysctlText(once)).toEqual({ text: once, changed: false })
    for (const t of ['#net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.all.rp_filter=2', 'net.ipv4.conf.all.rp_filter=10']) {
      expect(patchSysctlText(t)).toEqual({ text: t, changed: false })
    }
  })
})
