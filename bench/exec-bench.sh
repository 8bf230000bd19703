#!/bin/bash
# bench/exec-bench.sh — `docker exec C true` latency, RunCVM vs runc on the same image.
#
#   bench/exec-bench.sh [IMAGE] [N]     defaults: runcvm-test/bb, 20
#
# Starts one container per runtime (`sleep`), waits for the VM's first exec to succeed, then times
# N sequential `docker exec C true` each and prints the medians in ms. Removes its containers.
set -euo pipefail
IMAGE=${1:-runcvm-test/bb}
N=${2:-20}
tag=exec-bench-$$
cleanup() { docker rm -f "$tag-runcvm" "$tag-runc" >/dev/null 2>&1 || true; }
trap cleanup EXIT

docker run -d --pull=never --runtime=runcvm --name "$tag-runcvm" "$IMAGE" sleep 100000 >/dev/null
docker run -d --pull=never --runtime=runc --name "$tag-runc" "$IMAGE" sleep 100000 >/dev/null
docker exec "$tag-runcvm" true   # waits for the VM's sshd (readiness marker)

median_ms() {
  local c=$1 i s e
  for ((i = 0; i < N; i++)); do
    s=$(date +%s%N); docker exec "$c" true; e=$(date +%s%N)
    echo $(((e - s) / 1000000))
  done | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'
}
echo "docker exec C true, median of $N, image $IMAGE:"
echo "  runcvm: $(median_ms "$tag-runcvm") ms"
echo "  runc:   $(median_ms "$tag-runc") ms"
echo "  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
