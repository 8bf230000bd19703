// 92-install-upgrade: the installer (the package's own runcvm-install-runtime, from dist/) on a
// temp install root, never /opt/runcvm or the host's daemon.json: a fresh install gives the
// source tree with installed modes (root-owned, no group/other write), registers the runtime in
// the temp daemon.json and links runcvm-doctor; a second run changes nothing. Then a VM runs from
// that root (containerd, `ctr run --runc-binary` with a wrapper that points the runtime at the temp
// root) while a changed package is installed over it: the running VM keeps the old tree (exec
// still works, and sees the old tree), `--uninstall` refuses while it runs, and once the VM is
// stopped the next run removes the old tree and --uninstall removes everything it added.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { Ctr, cniNetwork, type CniNs } from '../ctr'
import { type Case, describe, eq, ok, PKG_DIR, type Res } from '../harness'
import { asInstalled, diffManifests, manifest } from '../tree'

const SUBNET = '10.251.92.0/24'

export default {
  description: 'installer on a temp root: tree, registration, doctor link; upgrade under a running VM keeps its tree; --uninstall refuses, then removes',
  needs: ['runcvm', 'ctr'],
  timeoutMs: 480_000,
  async test({ note }) {
    const R = mkdtempSync('/tmp/runcvm-it-install-')
    chmodSync(R, 0o755)
    const target = join(R, 'opt/runcvm'), dj = join(R, 'daemon.json'), bin = join(R, 'bin')
    const installer = async (args: string[]): Promise<Res> => {
      const t0 = performance.now()
      const p = await $({ quiet: true, nothrow: true })`${PKG_DIR}/lib/ld-linux-x86-64.so.2 ${PKG_DIR}/usr/bin/node ${PKG_DIR}/scripts/runcvm-install-runtime --target ${target} --daemon-json ${dj} --bin-dir ${bin} --no-dockerd --yes ${args}`
      return { stdout: p.stdout, stderr: p.stderr, code: p.exitCode ?? -1, ms: performance.now() - t0, argv: ['runcvm-install-runtime', ...args], program: '' }
    }
    const ctr = new Ctr(`runcvm-it-${process.pid}`)
    const net = cniNetwork(`runcvm-it-i-${process.pid}`, `rcvm-ii${process.pid % 100000}`, SUBNET)
    const nss: CniNs[] = []
    try {
      const first = await installer(['--from', PKG_DIR])
      eq(first.code, 0, `fresh install: ${describe(first)}`)
      const diff = diffManifests(asInstalled(manifest(PKG_DIR)), manifest(target))
      eq(diff.join('\n'), '', 'installed tree = source tree with installed modes (paths, types, link texts, sha256, modes, owner root)')
      note(`installed ${manifest(target).size} entries, identical to the source apart from modes/owner`)
      eq((JSON.parse(readFileSync(dj, 'utf8')) as { runtimes: { runcvm: { path: string } } }).runtimes.runcvm.path, `${target}/scripts/runcvm-runtime`, 'daemon.json registration')
      eq(readlinkSync(join(bin, 'runcvm-doctor')), `${target}/scripts/runcvm-doctor`, 'runcvm-doctor link')
      const again = await installer(['--from', PKG_DIR])
      ok(again.code === 0 && again.stdout.includes('nothing changed'), `second run changes nothing: ${describe(again)}`)

      // A VM that runs on the temp root's package.
      const rt = join(R, 'runtime')
      writeFileSync(rt, `#!/bin/sh\nRUNCVM_HOST_ROOT=${target} exec ${target}/lib/ld-linux-x86-64.so.2 ${target}/usr/bin/node ${target}/scripts/runcvm-runtime "$@"\n`, { mode: 0o755 })
      const image = await ctr.importImage('runcvm-test/bb')
      const ns = await net.attach(`rcvm-it-i-${process.pid}`); nss.push(ns)
      const V = `vm-upgrade-${process.pid}`
      const run = await ctr.run(['run', '-d', '--runc-binary', rt, '--with-ns', `network:${ns.path}`, image, V, 'sleep', '600'])
      eq(run.code, 0, `ctr run: ${describe(run)}`)
      const exec = (n: string, args: string[]) => ctr.run(['task', 'exec', '--exec-id', n, V, ...args], { timeoutMs: 120_000 })
      const up = await exec('up', ['true'])
      eq(up.code, 0, `VM up: ${describe(up)}`)

      // Upgrade: the same package plus one file.
      const src2 = join(R, 'pkg2')
      await $`cp -a ${PKG_DIR} ${src2}`
      writeFileSync(join(src2, 'UPGRADE-MARK'), 'v2\n')
      const up2 = await installer(['--from', src2])
      eq(up2.code, 0, `upgrade: ${describe(up2)}`)
      ok(up2.stdout.includes('kept the previous package at'), `upgrade keeps the old tree while the VM uses it: ${up2.stdout}`)
      const old = readdirSync(join(R, 'opt')).filter(n => n.startsWith('runcvm.old-'))
      eq(old.length, 1, `one retired tree: ${readdirSync(join(R, 'opt'))}`)
      ok(existsSync(join(target, 'UPGRADE-MARK')) && !existsSync(join(R, 'opt', old[0], 'UPGRADE-MARK')), 'new tree installed, old tree intact')
      const still = await exec('still', ['sh', '-c', 'echo alive; ls /.runcvm/guest/UPGRADE-MARK 2>&1 || true'])
      eq(still.code, 0, `exec after the upgrade: ${describe(still)}`)
      ok(still.stdout.startsWith('alive\n') && still.stdout.includes('No such file'), `the VM still uses the old tree: ${still.stdout}`)

      const refused = await installer(['--uninstall'])
      ok(refused.code !== 0 && refused.stderr.includes('RunCVM containers are still running'), `--uninstall refuses while the VM runs: ${describe(refused)}`)
      ok(existsSync(target) && existsSync(join(bin, 'runcvm-doctor')), '--uninstall refused: nothing removed')

      const term = await ctr.run(['task', 'kill', '-s', 'SIGTERM', V])
      eq(term.code, 0, `stop the VM: ${describe(term)}`)
      await ctr.waitStatus(V, 'STOPPED', 60_000)
      const del = await ctr.run(['task', 'delete', V])
      ok(del.stderr.includes('exit code 143'), `the VM stopped cleanly after the upgrade (143): ${describe(del)}`)
      await ctr.run(['container', 'delete', V])

      const later = await installer(['--from', src2])
      ok(later.code === 0 && later.stdout.includes('removed leftover'), `the next run removes the retired tree: ${describe(later)}`)
      eq(readdirSync(join(R, 'opt')).join(','), 'runcvm', 'only the current tree is left')

      const un = await installer(['--uninstall'])
      eq(un.code, 0, `--uninstall: ${describe(un)}`)
      eq(readdirSync(join(R, 'opt')).join(','), '', 'package removed')
      ok(!existsSync(join(bin, 'runcvm-doctor')), 'doctor link removed')
      eq(JSON.stringify((JSON.parse(readFileSync(dj, 'utf8')) as { runtimes?: unknown }).runtimes), undefined, 'runtimes.runcvm removed from daemon.json')
      ok(readdirSync(R).some(n => n.startsWith('daemon.json.runcvm-backup-')), 'daemon.json backed up before the change')
    } finally {
      await ctr.removeAll()
      for (const n of nss) await n.del()
      await net.remove()
      rmSync(R, { recursive: true, force: true })
    }
  },
} satisfies Case
