#!/bin/bash
# bench/longrun.sh — one RunCVM VM kept busy for MINUTES (default 30), sampled every minute, to show
# whether anything the runtime keeps next to the VM grows without bound.
#
#   sudo bench/longrun.sh [MINUTES]               # runtime `runcvm`
#   sudo RUNCVM_BENCH_RUNTIME=runcvm-x bench/longrun.sh 30
#   RUNCVM_BENCH_INTERVAL=10 bench/longrun.sh 2    # 2 samples 10 s apart: tries the script
#
# Load on the VM, all the time:
# - network: the VM's workload fetches a 1 MiB file from a busybox httpd in a runc peer container
#   (both on a user network this script creates) once a second, by the peer's name (so the
#   container's dnsmasq answers too), and counts the fetches;
# - exec: `docker exec VM cat /tmp/fetches` every 5 s from the host (a Node role and a dropbear
#   session each time), with its latency.
# Each minute it samples:
# - the container cgroup's memory (v2 memory.current, v1 memory.usage_in_bytes) and its rss;
# - RSS (MiB), open fds and threads of every process in the container cgroup, summed per kind:
#   qemu, virtiofsd (root fs), virtiofsd-pkg (the package share), dnsmasq, runcvm-init, any
#   resident Node role, and the rest (the link watcher's busybox/ip);
# - from inside the VM (one more exec): MemAvailable and the number of processes;
# - execs done / failed in the minute and the slowest one, the fetches so far.
# Samples are taken on the wall clock (minute m at start + m min); every exec has a timeout (60 s
# for the 5-s loop, counted as failed; 30 s / 20 s for the sample's own, then shown as 0), so a
# starved VM on a loaded host shows as slow or failed execs, never as a stalled curve.
# At the end: the table, then per column first, last, max and last - first. Exit status 1 when an
# exec or a fetch failed, or the VM was gone before the end. Cleans up (also on Ctrl-C).
set -uo pipefail
MINUTES=${1:-30}
RUNTIME=${RUNCVM_BENCH_RUNTIME:-runcvm}
INTERVAL=${RUNCVM_BENCH_INTERVAL:-60}   # seconds per sample ("minute"); shorter only to try the script
IMAGE=runcvm-test/bb
P=longrun-$$
NET=$P-net VM=$P-vm PEER=$P-peer
T=$(mktemp -d /tmp/runcvm-longrun.XXXXXX)
say() { echo "longrun: $*"; }
ms() { date +%s%3N; }
[ "$MINUTES" -ge 1 ] 2>/dev/null || { say "MINUTES must be a whole number >= 1, got '$MINUTES'"; exit 2; }
docker image inspect "$IMAGE" >/dev/null 2>&1 || { say "image $IMAGE missing: bash tests/it/images/build.sh bb"; exit 2; }

EXEC_PID=
cleanup() {
  set +e
  [ -n "$EXEC_PID" ] && kill "$EXEC_PID" 2>/dev/null && wait "$EXEC_PID" 2>/dev/null
  docker rm -f "$VM" "$PEER" >/dev/null 2>&1
  docker network rm "$NET" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

docker network create "$NET" >/dev/null || { say "network create failed"; exit 1; }
docker run -d --pull=never --runtime=runc --name "$PEER" --network "$NET" "$IMAGE" \
  sh -c 'mkdir -p /w && dd if=/dev/zero of=/w/f bs=1M count=1 2>/dev/null && exec httpd -f -p 8080 -h /w' >/dev/null \
  || { say "peer failed to start"; exit 1; }
WORK="n=0; echo longrun-marker; while :; do if wget -q -O /dev/null http://$PEER:8080/f; then n=\$((n+1)); echo \$n > /tmp/fetches; else echo fetch-failed; fi; sleep 1; done"
ID=$(docker run -d --pull=never --runtime="$RUNTIME" --name "$VM" --network "$NET" "$IMAGE" sh -c "$WORK") \
  || { say "VM failed to start"; exit 1; }
# Booted: `docker exec` answers (up to 10 min: a loaded 2-core host starves TCG).
BOOT0=$(date +%s) BOOTED=
while [ $(( $(date +%s) - BOOT0 )) -lt 600 ]; do
  timeout 120 docker exec "$VM" true >/dev/null 2>&1 && { BOOTED=1; break; }
  sleep 1
done
[ -n "$BOOTED" ] || { say "VM never answered docker exec in 600 s"; docker logs "$VM" 2>&1 | tail -20; exit 1; }
say "first exec answered $(( $(date +%s) - BOOT0 )) s after docker run -d returned"

CG=
for d in /sys/fs/cgroup/memory/docker/"$ID" /sys/fs/cgroup/system.slice/docker-"$ID".scope /sys/fs/cgroup/docker/"$ID"; do
  [ -f "$d/cgroup.procs" ] && { CG=$d; break; }
done
[ -n "$CG" ] || { say "cgroup of $ID not found"; exit 1; }

# Exec loop: one line per exec, "<end ms> <rc> <latency ms>".
(
  while :; do
    t0=$(ms); timeout 60 docker exec "$VM" cat /tmp/fetches >/dev/null 2>&1; rc=$?; t1=$(ms)
    echo "$t1 $rc $((t1 - t0))" >>"$T/execs"
    sleep "$(awk -v d=$((t1 - t0)) 'BEGIN { s = 5 - d / 1000; if (s < 0) s = 0; print s }')"
  done
) &
EXEC_PID=$!

HDR="min load1 cg_mib cg_rss qemu_rss qemu_fd qemu_thr vfs_rss vfs_fd vfs_thr vpkg_rss vpkg_fd vpkg_thr dns_rss dns_fd init_rss init_fd node_n node_rss other_n other_rss g_avail g_procs ex_ok ex_fail ex_max fetches"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# Per kind: "rss_kib fds threads count" summed over the cgroup's processes.
procs_sample() {
  local pid kind
  for pid in $(cat "$CG/cgroup.procs" 2>/dev/null); do
    [ -r "/proc/$pid/status" ] || continue
    kind=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | awk '{
      n = split($1, a, "/"); c = a[n]
      if (c ~ /^qemu-system/) c = "qemu"
      else if (c == "virtiofsd") c = (index($0, "virtiofs-pkg") ? "vpkg" : "vfs")
      else if (c == "dnsmasq") c = "dns"
      else if (c == "runcvm-init") c = "init"
      else if (c == "node" || (c ~ /^ld-linux/ && $2 ~ /\/node$/)) c = "node"
      else c = "other"
      print c }')
    [ -n "$kind" ] || continue
    echo "$kind $(awk '/^VmRSS:/ { r = $2 } /^Threads:/ { t = $2 } END { print r + 0, t + 0 }' "/proc/$pid/status") $(ls "/proc/$pid/fd" 2>/dev/null | wc -l)"
  done | awk '{ rss[$1] += $2; thr[$1] += $3; fd[$1] += $4; n[$1]++ }
    END {
      printf "%.1f %d %d ", rss["qemu"] / 1024, fd["qemu"], thr["qemu"]
      printf "%.1f %d %d ", rss["vfs"] / 1024, fd["vfs"], thr["vfs"]
      printf "%.1f %d %d ", rss["vpkg"] / 1024, fd["vpkg"], thr["vpkg"]
      printf "%.1f %d ", rss["dns"] / 1024, fd["dns"]
      printf "%.1f %d ", rss["init"] / 1024, fd["init"]
      printf "%d %.1f ", n["node"], rss["node"] / 1024
      printf "%d %.1f", n["other"], rss["other"] / 1024
    }'
}

