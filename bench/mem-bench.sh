#!/bin/bash
# bench/mem-bench.sh — what a RunCVM container's own processes cost in memory, next to the VM's RAM.
# For each `-m` size: starts `docker run -d -m SIZE IMAGE sleep 600`, waits until the VM is booted
# and has idled for a while, then prints from the host's cgroup v1 memory controller:
#   usage / peak (max_usage_in_bytes), and memory.stat's rss / shmem / mapped_file / cache;
# and per process (from /proc/<pid>/status): RSS split into anon / file / shmem, and page tables
# (VmPTE). Guest RAM lives in /dev/shm (shmem) and is counted in QEMU's RssShmem as the guest
# touches it; everything else is the "contingency" the runtime adds to the container limit.
# Then one `docker exec` runs while the peak is re-read (the exec path starts a Node process).
#
#   sudo bench/mem-bench.sh [-r RUNTIME] [-i IMAGE] [-w IDLE_SECONDS] [SIZE...]   (default 512m 1g 2g)
#   RUNCVM_BENCH_ENV="-e RUNCVM_QEMU_MEM_PREALLOC=on" adds docker run flags (e.g. to touch all RAM).
#
# Numbers are MiB. Only cgroup v1 (memory.usage_in_bytes) and v2 (memory.current) unified paths of
# Docker's cgroupfs driver are read; the per-process table works everywhere.
set -euo pipefail
RUNTIME=runcvm IMAGE=runcvm-test/bb IDLE=20
while getopts r:i:w: o; do case $o in r) RUNTIME=$OPTARG ;; i) IMAGE=$OPTARG ;; w) IDLE=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
SIZES=("${@:-512m}")
[ $# -gt 0 ] || SIZES=(512m 1g 2g)
PFX=${RUNCVM_BENCH_PREFIX:-mem-bench}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.stat"; }

for size in "${SIZES[@]}"; do
  name=$PFX-$size-$$
  # shellcheck disable=SC2086
  id=$(docker run -d --pull=never --runtime="$RUNTIME" --name "$name" -m "$size" ${RUNCVM_BENCH_ENV:-} "$IMAGE" sleep 600)
  trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
  # Booted: `docker exec` answers (it needs the VM's dropbear), then idle time.
  for _ in $(seq 1 120); do docker exec "$name" true >/dev/null 2>&1 && break; sleep 1; done
  sleep "$IDLE"
  cg=/sys/fs/cgroup/memory/docker/$id
  [ -d "$cg" ] || cg=/sys/fs/cgroup/docker/$id
  echo "== -m $size ($RUNTIME, $IMAGE, idle ${IDLE}s, load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ -f "$cg/memory.usage_in_bytes" ]; then
    echo "cgroup: usage $(mib "$(cat "$cg/memory.usage_in_bytes")") peak $(mib "$(cat "$cg/memory.max_usage_in_bytes")")" \
      "limit $(mib "$(cat "$cg/memory.limit_in_bytes")")" \
      "| stat rss $(mib "$(stat_of "$cg" total_rss)") shmem $(mib "$(stat_of "$cg" total_shmem)")" \
      "mapped_file $(mib "$(stat_of "$cg" total_mapped_file)") cache $(mib "$(stat_of "$cg" total_cache)")"
  elif [ -f "$cg/memory.current" ]; then
    echo "cgroup: current $(mib "$(cat "$cg/memory.current")") peak $(mib "$(cat "$cg/memory.peak" 2>/dev/null || echo 0)")" \
      "| stat anon $(mib "$(stat_of "$cg" anon)") shmem $(mib "$(stat_of "$cg" shmem)") file $(mib "$(stat_of "$cg" file)")" \
      "pagetables $(mib "$(stat_of "$cg" pagetables)") sec_pagetables $(mib "$(stat_of "$cg" sec_pagetables)")"
  fi
  printf '%-22s %8s %8s %8s %8s %8s\n' process rss anon file shmem pte
  for pid in $(cat "$cg/cgroup.procs"); do
    [ -r "/proc/$pid/status" ] || continue
    comm=$(tr '\0' ' ' <"/proc/$pid/cmdline" | awk '{ n = split($1, a, "/"); c = a[n]; if (c == "node" || c ~ /^ld-linux/) { m = split($2, b, "/"); c = c ":" b[m] } print substr(c, 1, 22) }')
    awk -v c="$comm" '
      /^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } /^RssShmem:/ { s = $2 } /^VmPTE:/ { p = $2 }
      END { printf "%-22s %8.1f %8.1f %8.1f %8.1f %8.2f\n", c, r/1024, a/1024, f/1024, s/1024, p/1024 }' "/proc/$pid/status"
  done
  if [ -f "$cg/memory.max_usage_in_bytes" ]; then
    echo 0 >"$cg/memory.max_usage_in_bytes" 2>/dev/null || true
    docker exec "$name" true
    echo "peak across one docker exec: $(mib "$(cat "$cg/memory.max_usage_in_bytes")")"
  fi
  docker rm -f "$name" >/dev/null
  trap - EXIT
done
