#!/bin/bash
# tests/dockerd2.sh — a second dockerd that never touches the host daemon's state or network, for
# tests and benchmarks that must configure or restart a dockerd (bench/swarm-bench.sh,
# tests/it/83-dockerd-restart). Source it, or run it: `bash tests/dockerd2.sh up|down|cleanup DIR [NS]`.
#
# Everything lives under DIR (made by the caller, e.g. mktemp -d):
# - DIR/daemon.json: the caller's config (--config-file: the host's /etc/docker/daemon.json is not
#   read); DIR/data (--data-root), DIR/exec (--exec-root, and so its own managed containerd),
#   DIR/docker.sock (-H), DIR/docker.pid (--pidfile), DIR/dockerd.log;
# - DIR/mnt: a persistent mount namespace (slave propagation) bound to that file, so overlay2 and
#   netns mounts never show on the host, and a restarted dockerd finds the mounts of containers
#   that kept running (live-restore) in the same namespace as before;
# - network namespace NS (`ip netns`, lo up): its bridges and iptables chains live and die there.
# `down` stops dockerd with SIGTERM (what systemd does) and waits; `cleanup` also kills whatever is
# still running from DIR (containerd, shims, QEMU), deletes NS, the mount namespace and DIR.

# dockerd2_up DIR NS: start (or start again) dockerd; returns when its socket answers (60 s max).
dockerd2_up() {
  local d=$1 ns=$2 i
  [ -f "$d/daemon.json" ] || { echo "dockerd2: $d/daemon.json missing" >&2; return 1; }
  ip netns list | grep -qw -- "$ns" || { ip netns add "$ns" && ip -n "$ns" link set lo up; } || return 1
  if ! grep -q " $d/mnt " /proc/self/mountinfo; then
    touch "$d/mnt" && unshare --mount="$d/mnt" --propagation slave true || return 1
  fi
  nsenter --mount="$d/mnt" --net="/run/netns/$ns" -- setsid dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
    -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" >>"$d/dockerd.log" 2>&1 </dev/null &
  for i in $(seq 1 120); do
    docker -H "unix://$d/docker.sock" info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "dockerd2: dockerd did not answer in 60 s; last log lines:" >&2
  tail -20 "$d/dockerd.log" >&2
  return 1
}

# dockerd2_down DIR: SIGTERM to dockerd, wait until it is gone (SIGKILL after 60 s); prints the ms taken.
dockerd2_down() {
  local d=$1 pid t0 i
  pid=$(cat "$d/docker.pid" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { echo 0; return 0; }
  t0=$(date +%s%3N)
  kill -TERM "$pid"
  for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "dockerd2: dockerd $pid did not stop in 60 s: SIGKILL" >&2
    kill -KILL "$pid"
  fi
  # dockerd's exit is not the end of its pid file: wait until it is gone so `up` writes a new one.
  for i in $(seq 1 50); do [ -e "$d/docker.pid" ] || break; sleep 0.1; done
  echo $(( $(date +%s%3N) - t0 ))
}

# dockerd2_cleanup DIR NS [CGROUP_PARENT]: dockerd down; leftovers killed (reported): processes
# naming DIR (containerd, shims) and any process in the cgroup-parent's cgroups (containers: QEMU
# and the rest); NS, mnt, the cgroup-parent directories and DIR removed.
dockerd2_cleanup() {
  local d=$1 ns=$2 cgp=${3:-} left c
  dockerd2_down "$d" >/dev/null
  left=$(pgrep -f -- "$d/" | grep -vx "$$" || true)
  if [ -n "$cgp" ]; then
    for c in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do
      [ -d "$c" ] && left="$left $(find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null)"
    done
  fi
  left=$(echo $left | tr ' ' '\n' | sort -u | tr '\n' ' ')
  if [ -n "${left// /}" ]; then
    echo "dockerd2: WARNING: left after dockerd stopped, killing: $(echo $left)" >&2
    kill -KILL $left 2>/dev/null
    sleep 0.5
  fi
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  umount "$d/mnt" 2>/dev/null
  if [ -n "$cgp" ]; then
    for c in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do
      [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  rm -rf "$d"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case $cmd in
    up) dockerd2_up "$@" ;;
    down) dockerd2_down "$@" ;;
    cleanup) dockerd2_cleanup "$@" ;;
    *) echo "usage: $0 up|down|cleanup DIR [NS]" >&2; exit 2 ;;
  esac
fi
