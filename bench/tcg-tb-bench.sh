#!/bin/bash
# bench/tcg-tb-bench.sh — what RUNCVM_TCG_TB_SIZE (QEMU's TCG translation cache) costs and saves.
# For each round, for each size in turn (interleaved, so load drifts hit every size alike):
#   `docker run -d -m 512m IMAGE sleep 600`; boot: time until `docker exec true` answers (0.2 s
#   polls); work: WORK_EXECS (default 3) more `docker exec` of a small shell loop, timed; then
#   QEMU's anonymous RSS (its heap plus the translation cache; guest RAM is shmem) and the
#   container cgroup's usage and peak. QEMU's own CPU time (utime + stime) at both points is
#   printed too: unlike wall time it barely moves with the host's load, and retranslation after
#   a cache flush shows up in it.
# Prints one line per run and per-size medians. Under KVM the option does nothing (no TCG).
#
#   sudo bench/tcg-tb-bench.sh [-r RUNTIME] [-n ROUNDS] [-i IMAGE] [SIZE_MIB...]   (default 128 64 32 16; 3 rounds)
#   Each VM boot is ~5 s alone under TCG; at high load minutes: use -n 1-2 and fewer sizes then.
set -euo pipefail
RUNTIME=runcvm ROUNDS=3 IMAGE=runcvm-test/bb WORK_EXECS=${WORK_EXECS:-3}
while getopts r:n:i: o; do case $o in r) RUNTIME=$OPTARG ;; n) ROUNDS=$OPTARG ;; i) IMAGE=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
SIZES=("$@"); [ $# -gt 0 ] || SIZES=(128 64 32 16)
name=tb-bench-$$
out=$(mktemp); trap 'docker rm -f "$name" >/dev/null 2>&1; rm -f "$out"' EXIT
now() { date +%s.%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# QEMU's CPU seconds so far (utime + stime of every thread; fields after the ')' of the name).
qcpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$1/stat"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) exit 1; m=int((NR+1)/2); if (NR%2) print a[m]; else printf "%.2f\n", (a[m]+a[m+1])/2}'; }
echo "tcg-tb-bench: $ROUNDS rounds of sizes ${SIZES[*]} MiB, runtime $RUNTIME, $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
  for s in "${SIZES[@]}"; do
    env=(-e "RUNCVM_TCG_TB_SIZE=$s")
    t0=$(now)
    id=$(docker run -d --pull=never --runtime="$RUNTIME" --name "$name" -m 512m "${env[@]}" "$IMAGE" sleep 600)
    for _ in $(seq 1 600); do docker exec "$name" true >/dev/null 2>&1 && break; sleep 0.2; done
    t1=$(now); boot=$(echo "$t1 - $t0" | bc -l)
    cg=/sys/fs/cgroup/memory/docker/$id
    qpid=$(for p in $(cat "$cg/cgroup.procs"); do grep -qs qemu-system "/proc/$p/cmdline" && echo "$p"; done | head -n 1)
    cpu1=$(qcpu "$qpid")
    for _ in $(seq 1 "$WORK_EXECS"); do docker exec "$name" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do ls -lR /etc >/dev/null; ps >/dev/null; done'; done
    t2=$(now); work=$(echo "$t2 - $t1" | bc -l)
    cpu2=$(qcpu "$qpid")
    usage=$(mib "$(cat "$cg/memory.usage_in_bytes")") peak=$(mib "$(cat "$cg/memory.max_usage_in_bytes")")
    qanon=$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$qpid/status")
    docker rm -f "$name" >/dev/null
    printf 'round %d tb-size %4s: boot (run -d to exec) %.2f s, qemu cpu %s s; %d execs %.2f s, qemu cpu +%.1f s; qemu anon %s MiB, cgroup usage %s peak %s MiB; load %s\n' \
      "$r" "$s" "$boot" "$cpu1" "$WORK_EXECS" "$work" "$(echo "$cpu2 - $cpu1" | bc -l)" "$qanon" "$usage" "$peak" "$(cut -d' ' -f1 /proc/loadavg)"
    printf '%s %s %s %s %s %s %s %s\n' "$s" "$boot" "$work" "$qanon" "$usage" "$peak" "$cpu1" "$(echo "$cpu2 - $cpu1" | bc -l)" >>"$out"
  done
done
echo "medians (load $(cut -d' ' -f1-3 /proc/loadavg)):"
for s in "${SIZES[@]}"; do
  col() { awk -v s="$s" -v c="$1" '$1 == s { print $c }' "$out" | median; }
  printf '  tb-size %4s MiB: boot %s s (qemu cpu %s s), execs %s s (qemu cpu %s s), qemu anon %s MiB, cgroup usage %s MiB, peak %s MiB\n' \
    "$s" "$(col 2)" "$(col 7)" "$(col 3)" "$(col 8)" "$(col 4)" "$(col 5)" "$(col 6)"
done
