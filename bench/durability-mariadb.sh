#!/bin/bash
# bench/durability-mariadb.sh [CYCLES]: mariadb commits survive `docker kill` of its VM.
#
# One RunCVM container of the system image (runcvm-test/system: Debian's mariadb-server under
# systemd, data on the container root over virtiofs, `-m 1g`) on a network the script creates.
# Each cycle: `docker start` the VM, wait until mariadb answers, then check what the previous kill
# left: every row whose INSERT was acknowledged so far is in the table, `CHECK TABLE` says OK, and
# this boot's mariadb journal says whether InnoDB ran crash recovery. Then a client in a runc
# container on the same network inserts numbered rows one by one (autocommit; each `mariadb -e
# INSERT` that returns 0 is an acknowledged commit, printed as "ack N"), and a random 3-8 s after
# its first ack the VM is killed with `docker kill` (SIGKILL: QEMU and virtiofsd die, the guest
# gets no chance to flush anything). After the last cycle one more start checks the last kill.
#
# Env: RUNTIME (default runcvm). Default 5 cycles; under TCG a cycle is a full systemd boot
# (~1 min idle, several at high load). Prints one line per cycle and a summary; exit 1 if an
# acknowledged row was lost or CHECK TABLE was not OK. Cleans up after itself.
set -uo pipefail
cycles=${1:-5}
runtime=${RUNTIME:-runcvm}
image=runcvm-test/system
db=durmdb-$$ client=durmdb-client-$$ net=durmdb-net-$$
dir=$(mktemp -d /tmp/durability-mariadb.XXXXXX)
cleanup() { docker rm -f "$client" "$db" >/dev/null 2>&1; docker network rm "$net" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT
docker image inspect "$image" >/dev/null 2>&1 || { echo "needs $image (tests/it/images/build.sh system)"; exit 2; }
docker network create "$net" >/dev/null || exit 1
docker create --pull=never --runtime="$runtime" --name "$db" --network "$net" -m 1g "$image" >/dev/null || exit 1

# Every docker exec is bounded: a starved TCG guest must not hang the script.
sql() { timeout 120 docker exec "$db" mariadb --batch --skip-column-names -e "$1"; }
# mariadb answering in the VM (systemd started it); up to 15 min under a loaded TCG host.
ready() {
  local i
  for ((i = 0; i < 900; i++)); do
    sql 'SELECT 1' >/dev/null 2>&1 && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$db")" = true ] || { echo "VM stopped while starting"; return 1; }
    sleep 1
  done
  echo "mariadb did not answer in 900 s"; return 1
}

lost_total=0 bad_check=0 recoveries=0
touch "$dir/acked"
echo "durability-mariadb: $cycles cycles of docker kill, runtime $runtime, $image, datadir on the virtiofs root; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= cycles + 1; i++)); do
  t0=$(date +%s)
  docker start "$db" >/dev/null || { echo "cycle $i: docker start failed"; exit 1; }
  ready || exit 1
  boot=$(($(date +%s) - t0))
  if [ "$i" = 1 ]; then
    sql "CREATE USER 't'@'%' IDENTIFIED BY 'p'; GRANT ALL ON *.* TO 't'@'%'; CREATE DATABASE d; CREATE TABLE d.t (n INT PRIMARY KEY) ENGINE=InnoDB" || exit 1
    line="cycle 0: booted in ${boot} s, table created"
  else
    sql 'SELECT n FROM d.t' | sort -n >"$dir/present" || { echo "cycle $((i - 1)): SELECT failed"; exit 1; }
    lost=$(comm -23 <(sort "$dir/acked") <(sort "$dir/present") | wc -l)
    lost_total=$((lost_total + lost))
    check=$(sql 'CHECK TABLE d.t' | awk '{ print $NF }' | tail -n 1)
    [ "$check" = OK ] || bad_check=$((bad_check + 1))
    rec=$(timeout 120 docker exec "$db" sh -c 'journalctl -b 0 -u mariadb --no-pager -o cat | grep -ci "crash recovery"')
    [ "${rec:-0}" != 0 ] && recoveries=$((recoveries + 1))
    line="cycle $((i - 1)): held ${hold} s, $(wc -l <"$dir/acked") acked, $(wc -l <"$dir/present") present, $lost lost, CHECK TABLE $check, InnoDB crash recovery: $([ "${rec:-0}" != 0 ] && echo yes || echo no); next boot ${boot} s"
  fi
  echo "$line"
  [ "$i" -gt "$cycles" ] && break
  # The client: numbers after the highest row present, one autocommit INSERT per connection.
  start=$(($(sql 'SELECT COALESCE(MAX(n), 0) FROM d.t') + 1))
  docker run -d --pull=never --name "$client" --network "$net" --entrypoint sh "$image" -c \
    "n=$start; while :; do mariadb -h $db -u t -pp -e \"INSERT INTO d.t VALUES (\$n)\" 2>/dev/null && echo \"ack \$n\"; n=\$((n + 1)); done" >/dev/null || exit 1
  for ((w = 0; w < 600; w++)); do docker logs "$client" 2>/dev/null | grep -q '^ack ' && break; sleep 0.1; done
  hold=$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.1f", 3 + rand() * 5 }')
  sleep "$hold"
  docker kill "$db" >/dev/null
  docker wait "$db" >/dev/null
  # Every ack the client printed came before the kill (an INSERT needs the server to answer).
  docker kill "$client" >/dev/null 2>&1
  docker logs "$client" 2>/dev/null | awk '$1 == "ack" { print $2 }' >>"$dir/acked"
  docker rm -f "$client" >/dev/null 2>&1
done
echo "summary: $cycles x docker kill, $(wc -l <"$dir/acked") commits acknowledged, $lost_total lost, CHECK TABLE not OK $bad_check time(s), InnoDB crash recovery in $recoveries of $cycles restarts; load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$lost_total" = 0 ] && [ "$bad_check" = 0 ]
