#!/bin/bash
# bench/swarm-bench.sh — Docker Swarm services whose tasks are RunCVM VMs, on a second dockerd this
# script starts itself, with timings. A test as well as a benchmark: any failed check ends it with
# exit status 1 (after cleanup). Needs root, dockerd, the runcvm-test/bb image and a registered
# RunCVM runtime on the host's dockerd (only to find its path).
#
#   bash bench/swarm-bench.sh            # runtime `runcvm`
#   RUNCVM_TEST_RUNTIME=runcvm-n bash bench/swarm-bench.sh
#
# The second dockerd (tests/dockerd2.sh) never touches the host daemon's state or network:
# - its own network namespace (veth pair inside it, 10.254.77.1/24 as the swarm address), so its
#   bridges, overlay/ingress namespaces, docker_gwbridge and iptables chains live and die there;
# - its own mount namespace (unshare, slave propagation), so its overlay2 and netns mounts never
#   show on the host and vanish with its processes;
# - its own --data-root, --exec-root (and so its own managed containerd), -H unix socket,
#   --pidfile, --config-file (the host's /etc/docker/daemon.json is not read), cgroup-parent;
# - daemon.json: `runtimes.runcvm.path` = the runtime under test and `default-runtime: "runcvm"`,
#   exactly what `runcvm-install-runtime --default-runtime` writes: service tasks cannot name a
#   runtime, so this is how a node runs them as VMs.
# Cleanup (also on failure or Ctrl-C): services and the client removed, swarm left, dockerd
# stopped (SIGTERM; it stops its containers and containerd), the netns deleted, the cgroup-parent
# directories removed, the temp dir deleted. Nothing is left in the host's iptables (never used).
#
# What it proves and times: swarm init; image import (`docker save | docker load`); a replicated
# busybox httpd service (2 VMs) on an attachable overlay network, answering a runc client on that
# network by task IP, by `tasks.web` and by service name (endpoint mode dnsrr); host-mode published
# ports answering; `docker service scale` to 3; `kill -9` of one task's QEMU → the task is
# replaced and the service answers with 3 VMs again; `docker service update` (rolling, every task
# replaced); `docker service rm` (every VM gone). The ingress routing mesh and VIP endpoint mode
# need IPVS in the kernel: when /proc/sys/net/ipv4/vs is missing (this development host: no
# CONFIG_IP_VS, no modules) that check is reported as SKIP with the reason, never as a pass.
set -uo pipefail

