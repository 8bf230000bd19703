#!/bin/bash
# bench/nested-bench.sh — nested RunCVM (upstream's "Docker + RunCVM in a RunCVM VM" example) with
# our own installer, as a user would set it up, and how long each step takes. Also integration case
# 47-nested-runcvm (the case runs this script, so the test and the figures cannot drift apart).
#   1. an outer VM of the system image (tests/it/images/build.sh system: systemd, docker.io) with
#      `-m 3g -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,3G` (overlay2 needs ext4, not the
#      virtiofs root) → `systemctl is-system-running` settles, the VM's dockerd answers;
#   2. inside it, the package every RunCVM VM has at /.runcvm/guest is installed to /opt/runcvm by
#      its installer (`runcvm-install-runtime --from /.runcvm/guest`: copies the tree, registers
#      the runtime in the VM's /etc/docker/daemon.json, reloads dockerd through systemd);
#   3. a busybox image is imported in the VM's Docker and `docker run --rm --runtime=runcvm -m 256m
#      --cpus 1` of it boots an inner VM (TCG inside TCG here: no KVM in the outer guest). The inner
#      workload must show a real VM: its kernel's boot_id differs from the outer VM's (a runc
#      container shares its host's kernel and boot_id), MemTotal is the inner ~256 MiB, not the
#      outer 3 GiB, and it has 1 CPU of the outer's 2. It also prints its guest uptime and its
#      kernel log's boot milestones and its RUNCVM_BOOT_TIMING phases (where the time goes).
# Prints one line per step with seconds and the host load, `nested-bench: PASS` at the end, then
# removes the outer VM. Exit 1 with the failing step's output if a step fails.
#
# Test-side speed settings (measured in README's Benchmarks, nested-bench row): the outer VM gets
# a larger TCG translation cache (RUNCVM_TCG_TB_SIZE=$OUTER_TB_SIZE, MiB), since it translates the
# inner QEMU, its generated code and the whole outer system; the inner VM gets 1 vCPU.
#
#   bench/nested-bench.sh
#   bench/nested-bench.sh --swarm-mesh
#
# --swarm-mesh (also integration case 97-swarm-mesh): Swarm's ingress routing mesh and VIP
# endpoint mode with a RunCVM task, on a node whose kernel has IPVS (the outer VM's; this host's
# has none). Steps 1-2 as above, but the outer
# VM (the "node") is on a docker network the script creates, and the installer also gets
# --default-runtime (service tasks cannot choose a runtime). Then, in the node: `docker swarm
# init`, the busybox import, an attachable overlay network, a runc client on it, and `docker
# service create` of one busybox httpd replica (page: "mesh-ok <task hostname>") with `--publish
# published=8080,target=80` (ingress mode: the routing mesh) in the default VIP endpoint mode. The
# task must be a VM (runtime runcvm, boot_id not the node's). Checks, each PASS/FAIL with seconds:
#   (a) routing mesh from outside the node: a runc container on the host, on the node's network,
#       fetches http://<node IP>:8080/;
#   (b) routing mesh inside the node: http://127.0.0.1:8080/;
#   (c) VIP from the runc client on the overlay: http://<service name>/;
#   (d) VIP from inside the task's VM (`docker exec` into the task): http://<service name>/.
# Also prints what the service name and tasks.<name> resolve to inside the task's VM, the VIP, and
# IPVS/iptables state of the task's network namespace when (a) or (d) fails. Exit 1 if any fails.
# Env: RUNCVM_BENCH_RUNTIME (default runcvm): the host runtime of the outer VM.
#      RUNCVM_BENCH_LABELS: extra `key=value` labels (space-separated) for the outer VM.
#      NESTED_OUTER_TB_SIZE (512), NESTED_OUTER_CPUS (all), NESTED_INNER_CPUS (1),
#      NESTED_INNER_TB_SIZE (the default), NESTED_INNER_APPEND (none): the settings above, to
#      measure others.
set -euo pipefail

RUNTIME=${RUNCVM_BENCH_RUNTIME:-runcvm} IMAGE=runcvm-test/system
OUTER_TB_SIZE=${NESTED_OUTER_TB_SIZE-512} OUTER_CPUS=${NESTED_OUTER_CPUS-}
INNER_CPUS=${NESTED_INNER_CPUS-1} INNER_TB_SIZE=${NESTED_INNER_TB_SIZE-} INNER_APPEND=${NESTED_INNER_APPEND-}
MESH=
case ${1:-} in -h|--help) sed -n '2,47p' "$0"; exit 0 ;; --swarm-mesh) MESH=1 ;; '') ;; *) echo "unknown argument $1" >&2; exit 2 ;; esac
docker image inspect "$IMAGE" >/dev/null 2>&1 || bash "$(dirname "$0")/../tests/it/images/build.sh" system

now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc -l)"; }
load() { cut -d' ' -f1 /proc/loadavg; }
NAME=runcvm-bench-nested-$$ poll=
cleanup() {
  [ -z "$poll" ] || kill "$poll" 2>/dev/null || true
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  [ -z "$MESH" ] || { docker rm -f "$NAME-client" >/dev/null 2>&1; docker network rm "$NAME-net" >/dev/null 2>&1; } || true
}
trap cleanup EXIT
trap 'exit 143' TERM INT
die() { echo "nested-bench: FAIL: $*" >&2; exit 1; }

