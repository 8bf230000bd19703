// runcvm-installer-image: the entrypoint of the RunCVM installer image (Dockerfile, final stage).
//   docker run --rm -v /opt/runcvm:/runcvm IMAGE [--quiet] [--sleep]
// Copies the package baked into the image at /opt/runcvm onto the host through the bind mount at
// /runcvm, giving the same tree runcvm-install-runtime installs (lib/install/sync-in-place.ts).
// --sleep keeps the container alive afterwards (for `docker service create --mode=global`
// rollouts across a swarm: wait until every node ran it, then remove the service).
import minimist from 'minimist'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { ConfigError } from '../lib/errors.js'
import { currentOwner } from '../lib/install/host-files.js'
import { isMountPoint, syncInPlace } from '../lib/install/sync-in-place.js'
import { describeDiff } from '../lib/install/tree-sync.js'
import { hostScript, INSTALLER_IMAGE_TARGET, RUNCVM_HOST } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

/** The package baked into the image sits where it goes on the host. */
const SRC = RUNCVM_HOST
const DST = INSTALLER_IMAGE_TARGET
const INSTALL_RUNTIME = hostScript('install-runtime')
const USAGE = `Usage: docker run --rm -v ${RUNCVM_HOST}:${DST} IMAGE [--quiet] [--sleep]

Installs the RunCVM package to the host at ${RUNCVM_HOST} (the bind mount at ${DST}); then, on a
first install, run: sudo ${INSTALL_RUNTIME}`

async function main(): Promise<void> {
  const a = minimist(process.argv.slice(2), {
    boolean: ['quiet', 'sleep', 'wait', 'pause', 'help'],
    unknown: x => { throw new ConfigError(`runcvm-installer: unknown argument '${x}'\n${USAGE}`) },
  })
  if (a.help) { console.log(USAGE); return }
  if (!isMountPoint(DST, readFileSync('/proc/self/mountinfo', 'utf8'))) {
    throw new ConfigError(`runcvm-installer: ${DST} is not a bind mount of the host's ${RUNCVM_HOST}; nothing was installed\n${USAGE}`)
  }
  const diff = syncInPlace(SRC, DST, currentOwner())
  if (!a.quiet) {
    process.stderr.write([
      'RunCVM install/upgrade successful', '=================================', '',
      `Changes: ${describeDiff(diff)}.`, '',
      'If this is your first time installing RunCVM on this host, then run the following to register',
      'the runtime in /etc/docker/daemon.json and reload dockerd:', '',
      `  sudo ${INSTALL_RUNTIME}`, '',
    ].join('\n'))
  }
  if (a.sleep || a.wait || a.pause) {
    process.stdout.write(`${hostname()}: RunCVM package installed; sleeping.\n`)
    // PID 1 of its container: without handlers, SIGTERM/SIGINT would be ignored (docker stop waits).
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0))
    await new Promise(() => {}) // until the container is stopped
  }
}

runRole(main)
