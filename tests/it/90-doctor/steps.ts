// 90-doctor: runcvm-doctor (the package's own, from dist/) on this host and on a simulated broken
// one. On this host every finding must agree with what the test reads itself: /dev/kvm, the KVM
// modules and CPU flags (here: kvm-pvm with no /dev/kvm, reported as TCG with the fix), tun,
// vhost-net, rp_filter, runc, and the runtime under test registered in daemon.json and loaded by
// dockerd. Then facts are injected (--facts: tun missing, strict rp_filter, the runtime
// unregistered): exit 1 and those three findings, each with its fix.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { type Case, eq, fail, ok, PKG_DIR as PKG } from '../harness'

const read = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return '' } }

interface Finding { id: string; status: string; title: string; fix?: string[] }

export default {
  description: 'runcvm-doctor reports this host (kvm-pvm/no /dev/kvm, tun, rp_filter, registration) and a simulated broken host',
  needs: ['runcvm'],
  async test({ docker, runtime, note }) {
    const info = await docker(['info', '--format', '{{json .Runtimes}}'])
    const path = (JSON.parse(info.stdout) as Record<string, { path: string }>)[runtime]?.path
    ok(!!path, `docker info lists ${runtime}`)
    const doctor = (extra: string[]) => $({ quiet: true, nothrow: true })`${PKG}/lib/ld-linux-x86-64.so.2 ${PKG}/usr/bin/node ${PKG}/scripts/runcvm-doctor --root ${PKG} --runtime-name ${runtime} --runtime-path ${path} ${extra}`

    const j = await doctor(['--json'])
    const out = JSON.parse(j.stdout) as { findings: Finding[]; exitCode: number; facts: { runc: { path?: string } } }
    const f = (id: string) => out.findings.find(x => x.id === id) ?? fail(`no ${id} finding in ${j.stdout.slice(0, 400)}`)
    eq(j.exitCode, out.exitCode, 'exit status = the report\'s')

    const kvm = f('kvm')
    const pvmOnly = existsSync('/sys/module/kvm_pvm') && !existsSync('/sys/module/kvm_intel') && !existsSync('/sys/module/kvm_amd')
    const virt = /^flags\s*:.*\b(vmx|svm)\b/m.test(read('/proc/cpuinfo'))
    if (pvmOnly) {
      eq(kvm.status, 'warn', 'kvm status on a kvm-pvm host')
      ok(kvm.title.includes('kvm-pvm') && kvm.title.includes('TCG'), `kvm title: ${kvm.title}`)
      eq(kvm.title.includes('/dev/kvm is absent'), !existsSync('/dev/kvm'), `kvm title mentions the missing /dev/kvm: ${kvm.title}`)
      ok((kvm.fix ?? []).length > 0, 'kvm finding has a fix')
    } else if (!virt || !existsSync('/dev/kvm')) {
      eq(kvm.status, 'warn', `kvm status without vmx/svm or /dev/kvm: ${kvm.title}`)
    }
    note(`kvm: ${kvm.status}: ${kvm.title}`)
    eq(f('tun').status, existsSync('/dev/net/tun') ? 'ok' : 'problem', 'tun')
    eq(f('vhost-net').status, existsSync('/dev/vhost-net') ? 'ok' : 'info', 'vhost-net')
    const rpAll = read('/proc/sys/net/ipv4/conf/all/rp_filter').trim(), rpDef = read('/proc/sys/net/ipv4/conf/default/rp_filter').trim()
    eq(f('rp-filter').status, rpAll === '2' || (rpAll === '0' && rpDef === '0') ? 'ok' : 'warn', `rp_filter all=${rpAll} default=${rpDef}`)
    eq(f('runc').status, 'ok', 'runc found')
    ok(existsSync(out.facts.runc.path ?? ''), `runc path ${out.facts.runc.path} exists`)
    eq(f('package').status, 'ok', 'package')
    eq(f('daemon-json').status, 'ok', `daemon.json registration: ${f('daemon-json').title}`)
    eq(f('dockerd').status, 'ok', `dockerd: ${f('dockerd').title}`)
    eq(out.findings.some(x => x.status === 'problem'), false, `no problem on this host: ${JSON.stringify(out.findings.filter(x => x.status === 'problem'))}`)

    const dir = mkdtempSync(join(tmpdir(), 'runcvm-doctor-'))
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({
      devices: { tun: { exists: false } }, rpFilter: { all: '1\n', default: '1\n' },
      daemonJson: { exists: true, runtimePath: null }, dockerd: { runtimePath: null },
    }))
    const b = await doctor(['--facts', join(dir, 'broken.json')])
    eq(b.exitCode, 1, `exit status on the broken host:\n${b.stdout}`)
    for (const want of [
      'PROBLEM /dev/net/tun is missing', '        fix: modprobe tun',
      'WARN    Strict reverse-path filtering on the host (all=1, default=1)',
      `PROBLEM The ${runtime} runtime is not registered in /etc/docker/daemon.json`,
    ]) ok(b.stdout.split('\n').includes(want), `broken-host report has "${want}":\n${b.stdout}`)
    ok(b.stdout.includes('runcvm-install-runtime'), 'the unregistered runtime names the installer as its fix')
  },
} satisfies Case
