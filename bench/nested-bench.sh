#!/bin/bash
# bench/nested-bench.sh — nested RunCVM (upstream's "Docker + RunCVM in a RunCVM VM" example) with
# our own installer, as a user would set it up, and how long each step takes:
#   1. an outer VM of the system image (tests/it/images/build.sh system: systemd, docker.io) with
#      `-m 3g -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,3G` (overlay2 needs ext4, not the
#      virtiofs root) → `systemctl is-system-running` settles, the VM's dockerd answers;
#   2. inside it, the package every RunCVM VM has at /.runcvm/guest is installed to /opt/runcvm by
#      its installer (`runcvm-install-runtime --from /.runcvm/guest`: copies the tree, registers
#      the runtime in the VM's /etc/docker/daemon.json, reloads dockerd through systemd);
#   3. a busybox image is imported in the VM's Docker and `docker run --rm --runtime=runcvm -m 256m`
#      of it boots an inner VM (TCG inside TCG here: no KVM in the outer guest). The inner workload
#      prints its MemTotal (the inner VM's ~256 MiB, not the outer 3 GiB) and its guest uptime.
# Prints one line per step with seconds and the host load, then removes the outer VM. Exit 1 if a
# step fails (its output is printed).
#
#   bench/nested-bench.sh
# Env: RUNCVM_BENCH_RUNTIME (default runcvm): the host runtime of the outer VM.
set -euo pipefail

RUNTIME=${RUNCVM_BENCH_RUNTIME:-runcvm} IMAGE=runcvm-test/system
case ${1:-} in -h|--help) sed -n '2,18p' "$0"; exit 0 ;; '') ;; *) echo "unknown argument $1" >&2; exit 2 ;; esac
docker image inspect "$IMAGE" >/dev/null 2>&1 || bash "$(dirname "$0")/../tests/it/images/build.sh" system

now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc -l)"; }
load() { cut -d' ' -f1 /proc/loadavg; }
NAME=runcvm-bench-nested-$$
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
die() { echo "nested-bench: $*" >&2; exit 1; }

echo "nested-bench: runtime $RUNTIME, $IMAGE; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now)
docker run -d --pull=never --runtime="$RUNTIME" --name "$NAME" -m 3g \
  -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,3G "$IMAGE" >/dev/null
while :; do
  st=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
  case $st in running|degraded) break ;; esac
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || die "outer VM exited: $(docker logs "$NAME" 2>&1 | tail -20)"
  sleep 2
done
echo "outer VM: systemd $st after $(since "$t0") s (load $(load))"
until docker exec "$NAME" docker info >/dev/null 2>&1; do sleep 2; done
echo "outer VM: dockerd answers after $(since "$t0") s (load $(load))"

t1=$(now)
out=$(docker exec "$NAME" /.runcvm/guest/usr/bin/node /.runcvm/guest/scripts/runcvm-install-runtime \
  --from /.runcvm/guest --yes --quiet 2>&1) || die "installer in the VM failed: $out"
rts=$(docker exec "$NAME" docker info --format '{{json .Runtimes}}')
case $rts in *'"runcvm":{"path":"/opt/runcvm/scripts/runcvm-runtime"}'*) ;; *) die "runtime not registered in the VM: $rts" ;; esac
echo "install in the VM: /opt/runcvm + daemon.json + dockerd reload in $(since "$t1") s (load $(load))"

IMPORT='set -e; d=$(mktemp -d); chmod 755 $d; mkdir -p $d/bin $d/tmp; chmod 1777 $d/tmp
cp /.runcvm/guest/usr/bin/busybox $d/bin/busybox
for a in $($d/bin/busybox --list); do [ -e $d/bin/$a ] || ln -s busybox $d/bin/$a; done
tar -C $d -c . | docker import -c "ENV PATH=/bin" - bb >/dev/null; rm -rf $d'
docker exec "$NAME" sh -c "$IMPORT" || die "importing busybox in the VM failed"

t2=$(now)
out=$(docker exec "$NAME" docker run --rm --pull=never --runtime=runcvm -m 256m bb \
  sh -c 'echo inner-vm-ok; grep MemTotal /proc/meminfo; cut -d" " -f1 /proc/uptime' 2>&1) || die "inner docker run failed: $out"
mem=$(printf '%s\n' "$out" | awk '/^MemTotal:/ { print $2 }')
up=$(printf '%s\n' "$out" | sed -n 3p)
[ "$(printf '%s\n' "$out" | head -1)" = inner-vm-ok ] && [ -n "$mem" ] && [ "$mem" -lt 400000 ] || die "inner VM output unexpected: $out"
echo "inner VM: docker run --runtime=runcvm -m 256m → output after $(since "$t2") s (inner guest uptime $up s, MemTotal $mem kB; load $(load))"
echo "whole run: $(since "$t0") s"
