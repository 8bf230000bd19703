// Shared test helpers for the runtime tests: fixture loading, fixed create options.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KernelChoice } from '../../lib/kernel.js'
import type { Process, Spec } from '../../lib/oci/spec.js'

export const FIXTURES = join(__dirname, '..', 'fixtures', 'oci')

export const fixtureText = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8')
export const configFixture = (name: string): Spec => JSON.parse(fixtureText(name)) as Spec
export const processFixture = (name: string): Process => JSON.parse(fixtureText(name)) as Process

export const CONFIG_FIXTURES = [
  'config-run-init.json',
  'config-run-init-entrypoint.json',
  'config-run-it.json',
  'config-run-mem-cpus-volume-tmpfs.json',
  'config-run-network-ip-publish-dns.json',
  'config-run-network-user.json',
  'config-run-plain.json',
  'config-run-publish.json',
  'config-run-runcvm-env-options.json',
  'config-run-tty.json',
  'config-run-user-workdir-entrypoint-envfile-home.json',
  'config-run-volume-tmpfs-disks-shm.json',
]
export const PROCESS_FIXTURES = [
  'process-exec-detach-home.json',
  'process-exec-it.json',
  'process-exec-t.json',
  'process-exec-tty.json',
  'process-exec-user-workdir.json',
]

/** A bundled-kernel choice as selectKernel makes it for /opt/runcvm with debian/latest -> 6.1.0-99-cloud-amd64. */
export const KERNEL_VERSION = '6.1.0-99-cloud-amd64'
export const BUNDLED_DEBIAN: KernelChoice = {
  dist: 'debian',
  version: KERNEL_VERSION,
  kernelPath: `/.runcvm/guest/kernels/debian/${KERNEL_VERSION}/vmlinuz`,
  initramfsPath: `/.runcvm/guest/kernels/debian/${KERNEL_VERSION}/initrd`,
  root: 'rootfstype=virtiofs root=runcvmfs noresume net.ifnames=1',
  modules: { source: `/opt/runcvm/kernels/debian/${KERNEL_VERSION}/modules/${KERNEL_VERSION}`, destination: `/vm/lib/modules/${KERNEL_VERSION}` },
  source: 'bundled',
}

export const tempDir = (prefix = 'runcvm-test-'): string => mkdtempSync(join(tmpdir(), prefix))

/** Value of NAME in an OCI env list; throws if it appears more than once. */
export function envValue(env: readonly string[] | undefined, name: string): string | undefined {
  const hits = (env ?? []).filter(kv => kv.startsWith(`${name}=`))
  if (hits.length > 1) throw new Error(`${name} appears ${hits.length} times in env`)
  return hits[0]?.slice(name.length + 1)
}

export const pretty = (v: unknown): string => JSON.stringify(v, null, 2) + '\n'

export interface BundleSetup { dir: string; bundle: string; file: string; hostRoot: string; root: string }

/**
 * A bundle in a temp dir as `docker run` hands it to the runtime: config.json from the plain-run
 * fixture (written compact, like Docker) with root.path at an empty rootfs, changed by `mutate`; a
 * package root at <dir>/opt/runcvm holding a debian kernel (debian/latest -> KERNEL_VERSION) unless
 * `kernels` is false.
 */
export function makeBundle(mutate: (spec: any) => void = () => {}, opts: { kernels?: boolean } = {}): BundleSetup {
  const dir = tempDir()
  const bundle = join(dir, 'bundle'), hostRoot = join(dir, 'opt', 'runcvm'), root = join(dir, 'rootfs')
  mkdirSync(bundle); mkdirSync(join(root, 'etc'), { recursive: true })
  if (opts.kernels !== false) {
    mkdirSync(join(hostRoot, 'kernels', 'debian', KERNEL_VERSION, 'modules', KERNEL_VERSION), { recursive: true })
    symlinkSync(KERNEL_VERSION, join(hostRoot, 'kernels', 'debian', 'latest'))
  }
  const spec = JSON.parse(fixtureText('config-run-plain.json'))
  spec.root.path = root
  mutate(spec)
  const file = join(bundle, 'config.json')
  writeFileSync(file, JSON.stringify(spec))
  return { dir, bundle, file, hostRoot, root }
}
