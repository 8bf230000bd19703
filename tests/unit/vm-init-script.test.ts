// The VM's init script (lib/vm/init-script.ts): sq() quoting proven by a real shell, goldens for a
// few states, syntax checked by busybox sh -n, and the facts walker (realpathIn).
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { buildVmInitScript, cgroupLines, type InitScriptInput } from '../../lib/vm/init-script.js'
import { shQuote as sq } from '../../lib/cmd.js'
import { netLines } from '../../lib/vm/net.js'
import { readImageFacts, realpathIn } from '../../lib/vm/init-facts.js'
import { moduleLines } from '../../lib/vm/guest-kernel.js'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfigState } from '../../lib/state.js'

const BUSYBOX = ['dist/opt/runcvm/usr/bin/busybox', '/bin/busybox'].find(existsSync)
const SH = BUSYBOX ? [BUSYBOX, 'sh'] : ['/bin/sh']

const NASTY = [
  '', 'plain', "it's", '"dq"', '$HOME `id` $(id) ${x}', 'back\\slash\\n', 'new\nline\n', 'tab\there', ' lead and trail ',
  '*?[a]', '-n', '--', '=', 'ünïcødé ✓', '\'\'\'', 'a\'b"c$d`e\\f', '\x01\x7f\xff',
]

function sh(script: string, args: string[] = []): string {
  return execFileSync(SH[0], [...SH.slice(1), '-c', script, 'sh', ...args], { encoding: 'utf8' })
}

describe('sq', () => {
  it.each(NASTY.map(s => [JSON.stringify(s), s]))('round-trips %s through a real shell', (_, s) => {
    expect(sh(`printf %s ${sq(s)}`)).toBe(s)
    expect(sh(`v=x${sq(s)}y; printf %s "$v"`)).toBe(`x${s}y`)
  })
})

const NO_TOOLS = { modprobe: false, kmod: false, apparmorParser: false, modprobeOnPath: false, dockerd: false }

