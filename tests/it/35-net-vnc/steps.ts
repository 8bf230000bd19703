// 35-net-vnc: with a VNC display on (RUNCVM_DISPLAY_MODE=vnc, default VGA 'virtio', which needs
// QEMU's hw-display-virtio-vga module in the package), the container's port 5900 is redirected to
// QEMU's VNC server (upstream iptables REDIRECT rule): `-p 127.0.0.1::5900` on the host gets the
// RFB banner while the VM itself runs normally.
import { connect } from 'node:net'
import { type Case, describe, fail, startDetached } from '../harness'

function rfbBanner(hostPort: string, timeoutMs: number): Promise<string> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))]
  return new Promise(resolve => {
    const s = connect({ host, port })
    let got = ''
    const done = (v: string) => { s.destroy(); resolve(v) }
    s.setTimeout(timeoutMs, () => done(got))
    s.on('data', d => { got += d.toString('latin1'); if (got.includes('\n')) done(got) })
    s.on('error', e => done(`error: ${e.message}`))
    s.on('close', () => done(got))
  })
}

export default {
  description: 'RUNCVM_DISPLAY_MODE=vnc: VM boots with virtio VGA, -p 127.0.0.1::5900 answers with QEMU\'s RFB banner',
  needs: ['runcvm'],
  async test(ctx) {
    const vm = ctx.uniq('vm')
    await startDetached(ctx, ctx.runtime, vm, ['-e', 'RUNCVM_DISPLAY_MODE=vnc', '-p', '127.0.0.1::5900', 'runcvm-test/bb', 'sleep', '1000'])
    const up = await ctx.docker(['exec', vm, 'echo', 'up'])
    if (up.stdout !== 'up\n') fail(`VM with a VNC display did not boot: ${describe(up)}`)
    const port = (await ctx.docker(['port', vm, '5900/tcp'])).stdout.trim().split('\n')[0]
    const banner = await rfbBanner(port, 10_000)
    if (!/^RFB \d{3}\.\d{3}\n/.test(banner)) fail(`VNC via -p ${port}: want an RFB banner, got ${JSON.stringify(banner)}`)
    ctx.note(`${port} → ${JSON.stringify(banner)}`)
  },
} satisfies Case