labels=()
for l in ${RUNCVM_BENCH_LABELS:-}; do labels+=(--label "$l"); done
outer=(-m 3g -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,3G)
[ -z "$OUTER_TB_SIZE" ] || outer+=(-e "RUNCVM_TCG_TB_SIZE=$OUTER_TB_SIZE")
[ -z "$OUTER_CPUS" ] || outer+=(--cpus "$OUTER_CPUS")
[ -z "$MESH" ] || outer+=(--network "$NAME-net")
inner=(-m 256m -e RUNCVM_BOOT_TIMING=1)
[ -z "$INNER_CPUS" ] || inner+=(--cpus "$INNER_CPUS")
[ -z "$INNER_TB_SIZE" ] || inner+=(-e "RUNCVM_TCG_TB_SIZE=$INNER_TB_SIZE")
[ -z "$INNER_APPEND" ] || inner+=(-e "RUNCVM_KERNEL_APPEND=$INNER_APPEND")

echo "nested-bench: runtime $RUNTIME, $IMAGE; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nested-bench: outer ${outer[*]}; inner ${inner[*]}"
[ -z "$MESH" ] || docker network create "$NAME-net" >/dev/null
t0=$(now)
docker run -d --pull=never --runtime="$RUNTIME" --name "$NAME" "${labels[@]}" "${outer[@]}" "$IMAGE" >/dev/null
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
  --from /.runcvm/guest --yes --quiet ${MESH:+--default-runtime} 2>&1) || die "installer in the VM failed: $out"
rts=$(docker exec "$NAME" docker info --format '{{json .Runtimes}}')
case $rts in *'"runcvm":{"path":"/opt/runcvm/scripts/runcvm-runtime"}'*) ;; *) die "runtime not registered in the VM: $rts" ;; esac
echo "install in the VM: /opt/runcvm + daemon.json + dockerd reload in $(since "$t1") s (load $(load))"

IMPORT='set -e; d=$(mktemp -d); chmod 755 $d; mkdir -p $d/bin $d/tmp; chmod 1777 $d/tmp
cp /.runcvm/guest/usr/bin/busybox $d/bin/busybox
for a in $($d/bin/busybox --list); do [ -e $d/bin/$a ] || ln -s busybox $d/bin/$a; done
tar -C $d -c . | docker import -c "ENV PATH=/bin" - bb >/dev/null; rm -rf $d'
docker exec "$NAME" sh -c "$IMPORT" || die "importing busybox in the VM failed"
outer_boot=$(docker exec "$NAME" cat /proc/sys/kernel/random/boot_id)
[ -z "$MESH" ] || { source "$(dirname "$0")/nested-mesh.sh"; exit "$mesh_rc"; }

t2=$(now)
# When the inner QEMU process appears in the outer VM (the container side's work before it).
( while sleep 3; do
    if docker exec "$NAME" pgrep -f qemu-system >/dev/null 2>&1; then echo "inner VM: QEMU running after $(since "$t2") s (load $(load))"; break; fi
    [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || break
  done ) &
poll=$!
out=$(docker exec "$NAME" docker run --rm --pull=never --runtime=runcvm "${inner[@]}" bb sh -c '
  echo inner-vm-ok; cat /proc/sys/kernel/random/boot_id; grep MemTotal /proc/meminfo; nproc; cut -d" " -f1 /proc/uptime
  dmesg | grep -E "Linux version|smpboot: Total|Freeing unused kernel image|Trying to unpack|Run .* as init|virtio_net|virtiofs" | grep -v "ommand line" | head -12
  sed "s/^/timing /" /.runcvm/timing.log 2>/dev/null' 2>&1) \
  || die "inner docker run failed: $out"
el=$(since "$t2")
kill "$poll" 2>/dev/null || true
line() { printf '%s\n' "$out" | sed -n "$1p"; }
mem=$(line 3 | awk '/^MemTotal:/ { print $2 }')
[ "$(line 1)" = inner-vm-ok ] || die "inner workload output unexpected: $out"
[ -n "$(line 2)" ] && [ "$(line 2)" != "$outer_boot" ] || die "inner boot_id $(line 2) is the outer VM's ($outer_boot): no inner kernel: $out"
[ -n "$mem" ] && [ "$mem" -gt 150000 ] && [ "$mem" -lt 300000 ] || die "inner MemTotal not that of -m 256m: $out"
[ -z "$INNER_CPUS" ] || [ "$(line 4)" = "$INNER_CPUS" ] || die "inner nproc $(line 4), not --cpus $INNER_CPUS: $out"
echo "inner VM: docker run --runtime=runcvm ${inner[*]} → output after $el s (inner guest uptime $(line 5) s, MemTotal $mem kB, $(line 4) CPU; load $(load))"
printf '%s\n' "$out" | sed -n '6,$p' | grep -v '^timing ' | sed 's/^/  inner kernel log: /'
# RUNCVM_BOOT_TIMING: the inner container side's phases (outer VM's clock, from the first one) and
# the inner VM init's (inner guest uptime).
printf '%s\n' "$out" | awk '/^timing / && $3 > 1000000 { if (!b) b = $3; printf "  inner phase: %s +%.1f s (container side)\n", $2, $3 - b; next }
  /^timing / { printf "  inner phase: %s at uptime %s s (VM init)\n", $2, $3 }'
echo "whole run: $(since "$t0") s"
echo "nested-bench: PASS"
