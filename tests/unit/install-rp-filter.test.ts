// rp_filter decision table (upstream check_rp_filter) and persistent sysctl patching.
import { describe, expect, it } from 'vitest'
import { patchSysctlText, planRpFilter, SYSCTL_MARK } from '../../lib/install/rp-filter.js'

describe('planRpFilter', () => {
  it.each([
    // all, default, action
    ['0', '0', 'ok'],
    ['2', '0', 'ok'],
    ['2', '1', 'ok'],
    ['2', '2', 'ok'],
    ['0', '1', 'fix'],
    ['0', '2', 'fix'], // upstream is strict here too: an existing bridge may still be at 1
    ['1', '0', 'fix'],
    ['1', '1', 'fix'],
    ['1', '2', 'fix'],
    ['1\n', '1\n', 'fix'], // as read from /proc
    [undefined, '1', 'unknown'],
    ['1', undefined, 'unknown'],
    ['', '', 'unknown'],
  ] as const)('all=%j default=%j -> %s', (all, dflt, action) => {
    const p = planRpFilter(all, dflt)
    expect(p.action).toBe(action)
    if (p.action === 'fix') expect(p.write).toEqual({ all: 2, default: 2 })
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