const cfg = (over: Partial<ConfigState> = {}): ConfigState => ({
  v: 1, args: ['sh', '-c', 'echo hi'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
  settingsEnv: {}, cwd: '/', uid: 0, gid: 0, groups: [], ...over,
})

const base = (): InitScriptInput => ({
  cfg: cfg(),
  settings: { RUNCVM_INIT: false, RUNCVM_BOOT_TIMING: false, RUNCVM_CGROUPFS: '' },
  vm: { v: 1, console: 'hvc0', controlPort: 'org.runcvm.control', pkgTag: 'runcvmpkg' },
  net: { v: 1, interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' }], routes: [] },
  fstab: [],
  image: { resolved: '/bin/busybox', group: 'root:x:0:\ntty:x:5:\n', hostname: 'abc123\n', etcFstab: '', system: NO_TOOLS },
  packageModules: true,
  launch: { runcvmInit: '/.runcvm/guest/sbin/runcvm-init', exitFile: '/.runcvm/exit-status', controlPort: 'org.runcvm.control' },
})

const cases: Record<string, () => InitScriptInput> = {
  plain: base,
  'timing-init-nasty': () => {
    const i = base()
    i.settings = { RUNCVM_INIT: true, RUNCVM_BOOT_TIMING: true, RUNCVM_CGROUPFS: '1' }
    i.cfg = cfg({ args: ['/bin/echo', ...NASTY], env: ['A=' + NASTY.join('|'), "B=it's", 'RUNCVM_X=1'], cwd: '/tmp/a b', uid: 1000, gid: 1000, groups: [5, 6] })
    i.image.hostname = "h'st"
    i.image.group = 'tty:x:7:\n'
    i.image.system = { modprobe: true, kmod: true, apparmorParser: true, modprobeOnPath: true, dockerd: true }
    return i
  },
  'systemd-multinic-fstab': () => {
    const i = base()
    i.settings = { RUNCVM_INIT: false, RUNCVM_BOOT_TIMING: false, RUNCVM_CGROUPFS: '' }
    i.cfg = cfg({ args: ['/sbin/init'] })
    i.image = { resolved: '/lib/systemd/systemd', etcFstab: '# none\n', system: { modprobe: false, kmod: false, apparmorParser: true, modprobeOnPath: false, dockerd: true } }
    i.vm = { v: 1, console: 'ttyS0', controlPort: 'org.runcvm.control' }
    i.net = {
      v: 1,
      interfaces: [
        { name: 'eth0', mac: '02:42:AC:11:00:02', mtu: 1500, ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1' },
        { name: 'eth1', mac: '02:42:ac:12:00:03', mtu: 9000, ip: '172.18.0.3', prefix: 24 },
        { name: 'eth2', mac: '02:42:ac:13:00:04', mtu: 1500 },
      ],
      routes: [{ dst: '10.1.0.0/16', gateway: '172.18.0.1', dev: 'eth1' }, { dst: '10.2.0.0/16', gateway: '172.17.0.9', dev: 'ethX' }],
    }
    i.fstab = ['UUID=1234 /disk1 ext4 defaults 0 0', 'tmpfs /tmp tmpfs rw 0 0']
    return i
  },
  'shm-sysctl-ulimit': () => {
    const i = base()
    i.settings = {
      ...i.settings, RUNCVM_SHM_SIZE: '100663296', RUNCVM_SYSCTL: 'net.ipv4.ip_local_port_range=30000 40000\nnet/ipv4/conf/eth0.100/rp_filter=2',
      RUNCVM_RLIMITS: 'RLIMIT_NOFILE=1024:2048\nRLIMIT_STACK=8388608:18446744073709551615',
    }
    return i
  },
  'hybrid-cgroup-no-net': () => {
    const i = base()
    i.net = { v: 1, interfaces: [], routes: [] }
    i.image.hostname = undefined
    i.packageModules = false
    return i
  },
}

describe('buildVmInitScript', () => {
  it.each(Object.keys(cases))('golden %s', async name => {
    const text = buildVmInitScript(cases[name]())
    await expect(text).toMatchFileSnapshot(`../golden/vm-init-${name}.sh`)
    execFileSync(SH[0], [...SH.slice(1), '-n'], { input: text })
  })
  it('Swarm ingress redirects: restored in the VM\'s nat table after the network, before the workload; nothing without them', () => {
    const i = base()
    expect(buildVmInitScript(i)).not.toContain('iptables-restore')
    i.net.redirects = [{ ip: '172.17.0.2', proto: 'tcp', dport: 8080, toPort: 80 }]
    const text = buildVmInitScript(i)
    execFileSync(SH[0], [...SH.slice(1), '-n'], { input: text })
    const at = text.indexOf("'/.runcvm/guest/usr/sbin/xtables-nft-multi' iptables-restore --noflush <<'RUNCVM_EOF'")
    expect(at).toBeGreaterThan(text.indexOf('wait $NP $MP'))
    expect(at).toBeLessThan(text.indexOf("'--vm'"))
    const body = text.slice(text.indexOf('\n', at) + 1, text.indexOf('\nRUNCVM_EOF\n', at) + 1)
    expect(body).toBe('*nat\n-A PREROUTING -d 172.17.0.2/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80\nCOMMIT\n')
  })
  it('binds the VM\'s resolv.conf from state when ctr-entrypoint wrote one there (--read-only)', () => {
    expect(buildVmInitScript(base())).toContain("[ ! -e '/.runcvm/resolv.conf' ] || F=$F'/.runcvm/resolv.conf /etc/resolv.conf none bind 0 0")
  })
  it('picks the launch mode from the resolved entrypoint', () => {
    const i = cases['systemd-multinic-fstab']()
    // systemd as PID 1, with a child of runcvm-init left to turn "stop" into SIGRTMIN+4 (poweroff).
    expect(buildVmInitScript(i)).toContain("'--no-fork' '--control-port' 'org.runcvm.control' '--stop-signal' '38' '--uid'")
    expect(buildVmInitScript(base())).toContain("'--vm'")
  })
  it('modules: the package modprobe only without /sbin/modprobe, modules.devname hidden only without kmod, nothing for an in-image kernel', () => {
    const sysctl = "printf %s '/.runcvm/guest/bin/modprobe' >/proc/sys/kernel/modprobe"
    const devname = /modules\.devname none bind/
    const i = base()
    expect(buildVmInitScript(i)).toContain(sysctl)
    expect(buildVmInitScript(i)).toMatch(devname)
    i.image.system = { ...NO_TOOLS, modprobe: true }
    expect(buildVmInitScript(i)).not.toContain(sysctl)
    expect(buildVmInitScript(i)).toMatch(devname)
    i.image.system = { ...NO_TOOLS, kmod: true }
    expect(buildVmInitScript(i)).toContain(sysctl)
    expect(buildVmInitScript(i)).not.toMatch(devname)
    i.image.system = NO_TOOLS
    i.packageModules = false
    expect(buildVmInitScript(i)).not.toContain(sysctl)
    expect(buildVmInitScript(i)).not.toMatch(devname)
    i.image.system = { ...NO_TOOLS, dockerd: true }
    expect(buildVmInitScript(i)).not.toContain(sysctl)
    expect(buildVmInitScript(i)).not.toMatch(devname)
    // The sysctl is written before the first possible module load (the ext4 disk's modprobe).
    const j = cases['systemd-multinic-fstab']()
    const text = buildVmInitScript(j)
    expect(text.indexOf(sysctl)).toBeGreaterThan(0)
    expect(text.indexOf(sysctl)).toBeLessThan(text.indexOf('modprobe ext4'))
  })
  it('dockerd without modprobe on PATH: bridge and br_netfilter loaded at boot in the background (package kernels only)', () => {
    const preload = "'/.runcvm/guest/bin/modprobe' -a bridge br_netfilter </dev/null 8>&- 9>&- &"
    const i = base()
    expect(buildVmInitScript(i)).not.toContain(preload)
    i.image.system = { ...NO_TOOLS, dockerd: true }
    expect(buildVmInitScript(i)).toContain(preload)
    i.image.system = { ...NO_TOOLS, dockerd: true, modprobeOnPath: true }
    expect(buildVmInitScript(i)).not.toContain(preload)
    i.image.system = { ...NO_TOOLS, dockerd: true }
    i.packageModules = false
    expect(buildVmInitScript(i)).not.toContain(preload)
  })
  it('modules.devname: a bind of /dev/null in the mount table, for the running kernel, only when the file is there', () => {
    const mounts = moduleLines({ system: NO_TOOLS }, true, '/m').mounts.join('\n')
    // Run with the paths moved under a temp tree: the script itself only uses absolute paths.
    const dir = mkdtempSync(join(tmpdir(), 'devname-'))
    const rel = mounts.replaceAll('/proc/sys/kernel/osrelease', `${dir}/osrelease`).replaceAll('"/lib/modules/', `"${dir}/lib/modules/`)
    writeFileSync(`${dir}/osrelease`, '6.1.0-x\n')
    const run = () => sh(`NL='\n'; F=; ${rel}; printf %s "$F"`)
    expect(run()).toBe('')
    mkdirSync(`${dir}/lib/modules/6.1.0-x`, { recursive: true })
    writeFileSync(`${dir}/lib/modules/6.1.0-x/modules.devname`, 'fuse fuse c10:229\n')
    expect(run()).toBe(`/dev/null /lib/modules/6.1.0-x/modules.devname none bind 0 0\n`)
    rmSync(dir, { recursive: true })
  })
  it('drops RUNCVM_* from the workload env and keeps env values exact', () => {
    const i = cases['timing-init-nasty']()
    const text = buildVmInitScript(i)
    // The vm-start script is written by printf %s '<sq>'; run that line and compare.
    const m = /^printf %s ('(?:[^']|'\\'')*') >'\/\.runcvm\/vm-start\.sh'$/m.exec(text)
    expect(m).not.toBeNull()
    const written = sh(`printf %s ${m![1]}`)
    expect(written).toContain(sq('A=' + NASTY.join('|')))
    expect(written).not.toContain('RUNCVM_X')
  })
})

describe('script fragments run by a real shell', () => {
  it('the final env -i exec passes argv and env byte-exact', () => {
    const i = base()
    i.cfg = cfg({ args: ['x', ...NASTY.filter(s => !s.includes('\xff') && !s.includes('\x01'))], env: ['V=' + NASTY.slice(0, 10).join('|')] })
    // runcvm-init replaced by a shell that prints its env var and args NUL-separated.
    i.launch = { ...i.launch, runcvmInit: '/bin/sh' }
    const text = buildVmInitScript(i)
    const from = text.indexOf("[ ! -x '/bin/sh' ] || exec ") + "[ ! -x '/bin/sh' ] || ".length
    const exec = text.slice(from, text.indexOf("\necho 'RunCVM: Error", from))
    const out = sh(exec.replace("'/bin/sh' '--vm'", `'/bin/sh' '-c' 'printf "%s\\0" "$V" "$@"' 'sh' '--vm'`))
    const parts = out.split('\0')
    expect(parts[0]).toBe(NASTY.slice(0, 10).join('|'))
    expect(parts.slice(parts.indexOf('--') + 1, -1)).toEqual(i.cfg.args)
  })
  it('netLines builds the ip batch with the kernel names found by MAC', () => {
    const net = cases['systemd-multinic-fstab']().net
    const fake = 'nic() { case $1 in 52:54:00:11:00:02) D=ens5 ;; 52:54:00:12:00:03) D=ens4 ;; *) return 1 ;; esac; }\n'
    const body = netLines(net, '/bin/cat').join('\n').replace(/>&9/, '>&2').replace("'/bin/cat' -force -batch - <<RUNCVM_EOF 8>&- 9>&- &", 'cat <<RUNCVM_EOF') + '\nwait'
    expect(sh(fake + body + '\n', [])).toBe([
      'link set lo up', 'link set dev ens5 name eth0-tmp', 'link set dev ens4 name eth1-tmp',
      'link set dev eth0-tmp name eth0', 'addr add 172.17.0.2/16 broadcast + dev eth0', 'link set dev eth0 up mtu 1500', 'route add default via 172.17.0.1',
      'link set dev eth1-tmp name eth1', 'addr add 172.18.0.3/24 broadcast + dev eth1', 'link set dev eth1 up mtu 9000',
      'route add 10.1.0.0/16 via 172.18.0.1 dev eth1', '', '',
    ].join('\n'))
  })
  it('netLines without any default route: RUNCVM_DNS_IP on-link through the first NIC', () => {
    const net = structuredClone(cases['systemd-multinic-fstab']().net)
    for (const n of net.interfaces) delete n.gateway
    const fake = 'nic() { case $1 in 52:54:00:11:00:02) D=ens5 ;; 52:54:00:12:00:03) D=ens4 ;; *) return 1 ;; esac; }\n'
    const body = netLines(net, '/bin/cat').join('\n').replace(/>&9/, '>&2').replace("'/bin/cat' -force -batch - <<RUNCVM_EOF 8>&- 9>&- &", 'cat <<RUNCVM_EOF') + '\nwait'
    const lines = sh(fake + body + '\n', []).split('\n')
    expect(lines.filter(l => l.startsWith('route add'))).toEqual(['route add 169.254.169.254/32 dev eth0', 'route add 10.1.0.0/16 via 172.18.0.1 dev eth1'])
  })
  it('cgroupLines: nothing when the image manages cgroups or mode is none', () => {
    expect(cgroupLines('none', '')).toEqual([])
    expect(cgroupLines('hybrid', 'cgroup /sys/fs/cgroup cgroup defaults 0 0\n')).toEqual([])
    expect(cgroupLines('hybrid', '#cgroup\n').length).toBeGreaterThan(0)
  })
})

describe('realpathIn', () => {
  const links: Record<string, string> = { '/bin': 'usr/bin', '/usr/bin/sh': 'dash', '/sbin/init': '/lib/systemd/systemd', '/loop': '/loop', '/up': '../../etc' }
  const fs = { isLink: (p: string) => p in links, readlink: (p: string) => links[p] }
  it.each([
    ['/bin/sh', '/usr/bin/dash'], ['/sbin/init', '/lib/systemd/systemd'], ['/usr/./bin/../bin/x', '/usr/bin/x'],
    ['rel/x', '/rel/x'], ['/up/passwd', '/etc/passwd'], ['/', '/'],
  ])('%s → %s', (p, want) => expect(realpathIn(p, fs)).toBe(want))
  it('stops on a link loop', () => expect(realpathIn('/loop', fs)).toBe('/loop'))
})

describe('readImageFacts: the image\'s own modprobe, kmod and apparmor_parser', () => {
  const tree = (files: Record<string, string>, links: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'facts-'))
    for (const [p, t] of Object.entries(links)) { mkdirSync(join(dir, p, '..'), { recursive: true }); symlinkSync(t, dir + p) }
    for (const f of Object.keys(files)) { mkdirSync(join(dir, f, '..'), { recursive: true }); writeFileSync(dir + f, files[f]) }
    return dir
  }
  it('usrmerged Debian with kmod: /sbin/modprobe -> ../bin/kmod through /sbin -> usr/sbin', () => {
    const dir = tree({ '/usr/bin/kmod': '', '/usr/sbin/apparmor_parser': '' }, { '/sbin': 'usr/sbin', '/bin': 'usr/bin', '/usr/sbin/modprobe': '../bin/kmod' })
    expect(readImageFacts(dir, ['true'], []).system).toEqual({ modprobe: true, kmod: true, apparmorParser: true, modprobeOnPath: true, dockerd: false })
    rmSync(dir, { recursive: true })
  })
  it('busybox with applets in /bin only, and an absolute link that must not escape the image', () => {
    const dir = tree({ '/bin/busybox': '', '/usr/bin/dockerd': '' }, { '/bin/modprobe': 'busybox', '/sbin/modprobe': '/bin/missing', '/sbin/apparmor_parser': '/bin/true' })
    // /bin/true exists on the host but not in the image: not a fact about the image.
    expect(readImageFacts(dir, ['true'], []).system).toEqual({ modprobe: false, kmod: false, apparmorParser: false, modprobeOnPath: true, dockerd: true })
    rmSync(dir, { recursive: true })
  })
})
