// 51-disk-aio-seccomp: RUNCVM_DISKS under Docker 25+'s default seccomp profile, which denies
// io_uring_* (moby#46762). This host runs Docker 20.10, whose default still allows io_uring, so
// the case hands Docker 25's profile to the container (`--security-opt seccomp=<moby 25
// default.json>`, tests/fixtures/seccomp): the disk must still mount and work, with QEMU on
// aio=threads (read from QEMU's argv with docker top); with Docker 20.10's own default the same
// disk uses aio=io_uring. Upstream always used io_uring, and QEMU then failed with "Unable to use
// io_uring" under the newer profile. VM-only.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Case, describe, fail, ok, sleep, startDetached } from '../harness'

const PROFILE = resolve('tests/fixtures/seccomp/moby-default-25.json')

export default {
  description: 'RUNCVM_DISKS with Docker 25+\'s seccomp profile: aio=threads and the disk works; Docker 20.10 default: aio=io_uring',
  needs: ['runcvm'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, runtime, uniq, labels, note } = ctx
    ok(existsSync(PROFILE), `missing ${PROFILE} (run from the repository root)`)
    const vol = uniq('vol')
    const mk = await docker(['volume', 'create', ...labels, vol])
    ok(mk.code === 0, `volume create: ${describe(mk)}`)
    try {
      for (const [what, opts, aio] of [
        ['Docker 25+ profile', ['--security-opt', `seccomp=${PROFILE}`], 'threads'],
        ['Docker 20.10 default profile', [], 'io_uring'],
      ] as const) {
        const name = uniq('aio')
        await startDetached(ctx, runtime, name, [...opts, '-v', `${vol}:/disks`, '-e', 'RUNCVM_DISKS=/disks/d1,/data,ext4,64M',
          'runcvm-test/bb', 'sh', '-c', 'echo ok >/data/f && sync && sleep 300'])
        let mounts = ''
        for (let i = 0; i < 120; i++) {
          const r = await docker(['exec', name, 'sh', '-c', 'grep " /data " /proc/mounts && cat /data/f'])
          if (r.code === 0 && r.stdout.includes('ok')) { mounts = r.stdout; break }
          const st = (await docker(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim()
          if (st !== 'running') fail(`${what}: container ${st}; logs: ${(await docker(['logs', name])).stderr.slice(-600)}`)
          await sleep(1000)
        }
        ok(/^\/dev\/vd[a-z] \/data ext4 /m.test(mounts), `${what}: the disk was never mounted and written`)
        const top = (await docker(['top', name, '-o', 'pid,args'])).stdout
        const used = /aio=(\w+)/.exec(top)?.[1]
        note(`${what}: QEMU disk aio=${used}`)
        if (used !== aio) fail(`${what}: QEMU uses aio=${used}, want ${aio}`)
        await docker(['rm', '-f', name])
      }
    } finally {
      await docker(['volume', 'rm', '-f', vol])
    }
  },
} satisfies Case
