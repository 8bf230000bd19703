// runcvm-vm-exec (debugging only): the VM side of `docker exec` in Node (port of upstream
// runcvm-vm-exec). Not the normal path: ctr-exec normally has runcvm-init decode the request
// itself, because a Node start in the VM costs ~0.3-1.1 s under TCG. Used when the exec sets
// RUNCVM_EXEC_VIA=node.
//
// argv: --request-file <path>, a file holding the base64 JSON ExecRequest (lib/exec/codec.ts),
// removed once read (never the request itself: argv is world-readable). Decodes and validates it in Node, then
// execs runcvm-init with the same argv the normal path sends (buildInitArgs): cwd check with
// runc's message, exact env, ids, cwd.
import { readFileSync, rmSync } from 'node:fs'
import { messageOf, SpecError } from '../lib/errors.js'
import { execve, runRole } from '../lib/proc.js'
import { buildInitArgs, decodeRequest } from '../lib/exec/codec.js'
import { BIN } from '../lib/paths.js'

function main(): never {
  const [flag, path] = process.argv.slice(2)
  if (flag !== '--request-file' || !path) throw new SpecError('usage: runcvm-vm-exec --request-file <path>')
  const token = readFileSync(path, 'utf8')
  rmSync(path, { force: true })
  const r = decodeRequest(token)
  return execve(BIN.runcvmInit, [BIN.runcvmInit, ...buildInitArgs(r)], { ...process.env })
}

runRole(main, { report: e => `runcvm-vm-exec: ${messageOf(e)}\n` })