RUNTIME=${RUNCVM_TEST_RUNTIME:-runcvm}
IMAGE=runcvm-test/bb
NS=runcvm-swarm-$$
ADDR=10.254.77.1
T=$(mktemp -d /tmp/runcvm-swarm.XXXXXX)
SOCK=$T/docker.sock
CGPARENT=/runcvm-swarm-$$
HTTPD='mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'
D() { docker -H "unix://$SOCK" "$@"; }
ms() { date +%s%3N; }
say() { echo "swarm-bench: $*"; }
fail() { say "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { say "needs root"; exit 2; }
source "$(dirname "$0")/../tests/dockerd2.sh"   # dockerd2_up / dockerd2_cleanup

RT_PATH=$(docker info --format '{{json .Runtimes}}' | RT=$RUNTIME python3 -c 'import json,os,sys; print(json.load(sys.stdin).get(os.environ["RT"],{}).get("path",""))')
[ -n "$RT_PATH" ] || { say "the host dockerd has no runtime '$RUNTIME'"; exit 2; }
docker image inspect "$IMAGE" >/dev/null 2>&1 || { say "image $IMAGE missing: bash tests/it/images/build.sh bb"; exit 2; }

cleanup() {
  set +e
  if [ -S "$SOCK" ]; then
    D service rm web >/dev/null 2>&1
    D rm -f rs-client >/dev/null 2>&1
    for _ in $(seq 1 60); do [ -z "$(D ps -aq 2>/dev/null)" ] && break; sleep 0.5; done
    D swarm leave --force >/dev/null 2>&1
  fi
  dockerd2_cleanup "$T" "$NS" "$CGPARENT"
  say "cleaned up (netns $NS, $T, cgroup $CGPARENT)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. the second dockerd
T0=$(ms)
ip netns add "$NS" || fail "ip netns add"
ip -n "$NS" link set lo up
ip -n "$NS" link add sw0 type veth peer name sw1
ip -n "$NS" addr add "$ADDR/24" dev sw0
ip -n "$NS" link set sw0 up && ip -n "$NS" link set sw1 up
cat > "$T/daemon.json" <<EOF
{
  "runtimes": { "runcvm": { "path": "$RT_PATH" } },
  "default-runtime": "runcvm",
  "bridge": "none",
  "cgroup-parent": "$CGPARENT"
}
EOF
dockerd2_up "$T" "$NS" || fail "second dockerd did not come up"
[ "$(D info --format '{{.DefaultRuntime}}')" = runcvm ] || fail "default runtime is not runcvm"
say "dockerd up: $(( $(ms) - T0 )) ms (runcvm = $RT_PATH)"

T1=$(ms)
D swarm init --advertise-addr "$ADDR" >/dev/null || fail "swarm init"
say "swarm init: $(( $(ms) - T1 )) ms"
T1=$(ms)
docker save "$IMAGE" | D load >/dev/null || fail "image import"
say "image import (docker save | load): $(( $(ms) - T1 )) ms"
D network create -d overlay --attachable rs-net >/dev/null || fail "overlay network"
D run -d --runtime runc --name rs-client --network rs-net "$IMAGE" sleep 3600 >/dev/null || fail "runc client"

# Helpers over the service's tasks.
task_ids() { D ps -q --no-trunc --filter label=com.docker.swarm.service.name=web --filter status=running; }
# Every running task answers the client on its overlay IP with its own hostname (= short id).
all_answer() { # <count>
  local ids n=0 id ip body
  ids=$(task_ids)
  [ "$(echo "$ids" | grep -c .)" = "$1" ] || return 1
  for id in $ids; do
    ip=$(D inspect -f '{{(index .NetworkSettings.Networks "rs-net").IPAddress}}' "$id") || return 1
    body=$(D exec rs-client timeout 2 wget -qO- "http://$ip:8080/" 2>/dev/null) || return 1
    [ "$body" = "${id:0:12}" ] || return 1
    n=$((n + 1))
  done
  [ "$n" = "$1" ]
}
wait_for() { # <timeout s> <what> <cmd...>: polls every 0.5 s, prints the time
  local limit=$1 what=$2 t=$(ms); shift 2
  until "$@"; do
    (( $(ms) - t > limit * 1000 )) && { D service ps web --no-trunc 2>&1 | tail -8; fail "$what: not within ${limit}s"; }
    sleep 0.5
  done
  say "$what: $(( $(ms) - t )) ms"
}
running() { [ "$(D service ls --filter name=web --format '{{.Replicas}}')" = "$1/$1" ]; }

# 2. a replicated service of 2 VMs
T1=$(ms)
D service create -d --name web --replicas 2 --network rs-net --endpoint-mode dnsrr \
  --publish mode=host,target=8080 --limit-memory 256m "$IMAGE" sh -c "$HTTPD" >/dev/null 2>&1 || fail "service create"
wait_for 120 "create: 2/2 tasks running" running 2
wait_for 120 "create: 2 VMs answering on the overlay (after running)" all_answer 2
say "create → 2 VMs answering: $(( $(ms) - T1 )) ms"
for id in $(task_ids); do
  [ "$(D inspect -f '{{.HostConfig.Runtime}}' "$id")" = runcvm ] || fail "task $id does not run under runcvm"
done
by_name() { local b; b=$(D exec rs-client timeout 2 wget -qO- "http://$1:8080/" 2>/dev/null) && task_ids | grep -q "^$b"; }
by_name tasks.web || fail "tasks.web does not answer with one of the task ids"
by_name web || fail "service name web (dnsrr) does not answer with one of the task ids"
say "service name: web and tasks.web answer from the runc client on the overlay"
for id in $(task_ids); do
  port=$(D inspect -f '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}' "$id")
  body=$(nsenter --net="/run/netns/$NS" wget -qO- -T 3 "http://$ADDR:$port/") || fail "host-mode published port $port of ${id:0:12} does not answer"
  [ "$body" = "${id:0:12}" ] || fail "host-mode port $port answered '$body', not ${id:0:12}"
done
say "host-mode published ports answer with their task's id"
if [ -d /proc/sys/net/ipv4/vs ]; then
  D service update -d --publish-add published=18080,target=8080 web >/dev/null 2>&1
  wait_for 120 "routing mesh: published=18080 answers" sh -c "nsenter --net=/run/netns/$NS wget -qO- -T 2 http://$ADDR:18080/ >/dev/null"
  wait_for 180 "after the routing-mesh update: 2 VMs answering" all_answer 2
else
  say "SKIP routing mesh and VIP endpoint mode: this kernel has no IPVS (/proc/sys/net/ipv4/vs missing), which Docker's ingress network and service VIPs need whatever the runtime"
fi

# 3. scale up
T1=$(ms)
D service scale -d web=3 >/dev/null 2>&1 || fail "service scale"
wait_for 120 "scale 2→3: 3/3 running" running 3
wait_for 120 "scale 2→3: 3 VMs answering" all_answer 3
say "scale 2→3 → 3 answering: $(( $(ms) - T1 )) ms"

# 4. kill -9 one task's QEMU: swarm replaces the task
victim=$(task_ids | head -1)
vpid=$(D inspect -f '{{.State.Pid}}' "$victim")
qpid=$(ps -e -o pid=,ppid=,comm= | awk -v root="$vpid" '
  { pid[NR]=$1; ppid[NR]=$2; comm[NR]=$3 }
  END { anc[root]=1; changed=1
        while (changed) { changed=0; for (i in pid) if ((ppid[i] in anc) && !(pid[i] in anc)) { anc[pid[i]]=1; changed=1 } }
        for (i in pid) if ((pid[i] in anc) && comm[i] ~ /^qemu-system/) print pid[i] }' | head -1)
[ -n "$qpid" ] || fail "no QEMU process under task ${victim:0:12} (pid $vpid)"
T1=$(ms)
kill -9 "$qpid"
gone() { ! task_ids | grep -q "^$victim"; }
wait_for 60 "kill -9 QEMU ($qpid): the task's container ends" gone
wait_for 180 "kill -9 QEMU: 3 VMs answering again" all_answer 3
task_ids | grep -q "^$victim" && fail "the killed task is still listed as running"
say "kill -9 QEMU → replaced, 3 answering: $(( $(ms) - T1 )) ms"
say "task history: $(D service ps web --format '{{.Name}} {{.CurrentState}} {{.Error}}' | tr '\n' ';')"

# 5. rolling update: every task replaced by one with the new env
old=$(task_ids | sort)
T1=$(ms)
D service update -d --env-add RS_GEN=2 web >/dev/null 2>&1 || fail "service update"
updated() {
  local ids
  ids=$(task_ids | sort)
  [ -z "$(comm -12 <(echo "$old") <(echo "$ids"))" ] && all_answer 3 || return 1
  for id in $ids; do D inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$id" | grep -qx RS_GEN=2 || return 1; done
}
wait_for 300 "update (rolling, parallelism 1): 3 new VMs answering" updated
say "update → all 3 replaced and answering: $(( $(ms) - T1 )) ms"

# 6. rm
T1=$(ms)
D service rm web >/dev/null || fail "service rm"
none_left() { [ -z "$(D ps -aq --filter label=com.docker.swarm.service.name=web)" ]; }
wait_for 120 "service rm: every task container gone" none_left
say "service rm → no task containers: $(( $(ms) - T1 )) ms"
say "total: $(( $(ms) - T0 )) ms (load: $(cut -d' ' -f1-3 /proc/loadavg))"
say "PASS"
