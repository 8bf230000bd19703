#!/bin/bash
# bench/load.sh [N] [EXECS]: N VM containers started at once (default 8) on one user network, each
# running EXECS `docker exec` calls (default 10) while it pings a peer VM, then all removed.
# Prints the start-time spread (docker run -d returned → first exec answered), exec latency
# (median / p90 / max over all execs), failures, and what is left on the host afterwards:
#  - processes whose cgroup names one of our containers, mounts naming one of them (must be none);
#  - a before/after diff of `ip -o link`, `iptables-save`, `nft list ruleset` (host netns), /proc/mounts,
#    unix sockets, /tmp, /run, /dev/shm. On a shared machine other users' containers change these
#    too: lines are printed so a person can attribute them; the script fails only on the first kind.
# Env: RUNTIME (default runcvm), IMAGE (default runcvm-test/bb). Cleans up after itself.
set -uo pipefail
n=${1:-8}
execs=${2:-10}
runtime=${RUNTIME:-runcvm}
image=${IMAGE:-runcvm-test/bb}
tag=load-$$
work=$(mktemp -d /tmp/load-bench.XXXXXX)
cleanup() { docker rm -f $(docker ps -aq --filter "label=$tag") >/dev/null 2>&1; docker network rm "$tag" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

snapshot() { # DIR
  mkdir -p "$1"
  ip -o link | sed 's/^[0-9]*: //; s/ link\/.*//' | sort >"$1/links"
  iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' | sort >"$1/iptables"
  nft list ruleset 2>/dev/null | sort >"$1/nft"
  cut -d' ' -f1-3 /proc/mounts | sort >"$1/mounts"
  ss -xa 2>/dev/null | awk 'NR > 1 { print $5 }' | grep -v '^\*$' | sort -u >"$1/sockets"
  ls -A /tmp /run /dev/shm 2>/dev/null | grep -v "^$(basename "$work")\$" | sort >"$1/files"
}

ms() { date +%s%3N; }
echo "load: $n VMs x $execs execs, runtime $runtime, image $image; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
snapshot "$work/before"
docker network create --label "$tag" "$tag" >/dev/null || exit 1

t0=$(ms)
for ((i = 1; i <= n; i++)); do
  ( docker run -d --pull=never --runtime="$runtime" --label "$tag" --network "$tag" --name "$tag-$i" "$image" \
      sh -c 'echo booted; exec sleep 100000' >/dev/null 2>"$work/run-$i.err"; echo "$? $(ms)" >"$work/run-$i" ) &
done
wait
ids=$(docker ps -aq --no-trunc --filter "label=$tag")

# Per VM: wait for the first exec (= ready), then EXECS execs, each timed, while a ping to the
# next VM runs in the background of the first exec.
for ((i = 1; i <= n; i++)); do
  (
    c=$tag-$i peer=$tag-$(( i % n + 1 ))
    for ((w = 0; w < 600; w++)); do docker exec "$c" true >/dev/null 2>&1 && break; sleep 0.5; done
    echo "$(ms)" >"$work/ready-$i"
    docker exec -d "$c" sh -c "ping -q -c 1000 -i 0.2 $peer >/tmp/ping.log 2>&1" >/dev/null 2>&1
    for ((k = 1; k <= execs; k++)); do
      s=$(ms); out=$(docker exec "$c" echo "x$k" 2>&1); rc=$?
      [ "$rc" = 0 ] && [ "$out" = "x$k" ] && echo "$(( $(ms) - s ))" >>"$work/lat-$i" || echo "$c exec $k: rc=$rc $out" >>"$work/fail"
    done
    docker exec "$c" sh -c "ping -c 3 -W 2 $peer | grep -o '[0-9]* packets received'" >"$work/ping-$i" 2>&1
  ) &
done
wait
runfail=$(cat "$work"/run-[0-9]* | awk '$1 != 0' | wc -l)
readys=$(for ((i = 1; i <= n; i++)); do [ -s "$work/ready-$i" ] && echo $(( $(cat "$work/ready-$i") - t0 )); done | sort -n)
lat=$(cat "$work"/lat-* 2>/dev/null | sort -n)
cnt=$(echo "$lat" | grep -c .)
pct() { echo "$lat" | awk -v p="$1" -v c="$cnt" 'NR == int((c - 1) * p) + 1'; }
echo "docker run -d failures: $runfail; ready (first exec answered) after: min $(echo "$readys" | head -1) ms, max $(echo "$readys" | tail -1) ms (spread $(( $(echo "$readys" | tail -1) - $(echo "$readys" | head -1) )) ms)"
echo "execs: $cnt ok, $(cat "$work/fail" 2>/dev/null | wc -l) failed; latency median $(pct 0.5) ms, p90 $(pct 0.9) ms, max $(echo "$lat" | tail -1) ms"
[ -s "$work/fail" ] && sed 's/^/  /' "$work/fail"
echo "ping (3) to the peer VM after the execs, per VM: $(cat "$work"/ping-* | tr '\n' ' ')"
echo "load at the end of the exec phase: $(cut -d' ' -f1-3 /proc/loadavg)"

t1=$(ms)
docker rm -f $(docker ps -aq --filter "label=$tag") >/dev/null
docker network rm "$tag" >/dev/null
echo "removed $n containers + network in $(( $(ms) - t1 )) ms"
sleep 2
snapshot "$work/after"

leak=0
for id in $ids; do
  p=$(grep -l "$id" /proc/[0-9]*/cgroup 2>/dev/null | wc -l)
  m=$(grep -c "$id" /proc/mounts)
  if [ "$p" != 0 ] || [ "$m" != 0 ]; then echo "LEFT: container ${id:0:12}: $p processes, $m mounts"; leak=1; fi
done
for f in links iptables nft mounts sockets files; do
  d=$(diff "$work/before/$f" "$work/after/$f" | grep '^[<>]')
  echo "host $f: $(echo "$d" | grep -c '^>') added, $(echo "$d" | grep -c '^<') removed (other users' containers count too)"
  [ -n "$d" ] && echo "$d" | head -8 | sed 's/^/  /'
done
[ "$leak" = 0 ] && [ "$runfail" = 0 ] && [ ! -s "$work/fail" ]
