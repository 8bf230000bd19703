#!/bin/bash
# bench/durability.sh [CYCLES] [kill|stop]: fsync'd appends survive `docker kill` (or `docker stop`)
# at random moments, on a RUNCVM_DISKS ext4 disk and on the virtiofs root.
#
# One container (runcvm-test/bb) runs two writers in the VM, each appending numbered records
# ("N rec") to its file and calling fsync on it (busybox `sync FILE`) before it prints "ack TAG N"
# on stdout: /data/recs on the ext4 disk (backing file in a host directory, QEMU cache=none) and
# /recs on the container root (virtiofs). Each cycle starts the container (docker start; the writers
# resume after their last complete record), waits a random 3-8 s after the cycle's first ack, and
# kills (or stops) it. After each cycle, on the host: the backing file's journal is replayed on a
# sparse copy (e2fsck -E journal_only), `e2fsck -fn` on that copy must be clean, and every record
# acknowledged so far (docker logs) must be in both files (debugfs for the disk, docker cp for
# the root). A kill of the container kills QEMU and virtiofsd, not the host: this proves
# process-crash durability; a host power loss is beyond what can be tested here (the disk's
# cache=none plus the guest's flushes is what covers that case).
#
# Env: RUNTIME (default runcvm), VIRTIOFSD_CACHE (RUNCVM_VIRTIOFSD_CACHE for the root: auto,
# always, none; default: the runtime's default). Prints one line per cycle and a summary; exit 1
# if a cycle lost a record or e2fsck was not clean. Cleans up after itself.
set -uo pipefail
cycles=${1:-20}
mode=${2:-kill}
runtime=${RUNTIME:-runcvm}
name=durability-$$
dir=$(mktemp -d /tmp/durability.XXXXXX)
trap 'docker rm -f "$name" >/dev/null 2>&1; rm -rf "$dir"' EXIT
cacheenv=()
[ -n "${VIRTIOFSD_CACHE:-}" ] && cacheenv=(-e "RUNCVM_VIRTIOFSD_CACHE=$VIRTIOFSD_CACHE")

# The writers, in the VM's busybox sh. The last complete record gives the next number.
writer='w() { f=$1; t=$2; n=$(grep -E "^[0-9]+ rec$" "$f" 2>/dev/null | tail -n 1 | cut -d" " -f1); n=${n:-0}
  while :; do n=$((n + 1)); echo "$n rec" >>"$f"; sync "$f" && echo "ack $t $n"; done; }
echo booted; w /data/recs disk & w /recs root & wait'

docker create --pull=never --runtime="$runtime" --name "$name" -v "$dir:/disks" \
  -e RUNCVM_DISKS=/disks/d1,/data,ext4,128M "${cacheenv[@]}" runcvm-test/bb sh -c "$writer" >/dev/null || exit 1

# Every acked number of TAG so far (docker logs keeps the output of every start).
acked() { docker logs "$name" 2>/dev/null | tr -d '\r' | awk -v t="$1" '$1 == "ack" && $2 == t { print $3 }' | sort -u; }
first_ack_count() { docker logs "$name" 2>/dev/null | grep -c '^ack ' ; }

lost_total=0 fsck_bad=0 acks_total=0
echo "durability: $cycles cycles of docker $mode, runtime $runtime, disk cache=none (QEMU), virtiofs cache=${VIRTIOFSD_CACHE:-default}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= cycles; i++)); do
  before=$(first_ack_count)
  docker start "$name" >/dev/null || { echo "cycle $i: docker start failed"; exit 1; }
  for ((w = 0; w < 1200; w++)); do [ "$(first_ack_count)" -gt "$before" ] && break; sleep 0.1; done
  hold=$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.1f", 3 + rand() * 5 }')
  sleep "$hold"
  if [ "$mode" = stop ]; then docker stop "$name" >/dev/null; else docker kill "$name" >/dev/null; fi
  docker wait "$name" >/dev/null
  # The disk: replay the journal on a copy, then a forced read-only check must be clean.
  cp --sparse=always "$dir/d1" "$dir/check.img"
  e2fsck -E journal_only -y "$dir/check.img" >/dev/null 2>&1
  if e2fsck -fn "$dir/check.img" >"$dir/fsck.log" 2>&1; then fsck=clean; else fsck="NOT CLEAN"; fsck_bad=$((fsck_bad + 1)); sed 's/^/    /' "$dir/fsck.log"; fi
  debugfs -R 'cat /recs' "$dir/check.img" 2>/dev/null | grep -E '^[0-9]+ rec$' | cut -d' ' -f1 | sort -u >"$dir/disk.have"
  docker cp "$name:/recs" "$dir/root.recs" >/dev/null 2>&1
  grep -E '^[0-9]+ rec$' "$dir/root.recs" | cut -d' ' -f1 | sort -u >"$dir/root.have"
  line="cycle $i: held ${hold} s, e2fsck $fsck"
  for t in disk root; do
    acked "$t" >"$dir/$t.acked"
    n=$(wc -l <"$dir/$t.acked")
    lost=$(comm -23 "$dir/$t.acked" "$dir/$t.have" | wc -l)
    lost_total=$((lost_total + lost))
    [ "$i" = "$cycles" ] && acks_total=$((acks_total + n))
    line+=", $t: $n acked, $(wc -l <"$dir/$t.have") present, $lost lost"
  done
  echo "$line"
  rm -f "$dir/check.img" "$dir/root.recs"
done
echo "summary: $cycles x docker $mode, $acks_total records acknowledged, $lost_total lost, e2fsck not clean $fsck_bad time(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$lost_total" = 0 ] && [ "$fsck_bad" = 0 ]
