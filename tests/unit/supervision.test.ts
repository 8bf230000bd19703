import { describe, expect, it } from 'vitest'
import { PKG_VIRTIOFSD_NAME, ROOT_VIRTIOFSD_NAME, supervisionArgs } from '../../lib/supervision.js'

describe('supervisionArgs (what runcvm-init watches besides QEMU)', () => {
  it('watches both virtiofsd by pid and respawns dnsmasq from its pid file', () => {
    expect(supervisionArgs({ rootPid: 41, pkgPid: 42, dns: ['/x/dnsmasq', '-u', 'root', '--pid-file=/run/.dnsmasq.pid'], containerId: 'abc' })).toEqual([
      '--warnings-log', '/run/.runcvm-warnings.log', '--container-id', 'abc',
      '--watch', `41=${ROOT_VIRTIOFSD_NAME}`,
      '--watch', `42=${PKG_VIRTIOFSD_NAME}`,
      '--respawn', '/run/.dnsmasq.pid=/x/dnsmasq -u root --pid-file=/run/.dnsmasq.pid',
    ])
  })
  it('leaves out what did not start', () => {
    expect(supervisionArgs({ rootPid: undefined, pkgPid: 7 })).toEqual(['--warnings-log', '/run/.runcvm-warnings.log', '--watch', `7=${PKG_VIRTIOFSD_NAME}`])
  })
  it('refuses a dnsmasq argv that runcvm-init would split wrongly', () => {
    expect(() => supervisionArgs({ dns: ['/x/dnsmasq', '--a b'] })).toThrow(/cannot be respawned/)
    expect(() => supervisionArgs({ dns: ['/x/dnsmasq', ''] })).toThrow(/cannot be respawned/)
  })
})
