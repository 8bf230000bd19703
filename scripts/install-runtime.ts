// runcvm-install-runtime: install/upgrade /opt/runcvm and register the runcvm runtime with Docker.
// The steps live in lib/install/install.ts; this script parses argv and prints what they report.
import minimist from 'minimist'
import { realpathSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import { dirname, resolve } from 'node:path'
import { ConfigError } from '../lib/errors.js'
import { install } from '../lib/install/install.js'
import { SET_RP_FILTER_FLAG } from '../lib/install/rp-filter.js'
import type { StepResult } from '../lib/install/steps.js'
import { runRole } from '../lib/proc.js'

// The bundle drops the header comments, so the usage text lives in code.
const USAGE = `runcvm-install-runtime [--from DIR] [--no-dockerd] [${SET_RP_FILTER_FLAG}] [--dry-run] [--yes] [--quiet]

  --from DIR        package tree to install (default: the tree this script runs from, two levels up)
  --no-dockerd      do not check, reload or query dockerd (daemon.json is still updated)
  ${SET_RP_FILTER_FLAG}   set the host's net.ipv4.conf.{all,default}.rp_filter to 2 and persist them
                    (upstream's behaviour; RunCVM does not need it: without the flag the installer
                    only checks and explains)
  --dry-run         say what would change, change nothing
  --yes, -y         never prompt (also implied when stdin is not a tty, so CI never blocks)
  --quiet, -q       only warnings and errors`

function parseArgv(argv: string[]) {
  const a = minimist(argv, {
    string: ['from'],
    // minimist reads `--no-dockerd` as dockerd=false, so the flag is declared by its positive name.
    boolean: ['dockerd', 'set-rp-filter', 'dry-run', 'yes', 'quiet', 'help'],
    default: { dockerd: true },
    alias: { y: 'yes', q: 'quiet', h: 'help' },
    unknown: x => { throw new ConfigError(`unknown argument '${x}' (see --help)`) },
  })
  return {
    help: a.help as boolean,
    // Bundles are CommonJS (no import.meta): this script's own file, symlinks resolved as Node does.
    from: resolve(a.from ?? dirname(dirname(realpathSync(resolve(process.argv[1]))))),
    dockerd: a.dockerd as boolean,
    setRpFilter: a['set-rp-filter'] as boolean,
    dryRun: a['dry-run'] as boolean,
    interactive: !a.yes && process.stdin.isTTY === true,
    quiet: a.quiet as boolean,
  }
}

async function main(): Promise<void> {
  const o = parseArgv(process.argv.slice(2))
  if (o.help) { console.log(USAGE); return }
  const log = (s: string) => { if (!o.quiet) console.log(s) }
  const indent = (text: string, pad: string) => text.split('\n').map((l, i) => (i ? `${pad}  ${l}` : `${pad}- ${l}`)).join('\n')
  log(`\nRunCVM Runtime Installer${o.dryRun ? ' (dry run: nothing is changed)' : ''}\n========================\n`)
  if (process.getuid?.() !== 0) throw new ConfigError('runcvm-install-runtime must be run as root; relaunch it with sudo')
  const changes = await install(o, {
    step: title => log(`- ${title} ...`),
    done: (r: StepResult) => {
      for (const l of r.lines) log(indent(l, '  '))
      for (const w of r.warnings) console.error(indent(w, '  '))
    },
    async confirm(question) {
      if (!o.interactive) return true
      const rl = createInterface({ input: process.stdin, output: process.stdout })
      try { return /^(y|$)/i.test((await rl.question(`    - ${question} (Y/n): `)).trim()) } finally { rl.close() }
    },
  })
  const list = changes.map(c => c.path).join(', ')
  log(changes.length
    ? `- RunCVM installation/upgrade ${o.dryRun ? 'would change' : 'complete; changed'}: ${list}.\n`
    : '- RunCVM is already installed and registered: nothing changed.\n')
}

runRole(main)
