# tests/dockerd.sh — sourced by tests/run and tests/all: make sure dockerd answers.
# dockerd is shared with other users of the machine: started when it does not answer, never
# stopped. Log: /var/log/runcvm-test-dockerd.log.
ensure_dockerd() {
  docker info >/dev/null 2>&1 && return 0
  echo "tests: starting dockerd (log: /var/log/runcvm-test-dockerd.log)" >&2
  setsid dockerd >/var/log/runcvm-test-dockerd.log 2>&1 </dev/null &
  local _
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  echo "tests: ERROR: dockerd did not come up in 60 s; see /var/log/runcvm-test-dockerd.log" >&2
  return 1
}
