// The edge that gathers ctr-qemu's BootProbes (lib/vm/boot-plan.ts) in the container: the CPUs it
// may use, fds 0-2, the pty's size, the package virtiofsd socket, each disk's backing file and
// mount point, fresh UUIDs, the saved network state and the image under RUNCVM_VM_MOUNTPOINT.
import { randomUUID } from 'node:crypto'
import { existsSync, readlinkSync, statSync } from 'node:fs'
import { isatty } from 'node:tty'
import { availableParallelism } from 'node:os'
import type { AccelChoice } from '../accel.js'
import { parseDisks, type DiskProbe } from '../disks.js'
import { BIN, PKG_VIRTIOFSD_SOCKET } from '../paths.js'
import type { RunCvmSettings } from '../settings.js'
import { $ } from '../sh.js'
import { readNetwork, type ConfigState } from '../state.js'
import type { BootProbes } from './boot-plan.js'
import { readImageFacts } from './init-facts.js'

const stdinOpen = (): boolean => { try { return readlinkSync('/proc/self/fd/0') !== '/dev/null' } catch { return false } }

/**
 * `-t`: the pty's size (docker sets it from the client) via `stty size` (Node's tty streams would
 * reopen fd 1 non-blocking under QEMU). Also sets `-onlcr` on the container pty: the VM's console
 * already turns "\n" into "\r\n" (QEMU keeps OPOST but leaves ONLCR as found), so the client
 * sees one "\r\n" as under runc, not "\r\r\n".
 */
async function ttySize(): Promise<{ rows: number; cols: number } | undefined> {
  await $({ stdio: ['inherit', 'ignore', 'ignore'], nothrow: true })`${BIN.busybox} stty -onlcr`
  const r = await $({ stdio: ['inherit', 'pipe', 'ignore'], nothrow: true })`${BIN.busybox} stty size`
  const m = /^(\d+) (\d+)/.exec(r.stdout)
  return m && Number(m[1]) > 0 ? { rows: Number(m[1]), cols: Number(m[2]) } : undefined
}

async function diskProbe(src: string, dst: string): Promise<DiskProbe> {
  const st = (p: string) => { try { return statSync(p) } catch { return undefined } }
  const s = st(src), d = st(dst)
  const probe: DiskProbe = { srcExists: !!s, srcIsFile: !!s?.isFile(), dstExists: !!d, dstIsDir: !!d?.isDirectory() }
  if (!s?.isFile()) return probe
  // An existing backing file keeps its filesystem: the fstab line names its UUID.
  const r = await $({ quiet: true, nothrow: true })`${BIN.blkid} -o value -s UUID ${src}`
  return { ...probe, uuid: r.stdout.trim().split('\n')[0] }
}

export async function readBootProbes(cfg: ConfigState, s: RunCvmSettings, accel: AccelChoice): Promise<BootProbes> {
  const vmMount = s.RUNCVM_VM_MOUNTPOINT
  const disks = parseDisks(s.RUNCVM_DISKS)
  const tty = isatty(1)
  return {
    accel: accel.accel, ...(accel.maxVcpus !== undefined ? { maxVcpus: accel.maxVcpus } : {}), hostCpus: availableParallelism(),
    tty, ...(tty ? { ttySize: await ttySize() } : {}), stdinOpen: stdinOpen(), pkgfs: existsSync(PKG_VIRTIOFSD_SOCKET),
    disks: await Promise.all(disks.map(d => diskProbe(d.src, `${vmMount}${d.dst}`))), newUuids: disks.map(() => randomUUID()),
    net: readNetwork(), image: readImageFacts(vmMount, cfg.args, cfg.env),
  }
}
