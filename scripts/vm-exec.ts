// runcvm-vm-exec: VM side of `docker exec` in Node (port of upstream runcvm-vm-exec). NOT the
// normal path: ctr-exec normally has busybox sh + runcvm-init do this, because a Node start in
// the VM costs ~0.3-1.1 s under TCG. Used when the exec sets RUNCVM_EXEC_VIA=node (debugging).
//
// argv: <base64 JSON ExecRequest> (lib/exec/codec.ts). Checks the cwd (runc's message, 126), then
// execs runcvm-init --no-fork with the ids/cwd and exactly the request's env. Signal deaths are
// not mapped to 128+N on this path (dbclient ignores ssh exit-signal); see codec buildVmScript.
import { statSync } from 'node:fs'
import { execve } from '../lib/proc.js'
import { RUNCVM_INIT, chdirFailedMessage, decodeRequest } from '../lib/exec/codec.js'
import { envOf } from '../lib/settings.js'

function main(): never {
  const r = decodeRequest(process.argv[2] ?? '')
  let isDir = false
  try { isDir = statSync(r.cwd).isDirectory() } catch { /* missing */ }
  if (!isDir) {
    process.stdout.write(chdirFailedMessage(r.cwd) + '\r\n') // as runc under Docker: stdout, CRLF
    process.exit(126)
  }
  return execve(RUNCVM_INIT, [
    RUNCVM_INIT, '--no-fork', '--uid', String(r.uid), '--gid', String(r.gid),
    '--groups', r.groups.join(','), '--cwd', r.cwd, '--', ...r.args,
  ], envOf(r.env))
}

try {
  main()
} catch (e) {
  process.stderr.write(`runcvm-vm-exec: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}
