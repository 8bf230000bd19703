// 17-virtiofs-coherence: the default RUNCVM_VIRTIOFSD_CACHE=auto keeps image binaries in the
// guest's page cache across execs (virtiofsd runs cache=always,timeout=1; lib/qemu/virtiofsd.ts)
// and still shows the VM what the host changes, within the 1 s attribute timeout as with
// virtiofsd's own auto mode: same-size and size-changing edits, new and removed files, in the
// container's root (docker cp, the merged dir) and in a bind mount. Writes from the VM reach the
// host at once (write-through).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Case, describe, fail, ok, sleep, startDetached } from '../harness'

/** How long a host-side change may take to show up in the VM (1 s attribute timeout + slack). */
const VISIBLE_WITHIN_MS = 4000

export default {
  description: 'virtiofs: host edits (root and bind mount) seen by the VM within the 1 s timeout; VM writes seen by the host; binaries stay cached',
  needs: ['runcvm'],
  timeoutMs: 240_000,
  async test(ctx) {
    const { docker, uniq, note } = ctx
    const dir = mkdtempSync(join(tmpdir(), 'runcvm-it-vfs-'))
    chmodSync(dir, 0o755)
    writeFileSync(join(dir, 'f'), 'v1\n')
    const vm = uniq('vm')
    try {
      await startDetached(ctx, 'runcvm', vm, ['-v', `${dir}:/b`, 'runcvm-test/bb', 'sh', '-c', 'echo r1 >/rf; sleep 1000'])
      const cat = async () => (await docker(['exec', vm, 'sh', '-c', 'cat /rf /b/f; ls /b | tr "\\n" " "'])).stdout
      const first = await cat()
      ok(first === 'r1\nv1\nf ', `initial view: ${JSON.stringify(first)}`)
      const merged = (await docker(['inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', vm])).stdout.trim()
      ok(merged.startsWith('/'), `merged dir of ${vm}: ${JSON.stringify(merged)}`)

      const bad: string[] = []
      const expectSoon = async (what: string, want: string) => {
        const t0 = Date.now()
        let got = ''
        while (Date.now() - t0 < VISIBLE_WITHIN_MS) {
          got = await cat()
          if (got === want) { note(`${what}: seen after ${Date.now() - t0} ms`); return }
          await sleep(200)
        }
        bad.push(`${what}: after ${VISIBLE_WITHIN_MS} ms the VM still sees ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
      }
      // Same size: only the mtime tells the guest the cached pages are stale.
      writeFileSync(join(merged, 'rf'), 'r2\n'); writeFileSync(join(dir, 'f'), 'v2\n')
      await expectSoon('same-size edit', 'r2\nv2\nf ')
      writeFileSync(join(merged, 'rf'), 'r333\n'); writeFileSync(join(dir, 'f'), 'v333\n')
      await expectSoon('size-changing edit', 'r333\nv333\nf ')
      writeFileSync(join(dir, 'new'), 'n\n')
      await expectSoon('new file in the bind mount', 'r333\nv333\nf new ')
      rmSync(join(dir, 'new'))
      await expectSoon('removed file', 'r333\nv333\nf ')
      const cp = await docker(['cp', join(dir, 'f'), `${vm}:/rf`])
      ok(cp.code === 0, `docker cp: ${describe(cp)}`)
      await expectSoon('docker cp over a file', 'v333\nv333\nf ')

      const w = await docker(['exec', vm, 'sh', '-c', 'echo from-vm >/b/g'])
      const host = readFileSync(join(dir, 'g'), 'utf8')
      if (w.code !== 0 || host !== 'from-vm\n') bad.push(`VM write: host reads ${JSON.stringify(host)} (${describe(w)})`)

      // Informational: 10 execs of the image's own /bin/true (page cache kept across opens).
      const t = await docker(['exec', vm, '/.runcvm/guest/usr/bin/busybox', 'time', '-f', '%e', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done'])
      note(`10 execs of the image's /bin/true in the VM: ${t.stderr.trim()} s`)
      if (bad.length) fail(bad.join('\n'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
} satisfies Case
