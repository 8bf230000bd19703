#!/bin/bash
# bench/system-bench.sh — the system image (tests/it/images/build.sh system: systemd, dbus,
# docker.io, mariadb, nginx) under RunCVM and under runc, run after run:
#   - `docker run -d` → `systemctl is-system-running` settles (running/degraded; the state and
#     the failed units are printed);
#   - RunCVM only: `docker run -d` → output of a nested `docker run` (a busybox image imported in
#     the VM; runc cannot run dockerd without --privileged);
#   - `docker stop` duration and exit code.
# RunCVM runs as a user would: `-m 2g -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,2G`.
# runc needs `--tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro` to run systemd
# at all (without them systemd exits at once); docker.service fails there (no privileges).
#
#   bench/system-bench.sh [-n RUNS]      (default 1; each RunCVM run takes minutes under TCG)
# Env: RUNCVM_BENCH_RUNTIME (default runcvm). Numbers depend on the host load: it is printed with
# each of them.
set -euo pipefail

RUNS=1 RUNTIME=${RUNCVM_BENCH_RUNTIME:-runcvm} IMAGE=runcvm-test/system
while [ $# -gt 0 ]; do
  case $1 in
    -n) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
docker image inspect "$IMAGE" >/dev/null 2>&1 || bash "$(dirname "$0")/../tests/it/images/build.sh" system

now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc -l)"; }
load() { cut -d' ' -f1 /proc/loadavg; }
NAME=runcvm-bench-system-$$
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# settle <t0>: waits for systemd to settle in $NAME, prints "<state> <secs>"
settle() {
  local st
  while :; do
    st=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
    case $st in running|degraded) echo "$st $(since "$1")"; return ;; esac
    [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || { echo "exited $(since "$1")"; return; }
    sleep 1
  done
}

stop() {
  local t0; t0=$(now)
  docker stop "$NAME" >/dev/null
  echo "docker stop: $(since "$t0") s, exit code $(docker inspect -f '{{.State.ExitCode}}' "$NAME") (load $(load))"
}

NESTED='until docker info >/dev/null 2>&1; do sleep 1; done
d=$(mktemp -d); chmod 755 $d; mkdir -p $d/bin; cp /.runcvm/guest/usr/bin/busybox $d/bin/
for a in $($d/bin/busybox --list); do [ -e $d/bin/$a ] || ln -s busybox $d/bin/$a; done
tar -C $d -c . | docker import -c "ENV PATH=/bin" - bb >/dev/null && docker run --rm bb echo nested-ok'

echo "system-bench: $IMAGE, $RUNS run(s) per runtime; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$RUNS"); do
  cleanup; t0=$(now)
  docker run -d --pull=never --runtime="$RUNTIME" --name "$NAME" -m 2g -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,2G "$IMAGE" >/dev/null 2>&1
  read -r st secs < <(settle "$t0")
  echo "$RUNTIME run $i: systemd $st after $secs s (load $(load)); failed units: $(docker exec "$NAME" systemctl --failed --no-legend --plain 2>/dev/null | awk '{print $1}' | xargs echo)"
  out=$(docker exec "$NAME" sh -c "$NESTED" 2>&1 || true)
  echo "$RUNTIME run $i: nested docker run printed '$out' $(since "$t0") s after docker run -d (load $(load))"
  echo "$RUNTIME run $i: $(stop)"

  cleanup; t0=$(now)
  docker run -d --pull=never --name "$NAME" -m 2g --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro "$IMAGE" >/dev/null
  read -r st secs < <(settle "$t0")
  echo "runc run $i: systemd $st after $secs s (load $(load)); failed units: $(docker exec "$NAME" systemctl --failed --no-legend --plain 2>/dev/null | awk '{print $1}' | xargs echo)"
  echo "runc run $i: $(stop)"
done