LAST_MS=$(ms)
sample() { # <minute>
  local cur rss guest now execs fetches
  if [ -f "$CG/memory.current" ]; then
    cur=$(cat "$CG/memory.current"); rss=$(awk '$1 == "anon" { print $2 }' "$CG/memory.stat")
  else
    cur=$(cat "$CG/memory.usage_in_bytes"); rss=$(awk '$1 == "total_rss" { print $2 }' "$CG/memory.stat")
  fi
  guest=$(timeout 30 docker exec "$VM" sh -c 'awk "/^MemAvailable:/ { printf \"%.1f\", \$2 / 1024 }" /proc/meminfo; echo " $(ls /proc | grep -c "^[0-9]")"' 2>/dev/null)
  # Both numbers or none (an exec cut short by its timeout may have printed only the first).
  [[ $guest =~ ^[0-9.]+\ [0-9]+$ ]] || guest="0 0"
  fetches=$(timeout 20 docker exec "$VM" cat /tmp/fetches 2>/dev/null)
  [[ $fetches =~ ^[0-9]+$ ]] || fetches=0
  now=$(ms)
  execs=$(awk -v a="$LAST_MS" -v b="$now" '$1 > a && $1 <= b { if ($2 == 0) ok++; else bad++; if ($3 > m) m = $3 }
    END { print ok + 0, bad + 0, m + 0 }' "$T/execs" 2>/dev/null || echo "0 0 0")
  LAST_MS=$now
  echo "$1 $(cut -d' ' -f1 /proc/loadavg) $(mib "$cur") $(mib "${rss:-0}") $(procs_sample) $guest $execs $fetches" >>"$T/samples"
  tail -1 "$T/samples"
}

say "runtime $RUNTIME, $MINUTES min, VM $VM (cgroup $CG), peer $PEER; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$HDR"
sample 0
STATUS=0
START=$(date +%s)
for m in $(seq 1 "$MINUTES"); do
  # On the wall clock: sample m at start + m intervals, however long a sample took.
  wait_s=$(( START + m * INTERVAL - $(date +%s) ))
  [ "$wait_s" -gt 0 ] && sleep "$wait_s"
  if [ "$(docker inspect -f '{{.State.Running}}' "$VM" 2>/dev/null)" != true ]; then
    say "FAIL: the VM stopped at minute $m: $(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$VM" 2>&1)"
    STATUS=1; break
  fi
  sample "$m"
done

echo
say "summary over $(wc -l <"$T/samples") samples (MiB for *_rss/cg_*/g_avail; counts otherwise)"
awk -v hdr="$HDR" 'BEGIN { n = split(hdr, h, " ") }
  { for (i = 1; i <= NF; i++) { v[NR, i] = $i; if (NR == 1 || $i > mx[i]) mx[i] = $i } last = NR }
  END {
    printf "%-9s %10s %10s %10s %10s\n", "column", "first", "last", "max", "growth"
    for (i = 2; i <= n; i++) printf "%-9s %10s %10s %10s %10.1f\n", h[i], v[1, i], v[last, i], mx[i], v[last, i] - v[1, i]
  }' "$T/samples"
fails=$(awk '$2 != 0' "$T/execs" 2>/dev/null | wc -l)
total=$(wc -l <"$T/execs" 2>/dev/null || echo 0)
fetchfail=$(docker logs "$VM" 2>&1 | grep -c fetch-failed)
say "execs: $total, failed $fails; fetch failures in the VM's log: $fetchfail; load at end $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$fails" = 0 ] && [ "$fetchfail" = 0 ] || STATUS=1
exit $STATUS
