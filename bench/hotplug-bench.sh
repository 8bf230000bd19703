#!/bin/bash
# bench/hotplug-bench.sh — `docker network connect` on a running RunCVM VM: how long from the
# connect command returning until the VM reaches a peer on the new network, and from
# `docker network disconnect` returning until it no longer does; N cycles per runtime.
# A VM on network A runs a loop that pings a runc peer on network B by IP every 0.1 s and prints
# `up`/`down` when the answer changes (before eth1 exists the ping fails at once: no route). The
# time of each line is dockerd's (`docker logs -t`, host clock), so nothing runs in the VM to
# measure. No target: numbers are printed, never asserted. Traffic stays on the networks this
# script creates.
#
#   bench/hotplug-bench.sh [N cycles, default 5] [RUNTIME...]   (default runtime: runcvm)
# e.g. bench/hotplug-bench.sh 5 runcvm-main runcvm-hp   (old vs new package, same minutes)
# Env: IMAGE (default runcvm-test/bb).
set -uo pipefail
N=${1:-5}
shift || true
RUNTIMES=("${@:-runcvm}")
[ ${#RUNTIMES[@]} -gt 0 ] || RUNTIMES=(runcvm)
IMAGE=${IMAGE:-runcvm-test/bb}
TAG=runcvm-bench-hp-$$
LABEL=(--label runcvm-bench=1 --label "runcvm-bench.run=$$")
WORK=$(mktemp -d /tmp/hotplug-bench.XXXXXX)
LOGPID=

cleanup() {
  [ -z "$LOGPID" ] || kill "$LOGPID" 2>/dev/null
  docker rm -f "$TAG-vm" "$TAG-peer" >/dev/null 2>&1
  docker network rm "$TAG-a" "$TAG-b" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "missing $IMAGE: bash tests/it/images/build.sh" >&2; exit 1; }
docker network create "${LABEL[@]}" "$TAG-a" >/dev/null || exit 1
docker network create "${LABEL[@]}" "$TAG-b" >/dev/null || exit 1
docker run -d --pull=never "${LABEL[@]}" --name "$TAG-peer" --network "$TAG-b" "$IMAGE" sleep 100000 >/dev/null || exit 1
PEER=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$TAG-b\").IPAddress}}" "$TAG-peer")

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Host ms of the first log line equal to $1 after line number $2, waiting up to $3 s ('' on timeout).
line_ms() {
  local want=$1 after=$2 until=$(( $(date +%s) + $3 )) l
  while [ "$(date +%s)" -le "$until" ]; do
    l=$(tail -n +"$((after + 1))" "$WORK/log" | grep -m1 " $want\$")
    if [ -n "$l" ]; then echo $(( $(date -d "${l%% *}" +%s%N) / 1000000 )); return; fi
    sleep 0.05
  done
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "-"}'; }
range() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {if (NR) printf "%s-%s", lo, hi; else printf "-"}'; }

LOOP="s=down; while :; do if ping -c 1 -W 1 $PEER >/dev/null 2>&1; then n=up; else n=down; fi; [ \$n = \$s ] || { echo \$n; s=\$n; }; usleep 100000; done"

echo "hot-plug: $N connect/disconnect cycles per runtime, image $IMAGE, load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for rt in "${RUNTIMES[@]}"; do
  docker rm -f "$TAG-vm" >/dev/null 2>&1
  docker run -d --pull=never "${LABEL[@]}" --runtime="$rt" --name "$TAG-vm" --network "$TAG-a" "$IMAGE" sh -c "$LOOP" >/dev/null || exit 1
  t=0
  until docker exec "$TAG-vm" true >/dev/null 2>&1; do
    t=$((t + 1)); [ $t -gt 180 ] && { echo "$rt: VM not up after 180 s" >&2; exit 1; }
    sleep 1
  done
  echo "  $rt: VM up, load $(cut -d' ' -f1 /proc/loadavg)" >&2
  : >"$WORK/log"
  docker logs -f -t "$TAG-vm" >"$WORK/log" 2>&1 &
  LOGPID=$!
  : >"$WORK/con"; : >"$WORK/dis"
  for i in $(seq "$N"); do
    sleep 2
    n0=$(wc -l <"$WORK/log")
    docker network connect "$TAG-b" "$TAG-vm" || { echo "$rt: connect failed" >&2; break; }
    t0=$(now_ms)
    t1=$(line_ms up "$n0" 120)
    [ -n "$t1" ] || { echo "$rt cycle $i: the VM never reached the peer within 120 s" >&2; break; }
    echo $((t1 - t0)) >>"$WORK/con"
    sleep 1
    n0=$(wc -l <"$WORK/log")
    docker network disconnect "$TAG-b" "$TAG-vm" || { echo "$rt: disconnect failed" >&2; break; }
    t0=$(now_ms)
    t1=$(line_ms down "$n0" 120)
    [ -n "$t1" ] || { echo "$rt cycle $i: the VM still reached the peer 120 s after disconnect" >&2; break; }
    echo $((t1 - t0)) >>"$WORK/dis"
    echo "  $rt cycle $i: connect → reachable $(tail -1 "$WORK/con") ms, disconnect → unreachable $(tail -1 "$WORK/dis") ms, load $(cut -d' ' -f1 /proc/loadavg)" >&2
    # Wait until the container side has unplugged the NIC before the next connect.
    for _ in $(seq 120); do docker exec "$TAG-vm" sh -c '! [ -e /sys/class/net/eth1 ]' 2>/dev/null && break; sleep 0.5; done
  done
  kill "$LOGPID" 2>/dev/null; LOGPID=
  printf '%-14s connect → reachable: median %s ms (%s ms, %s runs: %s)   disconnect → unreachable: median %s ms (%s ms)   load now %s\n' \
    "$rt" "$(median <"$WORK/con")" "$(range <"$WORK/con")" "$(wc -l <"$WORK/con")" "$(tr '\n' ' ' <"$WORK/con" | sed 's/ $//')" \
    "$(median <"$WORK/dis")" "$(range <"$WORK/dis")" "$(cut -d' ' -f1-3 /proc/loadavg)"
  docker exec "$TAG-vm" cat /.runcvm/netplug.log 2>/dev/null | sed 's/^/    netplug: /' | grep -E 'added|removed|add |remove ' | tail -n "$((2 * N))"
done
docker rm -f "$TAG-vm" >/dev/null 2>&1
