// 94-containerd: the runtime under containerd's runc shim (io.containerd.runc.v2 with the RunCVM
// runtime as the runc binary: `ctr run --runc-binary`), in a containerd namespace of the test's own
// on Docker's containerd. Without a network: stdout/stderr apart and the exit code, as runc gives
// them. With networking from Debian's real CNI plugins (bridge + host-local, in network namespaces
// the test makes): the VM has its CNI address, `ctr task exec` runs in the VM (exit codes, streams),
// two VMs reach each other, `ctr task kill` (SIGTERM) powers a VM down cleanly with 143, SIGKILL
// ends it at once.
import { $ } from 'zx/core'
import { Ctr, cniNetwork, type CniNs } from '../ctr'
import { type Case, describe, eq, ok } from '../harness'

const SUBNET = '10.251.93.0/24'

export default {
  description: 'ctr run --runc-binary: stdio and exit codes like runc; CNI networking, ctr task exec, two VMs, kill',
  needs: ['runcvm', 'ctr'],
  timeoutMs: 420_000,
  async test({ docker, runtime, note }) {
    const info = await docker(['info', '--format', '{{json .Runtimes}}'])
    const rt = (JSON.parse(info.stdout) as Record<string, { path: string }>)[runtime].path
    const routes = (await $({ quiet: true })`ip -4 route`).stdout
    ok(!routes.includes(SUBNET.split('/')[0].replace(/\.0$/, '.')), `subnet ${SUBNET} is free on this host`)
    const ctr = new Ctr(`runcvm-it-${process.pid}`)
    const net = cniNetwork(`runcvm-it-${process.pid}`, `rcvm-it${process.pid % 100000}`, SUBNET)
    const nss: CniNs[] = []
    try {
      const image = await ctr.importImage('runcvm-test/bb')
      const work = ['sh', '-c', 'echo out; echo err >&2; exit 5']
      const [vm, ref] = await Promise.all([
        ctr.run(['run', '--rm', '--runc-binary', rt, image, `vm-plain-${process.pid}`, ...work]),
        ctr.run(['run', '--rm', image, `runc-plain-${process.pid}`, ...work]),
      ])
      eq(ref.code, 5, `runc reference: ${describe(ref)}`)
      eq([vm.code, vm.stdout, vm.stderr].join('|'), [ref.code, ref.stdout, ref.stderr].join('|'), 'ctr run without network: exit code, stdout, stderr')

      const a = await net.attach(`rcvm-it-a-${process.pid}`); nss.push(a)
      const b = await net.attach(`rcvm-it-b-${process.pid}`); nss.push(b)
      const A = `vm-a-${process.pid}`, B = `vm-b-${process.pid}`
      for (const [id, ns] of [[A, a], [B, b]] as const) {
        const r = await ctr.run(['run', '-d', '--runc-binary', rt, '--with-ns', `network:${ns.path}`, image, id, 'sleep', '600'])
        eq(r.code, 0, `ctr run -d ${id}: ${describe(r)}`)
      }
      const exec = (id: string, n: string, args: string[]) => ctr.run(['task', 'exec', '--exec-id', n, id, ...args], { timeoutMs: 120_000 })
      // The first exec waits for the VM's boot (ctr-exec polls for up to 60 s).
      const addr = await exec(A, 'addr', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])
      eq(addr.code, 0, `exec ip addr: ${describe(addr)}`)
      ok(addr.stdout.includes(`inet ${a.ip}/`), `the VM has its CNI address ${a.ip}: ${addr.stdout}`)
      const kernel = await exec(A, 'uname', ['uname', '-r'])
      ok(kernel.stdout.trim() !== (await $({ quiet: true })`uname -r`).stdout.trim(), `exec runs in the VM (guest kernel ${kernel.stdout.trim()})`)
      const codes = await exec(A, 'codes', ['sh', '-c', 'echo o; echo e >&2; exit 7'])
      eq([codes.code, codes.stdout, codes.stderr].join('|'), '7|o\n|e\n', 'exec exit code and streams')
      const bUp = await exec(B, 'up', ['true'])
      eq(bUp.code, 0, `exec in VM b (waits for its boot): ${describe(bUp)}`)
      const ping = await exec(A, 'ping', ['ping', '-c', '2', '-W', '10', b.ip])
      eq(ping.code, 0, `VM a pings VM b (${b.ip}): ${describe(ping)}`)
      const wget = await exec(B, 'ping2', ['ping', '-c', '1', '-W', '10', a.ip])
      eq(wget.code, 0, `VM b pings VM a: ${describe(wget)}`)

      const t0 = Date.now()
      const term = await ctr.run(['task', 'kill', '-s', 'SIGTERM', A])
      eq(term.code, 0, `kill SIGTERM: ${describe(term)}`)
      await ctr.waitStatus(A, 'STOPPED', 60_000)
      const stopS = (Date.now() - t0) / 1000
      const del = await ctr.run(['task', 'delete', A])
      eq(del.code, 0, `task delete: ${describe(del)}`)
      // ctr reports a non-zero exit status of the deleted task on stderr.
      ok(del.stderr.includes('exit code 143'), `SIGTERM: the workload's 143 (sleep killed by TERM): ${describe(del)}`)
      note(`SIGTERM stop took ${stopS.toFixed(1)} s`)
      const t1 = Date.now()
      await ctr.run(['task', 'kill', '-s', 'SIGKILL', B])
      await ctr.waitStatus(B, 'STOPPED', 20_000)
      note(`SIGKILL stop took ${((Date.now() - t1) / 1000).toFixed(1)} s`)
      const delB = await ctr.run(['task', 'delete', B])
      ok(delB.stderr.includes('exit code 137'), `SIGKILL: 137: ${describe(delB)}`)
    } finally {
      await ctr.removeAll()
      for (const n of nss) await n.del()
      await net.remove()
    }
  },
} satisfies Case
