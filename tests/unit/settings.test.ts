import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { envOf, parseSettings, SETTINGS, type SettingName } from '../../lib/settings'

/** One setting as parseSettings gives it for this env. */
const parseSetting = <K extends SettingName>(name: K, env: Record<string, string>) => parseSettings(env)[name]
import { ConfigError } from '../../lib/errors'
import { TCG_TB_SIZE_MIB } from '../../lib/sizing'

describe('parseSettings', () => {
  it('gives every default on an empty env', () => {
    const s = parseSettings({})
    expect(s.RUNCVM_DISPLAY_MODE).toBe('headless')
    expect(s.RUNCVM_VIRTIOFSD_CACHE).toBe('auto')
    expect(s.RUNCVM_QEMU_MEM_PREALLOC).toBe('off')
    expect(s.RUNCVM_ACCEL).toBe('auto')
    expect(s.RUNCVM_CPUS).toBe(0)
    expect(s.RUNCVM_BREAK).toEqual([])
    expect(s.RUNCVM_KERNEL).toBeUndefined()
    expect(s.RUNCVM_SYS_ADMIN).toBe(false)
  })

  it('keeps upstream truthiness per variable', () => {
    // '1'-only variables: "true" or "yes" are NOT enabled upstream
    expect(parseSetting('RUNCVM_SYS_ADMIN', { RUNCVM_SYS_ADMIN: 'true' })).toBe(false)
    expect(parseSetting('RUNCVM_SYS_ADMIN', { RUNCVM_SYS_ADMIN: '1' })).toBe(true)
    // non-empty variables: any value enables
    expect(parseSetting('RUNCVM_KERNEL_MOUNT_LIB_MODULES', { RUNCVM_KERNEL_MOUNT_LIB_MODULES: '0' })).toBe(true)
    expect(parseSetting('RUNCVM_KERNEL_MOUNT_LIB_MODULES', { RUNCVM_KERNEL_MOUNT_LIB_MODULES: '' })).toBe(false)
    // "on"-only
    expect(parseSetting('RUNCVM_QEMU_USB', { RUNCVM_QEMU_USB: '1' })).toBe(false)
    expect(parseSetting('RUNCVM_QEMU_USB', { RUNCVM_QEMU_USB: 'on' })).toBe(true)
  })

  it('accepts the upstream alias "default" for the display mode', () => {
    expect(parseSetting('RUNCVM_DISPLAY_MODE', { RUNCVM_DISPLAY_MODE: 'default' })).toBe('headless')
  })

  it('rejects a bad enum naming the variable and the accepted values', () => {
    expect(() => parseSettings({ RUNCVM_DISPLAY_MODE: 'bogus' })).toThrow(ConfigError)
    expect(() => parseSettings({ RUNCVM_DISPLAY_MODE: 'bogus' }))
      .toThrow("RUNCVM_DISPLAY_MODE 'bogus' invalid, must be one of: headless, serial, vnc")
  })

  it('rejects a bad integer and a bad list item', () => {
    expect(() => parseSettings({ RUNCVM_QEMU_VNC_DISPLAY: '-1' })).toThrow(/RUNCVM_QEMU_VNC_DISPLAY '-1' invalid/)
    expect(() => parseSettings({ RUNCVM_BREAK: 'prenet,later' })).toThrow(/RUNCVM_BREAK 'prenet,later' invalid/)
    expect(parseSetting('RUNCVM_BREAK', { RUNCVM_BREAK: 'prenet, preqemu' })).toEqual(['prenet', 'preqemu'])
  })

  it('takes RUNCVM_TCG_TB_SIZE within its range and names the range otherwise', () => {
    expect(parseSetting('RUNCVM_TCG_TB_SIZE', {})).toBe(TCG_TB_SIZE_MIB)
    expect(parseSetting('RUNCVM_TCG_TB_SIZE', { RUNCVM_TCG_TB_SIZE: '16' })).toBe(16)
    expect(parseSetting('RUNCVM_TCG_TB_SIZE', { RUNCVM_TCG_TB_SIZE: '1024' })).toBe(1024)
    for (const bad of ['15', '1025', '32M', '-1', '0x20']) {
      expect(() => parseSettings({ RUNCVM_TCG_TB_SIZE: bad }))
        .toThrow(`RUNCVM_TCG_TB_SIZE '${bad}' invalid, must be a whole number from 16 to 1024`)
    }
  })
})

describe('envOf', () => {
  it('splits on the first = and lets the last definition win', () => {
    expect(envOf(['A=1', 'B=x=y', 'A=2', 'EMPTY=', 'NOEQ'])).toEqual({ A: '2', B: 'x=y', EMPTY: '' })
  })
})

describe('README option reference', () => {
  it('documents every user-facing RUNCVM_* option', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const missing = (Object.keys(SETTINGS) as SettingName[]).filter(n => !(SETTINGS[n] as { internal?: boolean }).internal && !readme.includes(`\`${n}\``))
    expect(missing).toEqual([])
  })
})
