# bench/nested-mesh.sh — the --swarm-mesh mode of bench/nested-bench.sh (sourced by it after its
# steps 1-2 and the busybox import `bb`, with $NAME the node, $outer_boot its boot_id and its
# helpers; sets mesh_rc).
# Not run on its own.
N() { docker exec "$NAME" "$@"; }
IP=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$NAME-net\").IPAddress}}" "$NAME")
[ "$(N docker info --format '{{.DefaultRuntime}}')" = runcvm ] || die "the node's default runtime is not runcvm after --default-runtime"
t1=$(now)
out=$(N docker swarm init --advertise-addr "$IP" 2>&1) || die "swarm init: $out"
N docker network create -d overlay --attachable mesh-net >/dev/null || die "overlay network"
# Attaching a container to a new attachable overlay can miss the manager's deadline on a slow
# (TCG) node ("attaching to network failed ... context deadline exceeded"): retried.
for i in 1 2 3 4 5 6 7 8; do
  out=$(N docker run -d --pull=never --runtime=runc --name mesh-client --network mesh-net bb sleep 36000 2>&1) && break
  echo "node: runc client on mesh-net, attempt $i: $out" >&2
  N docker rm -f mesh-client >/dev/null 2>&1 || true
  [ "$i" != 8 ] || die "runc client in the node: $out"
  sleep 5
done
echo "node: swarm init ($IP), overlay mesh-net, runc client on it in $(since "$t1") s (load $(load))"

HTTPD='mkdir -p /tmp/w && echo "mesh-ok $(hostname)" > /tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w'
t2=$(now)
N docker service create -d --quiet --name web --network mesh-net --publish published=8080,target=80 \
  --limit-memory 256m --limit-cpu 1 bb sh -c "$HTTPD" >/dev/null || die "service create"
# Ready: the task's httpd answers the runc client on its own overlay address.
task= page= tip= seen=
while :; do
  task=$(N docker ps -q --filter label=com.docker.swarm.service.name=web --filter status=running | head -1)
  if [ -n "$task" ]; then
    [ -n "$seen" ] || { seen=1; echo "task $task: container running after $(since "$t2") s (load $(load))"; }
    tip=$(N docker inspect -f '{{(index .NetworkSettings.Networks "mesh-net").IPAddress}}' "$task" 2>/dev/null || true)
    [ -z "$tip" ] || page=$(N docker exec mesh-client timeout 10 wget -qO- "http://$tip/" 2>/dev/null || true)
    case $page in "mesh-ok "*) break ;; esac
  fi
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || die "node exited"
  (( $(printf '%.0f' "$(since "$t2")") < 1500 )) || { N docker service ps --no-trunc web >&2; die "task not answering on $tip within 1500 s"; }
  sleep 5
done
echo "task ${task}: answers on its overlay address $tip after $(since "$t2") s from service create: $page (load $(load))"
[ "$(N docker inspect -f '{{.HostConfig.Runtime}}' "$task")" = runcvm ] || die "task $task is not run by runcvm"
# docker top needs a PID column in ps's output ("Couldn't find PID field" otherwise).
procs=$(N docker top "$task" -o pid,comm 2>&1 | tail -n +2 | awk '{ print $2 }' | sort -u | tr '\n' ' ') || true
case $procs in *qemu-system*) ;; *) die "task $task has no QEMU process: $procs" ;; esac
task_boot=$(N docker exec "$task" cat /proc/sys/kernel/random/boot_id 2>&1) || die "docker exec into the task: $task_boot"
[ -n "$task_boot" ] && [ "$task_boot" != "$outer_boot" ] || die "task boot_id '$task_boot' is the node's: not a VM"
echo "task is a VM: runtime runcvm, processes $procs; boot_id $task_boot (node: $outer_boot), MemTotal $(N docker exec "$task" awk '/MemTotal/ {print $2}' /proc/meminfo) kB"
# The node's kernel has IPVS as a module; dockerd has it loaded once the ingress is set up.
ipvs=$(N sh -c '[ -d /proc/sys/net/ipv4/vs ] && grep -o "^ip_vs[a-z_]*" /proc/modules | tr "\n" " "' 2>/dev/null) || die "the node's kernel has no IPVS (/proc/sys/net/ipv4/vs missing)"
echo "node kernel: IPVS loaded ($ipvs)"
vip=$(N docker service inspect -f '{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}' web) || true
echo "service web: VIPs $vip (ingress, mesh-net)"
echo "in the task's VM: resolv.conf '$(N docker exec "$task" grep nameserver /etc/resolv.conf | tr '\n' ' ')'"
for q in web tasks.web; do
  echo "in the task's VM: nslookup $q → $(N docker exec "$task" timeout 10 nslookup "$q" 2>&1 | grep -v '^$' | tr '\n\t' '  ' | tr -s ' ')"
done

want="mesh-ok ${task:0:12}"
mesh_rc=0 results=
check() { # <label> <timeout s> <cmd...>: retries until the page is the task's; sets ok (1/0)
  local label=$1 limit=$2 t=$(now) got rc; shift 2
  while :; do
    got=$("$@" 2>&1) && rc=0 || rc=$?
    [ "$got" = "$want" ] && { echo "$label: PASS after $(since "$t") s: $got (load $(load))"; results+=" PASS"; ok=1; return 0; }
    (( $(printf '%.0f' "$(since "$t")") < limit )) || break
    sleep 3
  done
  echo "$label: FAIL after $(since "$t") s: exit $rc, output '$(printf '%s' "$got" | tr '\n' ' ' | cut -c1-200)' (load $(load))"
  results+=" FAIL"; mesh_rc=1; ok=0
}
diag() {
  local pid; pid=$(N docker inspect -f '{{.State.Pid}}' "$task") || true
  echo "  task's netns (container side, pid $pid): $(N nsenter -t "$pid" -n ip -br addr 2>&1 | tr -s ' ' | tr '\n' ';')"
  N nsenter -t "$pid" -n sh -c 'cat /proc/net/ip_vs; iptables -t mangle -S; iptables -t nat -S' 2>&1 | sed 's/^/  task netns: /' || true
  N docker exec "$task" sh -c 'ip addr; ip route; ip neigh' 2>&1 | sed 's/^/  task VM: /' || true
}
docker run -d --pull=never --runtime=runc --name "$NAME-client" --network "$NAME-net" runcvm-test/bb sleep 36000 >/dev/null
check "(a) routing mesh: runc container on the host → http://$IP:8080/" 120 \
  docker exec "$NAME-client" timeout 10 wget -qO- "http://$IP:8080/"
[ "$ok" = 1 ] || diag
check "(b) routing mesh in the node → http://127.0.0.1:8080/" 60 \
  N timeout 10 /.runcvm/guest/usr/bin/busybox wget -qO- http://127.0.0.1:8080/
check "(c) VIP: runc container on the overlay in the node → http://web/" 60 \
  N docker exec mesh-client timeout 10 wget -qO- http://web/
check "(d) VIP: inside the task's VM → http://web/" 60 \
  N docker exec "$task" timeout 10 wget -qO- http://web/
[ "$ok" = 1 ] || diag
echo "in the task's VM, for comparison (no VIP): http://tasks.web/ → '$(N docker exec "$task" timeout 10 wget -qO- http://tasks.web/ 2>&1 | tr '\n' ' ')'"
echo "whole run: $(since "$t0") s"
echo "nested-bench --swarm-mesh: (a)(b)(c)(d):$results"
[ "$mesh_rc" = 0 ] && echo "nested-bench --swarm-mesh: PASS" || echo "nested-bench --swarm-mesh: FAIL"
