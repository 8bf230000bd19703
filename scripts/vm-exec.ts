// runcvm-vm-exec (debugging only): the VM side of `docker exec` in Node (port of upstream
// runcvm-vm-exec). Not the normal path: ctr-exec normally has runcvm-init decode the request
// itself, because a Node start in the VM costs ~0.3-1.1 s under TCG. Used when the exec sets
// RUNCVM_EXEC_VIA=node.
//
// argv: <base64 JSON ExecRequest> (lib/exec/codec.ts). Decodes and validates it in Node, then
// execs runcvm-init with the same argv the normal path sends (buildInitArgs): cwd check with
// runc's message, exact env, ids, cwd.
import { messageOf } from '../lib/errors.js'
import { execve, runRole } from '../lib/proc.js'
import { buildInitArgs, decodeRequest } from '../lib/exec/codec.js'
import { BIN } from '../lib/paths.js'

function main(): never {
  const r = decodeRequest(process.argv[2] ?? '')
  return execve(BIN.runcvmInit, [BIN.runcvmInit, ...buildInitArgs(r)], { ...process.env })
}

runRole(main, { report: e => `runcvm-vm-exec: ${messageOf(e)}\n` })
