#!/bin/bash
# bench/net-bench.sh — TCP throughput VM ↔ runc container over a user-defined Docker network
# iperf3 server in a RunCVM VM, iperf3 client in a runc container, both directions
# (runc→VM, then -R VM→runc), without and with vhost-net (RUNCVM_QEMU_NET_VHOST=1, only when the
# host has /dev/vhost-net). No target: the numbers are reported, not asserted. Traffic stays on
# the network this script creates. Image: runcvm-test/net (tests/it/images/build.sh net).
#
#   bench/net-bench.sh [seconds per direction, default 10]
# Env: RUNTIME (default runcvm), IMAGE (default runcvm-test/net).
set -euo pipefail
SECS=${1:-10}
RUNTIME=${RUNTIME:-runcvm}
IMAGE=${IMAGE:-runcvm-test/net}
TAG=runcvm-bench-net-$$
LABEL=(--label runcvm-bench=1 --label "runcvm-bench.run=$$")

cleanup() {
  docker rm -f "$TAG-srv" "$TAG-cli" >/dev/null 2>&1 || true
  docker network rm "$TAG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "missing $IMAGE: bash tests/it/images/build.sh net" >&2; exit 1; }
docker network create "${LABEL[@]}" "$TAG" >/dev/null
docker run -d --pull=never "${LABEL[@]}" --name "$TAG-cli" --network "$TAG" "$IMAGE" sleep 100000 >/dev/null

# Mbit/s from iperf3 -J (receiver side sum).
mbps() { sed -n '/"sum_received"/,/}/p' | grep -m1 '"bits_per_second"' | awk -F: '{gsub(/[ \t,]/, "", $2); printf "%.0f", $2/1e6}'; }

run() { # <label> [docker run env args...]
  local what=$1; shift
  docker rm -f "$TAG-srv" >/dev/null 2>&1 || true
  docker run -d --pull=never "${LABEL[@]}" --runtime="$RUNTIME" --name "$TAG-srv" --network "$TAG" "$@" "$IMAGE" iperf3 -s >/dev/null
  local t0=$SECONDS
  until docker exec "$TAG-cli" iperf3 -c "$TAG-srv" -t 1 >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -gt 180 ] && { echo "$what: server not reachable after 180 s" >&2; docker logs "$TAG-srv" | tail -5 >&2; return 1; }
    sleep 1
  done
  local up down
  up=$(docker exec "$TAG-cli" iperf3 -c "$TAG-srv" -t "$SECS" -J | mbps)
  down=$(docker exec "$TAG-cli" iperf3 -c "$TAG-srv" -t "$SECS" -R -J | mbps)
  printf '%-28s runc→%s %6s Mbit/s   %s→runc %6s Mbit/s\n' "$what" "$RUNTIME" "$up" "$RUNTIME" "$down"
}

echo "iperf3 ${SECS}s per direction, runtime=$RUNTIME, load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "virtio-net (tap, no vhost)"
if [ -c /dev/vhost-net ]; then
  run "virtio-net + vhost-net" -e RUNCVM_QEMU_NET_VHOST=1
else
  echo "virtio-net + vhost-net       skipped: no /dev/vhost-net on this host (modprobe vhost_net)"
fi
