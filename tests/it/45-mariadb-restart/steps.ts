// 45-mariadb-restart: upstream's 01-mariadb test with local images. Debian's mariadb-server runs
// in a systemd VM (the system image, no RunCVM-specific change); a mariadb client in a runc
// container on the same network reaches it by name, writes rows, and after `docker restart` of
// the VM reads them back. The restart goes through RunCVM's stop path (STOPSIGNAL SIGRTMIN+3 →
// clean power-off, systemd stopping mariadb first) with `-t 60`: time enough for a systemd VM under
// TCG on a loaded host (a clean power-off took 10.8 s at load 5.6, more than Docker's default 10 s).
// The previous boot's journal must show systemd powering off and stopping mariadb, and the next
// start must need no InnoDB crash recovery: a stop given its time is clean.
import { type Case, describe, fail, sleep } from '../harness'
import { createNet } from '../net'
import { SYSTEM, load, waitSystemd } from '../system'

export default {
  description: 'mariadb in a systemd VM queried by name from a runc client; rows kept across docker restart (upstream 01-mariadb)',
  needs: ['runcvm', `image:${SYSTEM}`],
  slow: true,
  timeoutMs: 1_200_000,
  async test(ctx) {
    const { docker, uniq, note, labels } = ctx
    const net = await createNet(ctx, 'net')
    const vm = uniq('db')
    const t0 = performance.now()
    const r = await docker(['run', '-d', '--pull=never', `--runtime=${ctx.runtime}`, '--name', vm, ...labels, '--network', net.name, '-m', '1g', SYSTEM])
    if (r.code !== 0) fail(`docker run -d: ${describe(r)}`)
    const s = await waitSystemd(ctx, vm, t0)
    note(`docker run -d → systemd ${s.state}: ${(s.ms / 1000).toFixed(1)} s (load ${load()})`)
    const user = await docker(['exec', vm, 'mariadb', '-e', "CREATE USER 't'@'%' IDENTIFIED BY 'p'; GRANT ALL ON *.* TO 't'@'%'"])
    if (user.code !== 0) fail(`creating the client user: ${describe(user)}`)
    const client = (sql: string) => docker(['run', '--rm', '--pull=never', ...labels, '--network', net.name, '--entrypoint', 'mariadb', SYSTEM,
      '-h', vm, '-u', 't', '-pp', '--batch', '--skip-column-names', '-e', sql])
    const w = await client("CREATE DATABASE d; CREATE TABLE d.t (v VARCHAR(40)) ENGINE=InnoDB; INSERT INTO d.t VALUES ('written before restart'), ('second row'); SELECT COUNT(*) FROM d.t")
    if (w.code !== 0 || w.stdout !== '2\n') fail(`write from the runc client: ${describe(w)}`)

    const tr = performance.now()
    const restart = await docker(['restart', '-t', '60', vm], { timeoutMs: 180_000 })
    note(`docker restart returned in ${((performance.now() - tr) / 1000).toFixed(1)} s (load ${load()})`)
    if (restart.code !== 0) fail(`docker restart: ${describe(restart)}`)
    const s2 = await waitSystemd(ctx, vm, performance.now())
    note(`after restart → systemd ${s2.state}: ${(s2.ms / 1000).toFixed(1)} s`)
    let rd = await client('SELECT v FROM d.t ORDER BY v')
    for (let i = 0; rd.code !== 0 && i < 30; i++) { await sleep(2000); rd = await client('SELECT v FROM d.t ORDER BY v') }
    if (rd.stdout !== 'second row\nwritten before restart\n') fail(`rows after docker restart: ${describe(rd)}`)
    // The previous boot's journal (persistent in /var/log/journal) shows whether mariadb was
    // stopped by systemd; this boot's shows whether InnoDB needed crash recovery.
    const prev = await docker(['exec', vm, 'sh', '-c', 'journalctl -b -1 --no-pager -o cat | grep -cE "Received SIGRTMIN\\+4|Stopped mariadb.service"; journalctl -b 0 -u mariadb --no-pager -o cat | grep -ci "crash recovery"'])
    const [stopped, recovery] = prev.stdout.split('\n')
    if (stopped !== '2') fail(`docker restart -t 60 did not power the VM off cleanly (the previous boot's journal should show SIGRTMIN+4 and mariadb stopped): ${show(prev)}`)
    if (recovery !== '0') fail(`InnoDB ran crash recovery after a clean docker restart -t 60: ${show(prev)}`)
    note('previous boot: powered off by SIGRTMIN+4, mariadb stopped by systemd; no InnoDB crash recovery at restart')
  },
} satisfies Case

const show = (r: { stdout: string; stderr: string }) => JSON.stringify(r.stdout + r.stderr)
