// runcvm-doctor: check this host for what RunCVM needs and say how to fix what is missing.
// Installed on PATH (lib/paths.ts HOST_BIN_DIR/DOCTOR_NAME: /usr/local/bin/runcvm-doctor) by
// runcvm-install-runtime. Read-only.
// The probes are lib/doctor/probe.ts, the checks (pure) lib/doctor/checks.ts.
import minimist from 'minimist'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../lib/errors.js'
import { doctorExitCode, formatReport, overlayFacts, runChecks } from '../lib/doctor/checks.js'
import { probeHostFacts } from '../lib/doctor/probe.js'
import { DOCTOR_NAME, HOST_BIN_DIR, PKG, RUNCVM_HOST } from '../lib/paths.js'
import { runRole } from '../lib/proc.js'

const USAGE = `${DOCTOR_NAME} [--json] [--root DIR] [--runtime-name NAME] [--runtime-path PATH] [--daemon-json FILE] [--facts FILE]

Checks KVM, /dev/net/tun, /dev/vhost-net, rp_filter, runc, the package, the runtime's
registration in daemon.json and in the running dockerd, seccomp/AppArmor/SELinux, cgroups, free
space and memory, and shows recent RunCVM warnings. Each finding says how to fix it.
Exit status: 0 all fine, 1 a problem (RunCVM cannot work as configured), 2 warnings only.

  --json               print the facts and findings as JSON instead of the report
  --root DIR           package root (default ${RUNCVM_HOST})
  --runtime-name NAME  runtime name in daemon.json / docker info (default runcvm)
  --runtime-path PATH  its expected path (default <root>/scripts/runcvm-runtime)
  --daemon-json FILE   default /etc/docker/daemon.json
  --facts FILE         JSON replacing parts of the probed facts (to see what the doctor says
                       about another host: e.g. {"devices":{"tun":{"exists":false}}})`

async function main(): Promise<void> {
  const a = minimist(process.argv.slice(2), {
    string: ['root', 'runtime-name', 'runtime-path', 'daemon-json', 'facts'],
    boolean: ['json', 'help'],
    alias: { h: 'help' },
    unknown: x => { throw new ConfigError(`unknown argument '${x}' (see --help)`) },
  })
  if (a.help) { console.log(USAGE); return }
  const root = (a.root as string | undefined) ?? RUNCVM_HOST
  let facts = await probeHostFacts({
    root,
    name: (a['runtime-name'] as string | undefined) ?? 'runcvm',
    path: (a['runtime-path'] as string | undefined) ?? `${root}/${PKG.scripts}/runcvm-runtime`,
    daemonJson: (a['daemon-json'] as string | undefined) ?? '/etc/docker/daemon.json',
  })
  if (a.facts) {
    let over: unknown
    try { over = JSON.parse(readFileSync(a.facts as string, 'utf8')) } catch (e) { throw new ConfigError(`--facts ${a.facts}: ${(e as Error).message}`) }
    if (!over || typeof over !== 'object' || Array.isArray(over)) throw new ConfigError(`--facts ${a.facts}: must hold a JSON object`)
    facts = overlayFacts(facts, over as Record<string, unknown>)
  }
  const findings = runChecks(facts)
  process.stdout.write(a.json ? JSON.stringify({ facts, findings, exitCode: doctorExitCode(findings) }, null, 2) + '\n' : formatReport(findings))
  process.exitCode = doctorExitCode(findings)
}

runRole(main)
