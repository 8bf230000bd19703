#!/bin/bash
# bench/hotplug-bench.sh — `docker network connect` on a running RunCVM VM: how long from the
# connect command returning until the VM reaches a peer on the new network, and from
# `docker network disconnect` returning until it no longer does; N cycles per runtime.
# A VM on network A runs a loop that starts a ping of a runc peer on network B by IP every 0.1 s,
# each printing `up` or `down` when it ends (`down` after its 1 s timeout). The time of each line
# is dockerd's (`docker logs -t`, host clock), so nothing runs in the VM to
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

# Where the connect → reachable time goes, from the logs the package keeps (a package without them
# prints '-'), in ms after `docker network connect` returned (the first link event usually comes
# before it: negative). Host side (netplug.log `timeline` line, host uptime): the container
# watcher's first link event and its quiet period's end, the Node process's exec, netplug's main,
# plan written, bridge + tap, QMP device_add returned. VM side: its watcher's line in
# /.runcvm/hotplug-vm.log, whose mtime (read on the host through /proc/PID/root) is the host time
# the VM's `ip -batch` was done; the VM's own clock (dmesg's `enabling device` = the PCI probe, the
# line's times = the link event that woke the watcher, batch done) splits QMP → configured into
# QMP → PCI probe (ACPI hot-plug + PCI scan), → link seen (virtio-net probe), → configured.
# `reply`: configured → the first ping answer (pings start every 0.1 s).
split_ms() {
  local t0=$1 up0=$2 total=$3 out tl vm pci pid mt
  out=$(docker exec "$TAG-vm" sh -c 'echo "T $(grep " timeline " /.runcvm/netplug.log | tail -1)"; echo "V $(tail -1 /.runcvm/hotplug-vm.log)"; echo "P $(dmesg | grep "virtio-pci.*enabling device" | tail -1)"' 2>/dev/null)
  tl=$(sed -n 's/^T //p' <<<"$out"); vm=$(sed -n 's/^V //p' <<<"$out")
  pci=$(sed -n 's/^P \[ *\([0-9.]*\)\].*/\1/p' <<<"$out")
  pid=$(docker inspect -f '{{.State.Pid}}' "$TAG-vm" 2>/dev/null)
  mt=$(stat -c '%.3Y' "/proc/$pid/root/.runcvm/hotplug-vm.log" 2>/dev/null)
  awk -v t0="$t0" -v up0="$up0" -v total="$total" -v tl="$tl" -v vm="$vm" -v pci="$pci" -v mt="$mt" 'BEGIN {
    host = "-"; qmp = ""; vmpart = "-"
    if (match(tl, /link event at [0-9.]+ s; \+ms .*/)) {
      s = substr(tl, RSTART + 14); split(s, a, " "); ev = a[1] * 1000 - up0 * 1000
      sub(/^[^+]*\+ms /, "", s); n = split(s, m, ", ")
      host = sprintf("link event %+d", ev)
      for (i = 1; i <= n; i++) { split(m[i], kv, " "); host = host sprintf(", %s %+d", kv[1], ev + kv[2]); if (kv[1] == "qmp") qmp = ev + kv[2] }
    }
    if (split(vm, w, " ") >= 4 && pci != "" && mt != "" && qmp != "") {
      done = mt * 1000 - t0; probe = done - (w[2] - pci) * 1000
      vmpart = sprintf("PCI probe %+d, link seen %+d, configured %+d (%s)", probe, probe + (w[1] - pci) * 1000, done, w[4])
      vmpart = vmpart sprintf(" | QMP → probe %d, probe → configured %d, configured → reply %d", probe - qmp, done - probe, total - done)
    }
    printf "host: %s | VM: %s\n", host, vmpart
  }'
}

# One ping every 0.1 s, each in the background printing its own answer: a ping that waits out its
# 1 s timeout (before eth1 exists the VM's default route sends it to eth0's gateway) never hides
# the first one that could be answered.
LOOP="while :; do ( if ping -c 1 -W 1 $PEER >/dev/null 2>&1; then echo up; else echo down; fi ) & usleep 100000; done"

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
  : >"$WORK/con"; : >"$WORK/dis"; : >"$WORK/split"
  for i in $(seq "$N"); do
    sleep 2
    n0=$(wc -l <"$WORK/log")
    docker network connect "$TAG-b" "$TAG-vm" || { echo "$rt: connect failed" >&2; break; }
    t0=$(now_ms); read -r up0 _ </proc/uptime
    t1=$(line_ms up "$n0" 120)
    [ -n "$t1" ] || { echo "$rt cycle $i: the VM never reached the peer within 120 s" >&2; break; }
    echo $((t1 - t0)) >>"$WORK/con"
    split_ms "$t0" "$up0" $((t1 - t0)) >>"$WORK/split"
    sleep 1
    n0=$(wc -l <"$WORK/log")
    docker network disconnect "$TAG-b" "$TAG-vm" || { echo "$rt: disconnect failed" >&2; break; }
    t0=$(now_ms)
    t1=$(line_ms down "$n0" 120)
    [ -n "$t1" ] || { echo "$rt cycle $i: the VM still reached the peer 120 s after disconnect" >&2; break; }
    echo $((t1 - t0)) >>"$WORK/dis"
    echo "  $rt cycle $i: connect → reachable $(tail -1 "$WORK/con") ms, disconnect → unreachable $(tail -1 "$WORK/dis") ms, load $(cut -d' ' -f1 /proc/loadavg)" >&2
    echo "    split: $(tail -1 "$WORK/split")" >&2
    # Wait until the container side has unplugged the NIC before the next connect.
    for _ in $(seq 120); do docker exec "$TAG-vm" sh -c '! [ -e /sys/class/net/eth1 ]' 2>/dev/null && break; sleep 0.5; done
  done
  kill "$LOGPID" 2>/dev/null; LOGPID=
  printf '%-14s connect → reachable: median %s ms (%s ms, %s runs: %s)   disconnect → unreachable: median %s ms (%s ms)   load now %s\n' \
    "$rt" "$(median <"$WORK/con")" "$(range <"$WORK/con")" "$(wc -l <"$WORK/con")" "$(tr '\n' ' ' <"$WORK/con" | sed 's/ $//')" \
    "$(median <"$WORK/dis")" "$(range <"$WORK/dis")" "$(cut -d' ' -f1-3 /proc/loadavg)"
  docker exec "$TAG-vm" cat /.runcvm/netplug.log 2>/dev/null | sed 's/^/    netplug: /' | grep -E 'added|removed|add |remove |the VM (configured|has not)' | tail -n "$((3 * N))"
done
docker rm -f "$TAG-vm" >/dev/null 2>&1
