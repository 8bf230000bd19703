#!/bin/bash
# Host-side tests for native/runcvm-init, native/qemu-exit and native/runcvm-kvm-probe (no VM needed).
# Compiles both with the package's flags, then checks exit-status hand-off, signal forwarding,
# SIGTERM -> shutdown program, --no-fork ids/cwd/session, runc-style exec errors and the --vm
# supervisor (with the test-only --no-poweroff). Cases needing root or unshare(1) are skipped
# without them. Usage: bash tests/native/test-init.sh
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../native" && pwd)
tmp=$(mktemp -d /tmp/runcvm-native-test.XXXXXX)
chmod 755 "$tmp" # the qemu-exit cases run it as nobody
trap 'rm -rf "$tmp"' EXIT

CFLAGS=(-static -O2 -Wall -Wextra -Werror -std=gnu11)
gcc "${CFLAGS[@]}" -o "$tmp/runcvm-init" "$src/runcvm-init.c" || { echo "FAIL: compile runcvm-init"; exit 1; }
gcc "${CFLAGS[@]}" -o "$tmp/qemu-exit" "$src/qemu-exit.c" || { echo "FAIL: compile qemu-exit"; exit 1; }
gcc "${CFLAGS[@]}" -o "$tmp/kvm-probe" "$src/runcvm-kvm-probe.c" || { echo "FAIL: compile runcvm-kvm-probe"; exit 1; }
init=$tmp/runcvm-init

pass=0 fail=0 skip=0
ok()   { pass=$((pass + 1)); echo "ok   - $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '       %s\n' "$2"; }
skip() { skip=$((skip + 1)); echo "skip - $1"; }
expect() { # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "expected [$2], got [$3]"; fi
}
is_root() { [ "$(id -u)" = 0 ]; }

# Wait until FILE exists (tenths of a second, default 50).
wait_for() { local i; for ((i = 0; i < ${2:-50}; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# ---- default (container PID 1) mode ----
out=$("$init" --on-exit /bin/echo -- sh -c 'exit 3')
expect "exit program gets the status as argv[1]" "3" "$out"

out=$("$init" --on-exit /bin/echo -- sh -c 'kill -KILL $$')
expect "killed child reports 128+signal and the signal" "137 signal=9" "$out"

"$init" --on-exit /nonexistent/exit -- sh -c 'exit 4'
expect "exit program missing: exit with the status" "4" "$?"

out=$("$init" --on-exit /bin/echo -- /nonexistent/cmd 2>"$tmp/err")
expect "command not found: status 127" "127" "$out"
grep -q 'exec /nonexistent/cmd failed' "$tmp/err" && ok "command not found: message" || bad "command not found: message" "$(cat "$tmp/err")"

printf 'not a program\n' >"$tmp/noexec"; chmod 644 "$tmp/noexec"
out=$("$init" --on-exit /bin/echo -- "$tmp/noexec" 2>/dev/null)
expect "command not executable: status 126" "126" "$out"

# --watch: a watched child killed while the command runs: one RunCVM: Error line naming it, the
# command's group is killed, exit 1, and the exit program is NOT run (the VM is gone, not done).
sh -c "sleep 30 & echo \$! >$tmp/watched; exec '$init' --watch \"\$!=the watched helper\" --on-exit /bin/echo -- sh -c 'touch $tmp/ready-w; exec sleep 30'" >"$tmp/out-w" 2>"$tmp/err-w" &
pid=$!
wait_for "$tmp/ready-w"; t0=$(date +%s%N); kill -9 "$(cat "$tmp/watched")"; wait $pid; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "--watch: killed watched child ends us with 1" "1" "$rc"
expect "--watch: exit program not run" "" "$(cat "$tmp/out-w")"
grep -qx "RunCVM: Error: the watched helper (pid $(cat "$tmp/watched")) died: killed by signal 9 (Killed); stopped the VM" "$tmp/err-w" \
  && ok "--watch: one error line naming it" || bad "--watch: one error line naming it" "$(cat "$tmp/err-w")"
[ "$ms" -lt 2000 ] && ok "--watch: command ended within 2 s ($ms ms)" || bad "--watch: command ended within 2 s" "$ms ms"

# --watch: a watched child that exits 0 because the command is ending is no fault.
out=$(sh -c "true & exec '$init' --watch \"\$!=quick\" --on-exit /bin/echo -- sh -c 'sleep 0.3; exit 5'" 2>"$tmp/err-w2")
expect "--watch: clean exit of a watched child as the command ends: status passed on" "5" "$out"
expect "--watch: no error for it" "" "$(cat "$tmp/err-w2")"
# ... also when the command takes seconds longer to end (QEMU finishing on a loaded host).
out=$(sh -c "true & exec '$init' --watch \"\$!=slow\" --on-exit /bin/echo -- sh -c 'sleep 3; exit 6'" 2>"$tmp/err-w3")
expect "--watch: clean exit of a watched child 3 s before the command ends: status passed on" "6" "$out"
expect "--watch: no error for it either" "" "$(cat "$tmp/err-w3")"

# --respawn: the daemon named by the pid file is started again when it dies; once per second at most.
cat >"$tmp/daemon" <<EOT
#!/bin/sh
sleep 30 </dev/null >/dev/null 2>&1 &
echo \$! >$tmp/daemon.pid
echo started >>$tmp/daemon.log
EOT
chmod 755 "$tmp/daemon"
"$tmp/daemon"
sh -c "exec '$init' --respawn '$tmp/daemon.pid=$tmp/daemon' --on-exit /bin/echo -- sh -c 'sleep 3'" >/dev/null 2>"$tmp/err-r" &
pid=$!
sleep 0.3
# (the first daemon is not our child: start one that is, through a first respawn trigger)
kill -9 "$(cat "$tmp/daemon.pid")"; sleep 0.5
[ "$(grep -c started "$tmp/daemon.log")" = 1 ] && ok "--respawn: only our own children are respawned" || bad "--respawn: only our own children are respawned" "$(cat "$tmp/daemon.log")"
wait $pid
: >"$tmp/warn.log"
sh -c "sleep 30 & echo \$! >$tmp/daemon.pid; exec '$init' --warnings-log '$tmp/warn.log' --container-id c0ffee --respawn '$tmp/daemon.pid=$tmp/daemon' --on-exit /bin/echo -- sh -c 'sleep 2'" >/dev/null 2>"$tmp/err-r" &
pid=$!
sleep 0.3; kill -9 "$(cat "$tmp/daemon.pid")"; sleep 0.5
new=$(cat "$tmp/daemon.pid")
[ "$(grep -c started "$tmp/daemon.log")" = 2 ] && kill -0 "$new" 2>/dev/null && ok "--respawn: a killed daemon is started again" || bad "--respawn: a killed daemon is started again" "$(cat "$tmp/daemon.log" "$tmp/err-r")"
grep -q "^[0-9T:.-]*Z c0ffee RunCVM: Warning: daemon (pid [0-9]*) died; restarted it\$" "$tmp/warn.log" && ok "--respawn: warning line in the warnings log" || bad "--respawn: warning line in the warnings log" "$(cat "$tmp/warn.log")"
expect "--respawn: nothing on stderr without a terminal" "" "$(cat "$tmp/err-r")"
kill "$new" 2>/dev/null; wait $pid

# Signal forwarding: USR1 reaches the child (its trap exits 42).
"$init" --on-exit /bin/echo -- sh -c "trap 'exit 42' USR1; touch $tmp/ready1; while :; do sleep 0.1; done" >"$tmp/out1" &
pid=$!
wait_for "$tmp/ready1"; kill -USR1 $pid; wait $pid
expect "SIGUSR1 is forwarded to the child" "42" "$(cat "$tmp/out1")"

# SIGTERM is NOT forwarded; it runs the shutdown program, which here stops the child with USR2.
cat >"$tmp/on-term" <<EOT
#!/bin/sh
echo ran >$tmp/term-ran
kill -USR2 \$(cat $tmp/child.pid)
EOT
chmod 755 "$tmp/on-term"
"$init" --on-term "$tmp/on-term" --on-exit /bin/echo -- sh -c "echo \$\$ >$tmp/child.pid; trap 'exit 9' TERM; trap 'exit 43' USR2; touch $tmp/ready2; while :; do sleep 0.1; done" >"$tmp/out2" &
pid=$!
wait_for "$tmp/ready2"; kill -TERM $pid; wait $pid
expect "SIGTERM runs --on-term (not forwarded)" "ran:43" "$(cat "$tmp/term-ran" 2>/dev/null):$(cat "$tmp/out2")"

# SIGRTMIN+3 (systemd images' STOPSIGNAL) asks for the same clean stop as SIGTERM.
rm -f "$tmp/term-ran"
"$init" --on-term "$tmp/on-term" --on-exit /bin/echo -- sh -c "echo \$\$ >$tmp/child.pid; trap 'exit 9' 37; trap 'exit 43' USR2; touch $tmp/ready2b; while :; do sleep 0.1; done" >"$tmp/out2b" &
pid=$!
wait_for "$tmp/ready2b"; kill -s RTMIN+3 $pid; wait $pid
expect "SIGRTMIN+3 runs --on-term (not forwarded)" "ran:43" "$(cat "$tmp/term-ran" 2>/dev/null):$(cat "$tmp/out2b")"

# The child is a session leader with its own process group (pgid == sid == pid).
out=$("$init" --on-exit /bin/true -- sh -c 'set -- $(cat /proc/$$/stat); [ "$5" = "$$" ] && [ "$6" = "$$" ] && echo leader' )
expect "child runs in its own session" "leader" "$out"

# Job control: SIGTSTP stops the child and then runcvm-init itself (not PID 1 here).
"$init" --on-exit /bin/echo -- sh -c "touch $tmp/ready3; while :; do sleep 0.1; done" >/dev/null &
pid=$!
wait_for "$tmp/ready3"; kill -TSTP $pid; sleep 0.3
st=$(awk '{print $3}' /proc/$pid/stat)
child=$(cat /proc/$pid/task/$pid/children 2>/dev/null)
kill -CONT $pid; kill -KILL $pid $child 2>/dev/null; wait $pid 2>/dev/null # the child too: it would hold our stdout
expect "SIGTSTP stops runcvm-init too" "T" "$st"

# ---- --no-fork ----
out=$("$init" --no-fork --cwd /tmp -- sh -c 'pwd; set -- $(cat /proc/$$/stat); [ "$6" = "$$" ] && echo leader')
expect "--no-fork: cwd and new session" "/tmp leader" "$(echo $out)"

"$init" --no-fork --cwd /nonexistent -- true 2>"$tmp/err"
expect "--cwd missing: exit 126" "126" "$?"
grep -qF 'runcvm-init: chdir to cwd ("/nonexistent") set in config.json failed: No such file or directory' "$tmp/err" \
  && ok "--cwd missing: runc's message" || bad "--cwd missing: runc's message" "$(cat "$tmp/err")"

if is_root; then
  out=$("$init" --no-fork --uid 65534 --gid 65533 --groups 65532,65531 -- sh -c 'echo $(id -u) $(id -g) $(id -G)')
  expect "--no-fork: uid/gid/groups applied" "65534 65533 65533 65531 65532" "$out"
  out=$("$init" --on-exit /bin/echo --uid 65534 --gid 65534 --groups '' -- sh -c 'exit $(id -u | cut -c1-2)')
  expect "default mode: ids applied in the child" "65" "$out"
else
  skip "--uid/--gid/--groups (needs root)"
fi

# ---- --request / --request-file (docker exec) ----
req() { printf '%s\0' "$@" | base64 -w0; }
out=$("$init" --request "$(req --no-fork --clear-env --env 'PATH=/usr/bin:/bin' --env "X=a 'b'"$'\n''c $HOME' --env 'E=' \
  --cwd /tmp --cwd-error unused -- sh -c 'printf "[%s]" "$X" "$E" "$(pwd)" "$#" "$1" "$2"; env | grep -vc "^X=\|^E=\|^PATH=\|^PWD=\|^SHLVL=\|^_=\|^c "' sh '' 'x y')")
expect "--request: exact env, empty strings, cwd, args" "[a 'b'"$'\n'"c \$HOME][][/tmp][2][][x y]0" "$out"
out=$("$init" --request "$(req --no-fork --cwd /nonexistent --cwd-error 'OCI runtime exec failed: chdir' -- true)" 2>"$tmp/err" | od -An -c -w100 | tr -s ' ')
expect "--cwd-error: root cannot chdir: MSG + CRLF on stdout" " O C I r u n t i m e e x e c f a i l e d : c h d i r \r \n" "$out"
"$init" --request "$(req --no-fork --cwd /nonexistent --cwd-error m -- true)" >/dev/null 2>&1
expect "--cwd-error: exit 126" "126" "$?"
runc_msg() { printf 'OCI runtime exec failed: exec failed: unable to start container process: %s: unknown\r\n' "$1"; }
for c in 'nonexistent-cmd-xyz|exec: "nonexistent-cmd-xyz": executable file not found in $PATH' '/etc|exec: "/etc": permission denied' \
         '/nonexistent/x|exec: "/nonexistent/x": stat /nonexistent/x: no such file or directory'; do
  out=$("$init" --no-fork --clear-env --env PATH=/usr/bin:/bin --runc-exec-errors -- "${c%%|*}" 2>&1; echo "rc=$?")
  expect "--runc-exec-errors: ${c%%|*}" "$(runc_msg "${c#*|}")"$'\n'"rc=126" "$out"
done
out=$("$init" --no-fork --clear-env --env PATH=/nonexistent: --cwd /bin --runc-exec-errors -- true; echo "rc=$?")
expect "--runc-exec-errors: an empty PATH entry is the cwd (Go's LookPath)" "rc=0" "$out"
printf '%s\0' --no-fork -- sh -c 'echo "$0"' 'from a file' >"$tmp/req"
out=$("$init" --request-file "$tmp/req")
expect "--request-file: runs the request" "from a file" "$out"
[ -e "$tmp/req" ] && bad "--request-file: file removed" || ok "--request-file: file removed"
"$init" --request 'not*base64' 2>/dev/null; expect "--request: bad base64 is a usage error" "2" "$?"
"$init" --request "$(printf 'no-nul' | base64 -w0)" 2>/dev/null; expect "--request: missing NUL is a usage error" "2" "$?"
"$init" --request "$(req --request x)" 2>/dev/null; expect "--request: no nesting" "2" "$?"
"$init" --request "$(req --no-fork -- true)" extra 2>/dev/null; expect "--request: must be last" "2" "$?"

"$init" --uid abc -- true 2>/dev/null
expect "bad --uid is a usage error" "2" "$?"

# --stop-signal: a child left behind reads "stop" lines on the control port and signals the
# command (an init). The port is faked in a private mount namespace: /sys/class/virtio-ports/
# <port>/name and a FIFO as /dev/<port>.
"$init" --stop-signal 10 --control-port x -- true 2>"$tmp/err"
expect "--stop-signal without --no-fork: usage error" "2" "$?"
"$init" --no-fork --stop-signal 10 -- true 2>"$tmp/err"
expect "--stop-signal without --control-port: usage error" "2:runcvm-init: --stop-signal needs --no-fork and --control-port" "$?:$(cat "$tmp/err")"
if is_root && unshare --mount --propagation private true 2>/dev/null; then
  out=$(unshare --mount --propagation private sh -c "
    mount -t tmpfs t /sys/class && mkdir -p /sys/class/virtio-ports/vport9p1 && echo org.test.control >/sys/class/virtio-ports/vport9p1/name
    mount -t tmpfs t /dev && mknod -m 666 /dev/null c 1 3 && mkfifo /dev/vport9p1
    '$init' --no-fork --control-port org.test.control --stop-signal 10 -- sh -c 'trap \"exit 7\" USR1; touch $tmp/ready9; for i in \$(seq 50); do sleep 0.1; done; exit 1' &
    i=0; while [ ! -e $tmp/ready9 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
    sleep 0.3; echo stop >/dev/vport9p1
    wait \$!; echo \$?
    sleep 0.2; ps -eo stat=,comm= | grep -v '^Z' | grep -q ' runcvm-stop$' && echo listener-left")
  expect "--no-fork --stop-signal: \"stop\" on the port sends the signal to the command" "7" "$out"
else
  skip "--stop-signal listener (needs root + unshare --mount)"
fi

# ---- --vm (test-only --no-poweroff) ----
"$init" --vm --no-poweroff --exit-file "$tmp/exit1" -- sh -c 'exit 5'
rc=$?
expect "--vm: exits with the status and writes --exit-file" "5:5" "$rc:$(cat "$tmp/exit1")"
# Atomic: written beside, then renamed over the old file (a link there is replaced, not followed).
echo old >"$tmp/exit-target"; ln -s "$tmp/exit-target" "$tmp/exit1b"
"$init" --vm --no-poweroff --exit-file "$tmp/exit1b" -- sh -c 'exit 6'
expect "--vm: --exit-file replaced by rename, no temporary left" "6:old::" \
  "$(cat "$tmp/exit1b"):$(cat "$tmp/exit-target"):$([ -L "$tmp/exit1b" ] && echo link):$(ls "$tmp" | grep -c '\.tmp$' | grep -v '^0$')"

start=$(date +%s%N)
"$init" --vm --no-poweroff --exit-file "$tmp/exit2" -- sh -c "trap 'exit 7' TERM; touch $tmp/ready4; while :; do sleep 0.1; done" &
pid=$!
wait_for "$tmp/ready4"; kill -TERM $pid; wait $pid
expect "--vm: SIGTERM stops the workload gracefully" "7:7" "$?:$(cat "$tmp/exit2")"

for sig in INT USR1 USR2 PWR; do
  rm -f "$tmp/ready5"
  "$init" --vm --no-poweroff --exit-file "$tmp/exit3" -- sh -c "trap 'exit 8' TERM; touch $tmp/ready5; while :; do sleep 0.1; done" &
  pid=$!
  wait_for "$tmp/ready5"; kill -$sig $pid; wait $pid
  expect "--vm: SIG$sig means graceful stop (TERM to workload)" "8" "$?"
done

"$init" --vm --no-poweroff -- sh -c "trap 'exit 11' HUP; touch $tmp/ready6; while :; do sleep 0.1; done" &
pid=$!
wait_for "$tmp/ready6"; kill -HUP $pid; wait $pid
expect "--vm: other signals are forwarded" "11" "$?"

# No SIGKILL from the VM side on a graceful stop (Docker's own, after `docker stop -t`, is the
# limit): a workload that needs 9 s after SIGTERM exits with its own status; meanwhile the guest's
# dirty pages are synced every second.
"$init" -v --vm --no-poweroff --exit-file "$tmp/exit4" -- sh -c "trap 'sleep 9; exit 9' TERM; touch $tmp/ready7; while :; do sleep 0.1; done" 2>"$tmp/err7" &
pid=$!
wait_for "$tmp/ready7"; t0=$(date +%s); kill -TERM $pid; wait $pid; rc=$?; t1=$(date +%s)
el=$((t1 - t0)); syncs=$(grep -c 'after SIGTERM: sync' "$tmp/err7")
if [ "$rc" = 9 ] && [ "$el" -ge 8 ] && [ "$syncs" -ge 5 ]; then ok "--vm: a slow graceful exit is not cut short (${el}s, $syncs syncs)"; else bad "--vm: slow graceful exit" "rc=$rc elapsed=${el}s syncs=$syncs"; fi

"$init" --vm --no-poweroff -- /nonexistent/cmd 2>/dev/null
expect "--vm: command not found is 127" "127" "$?"

# Leftover processes are terminated (and reaped: runcvm-init is their subreaper when not PID 1)
# when the main command ends; one that ignores SIGTERM gets SIGKILL after 2 s.
"$init" --vm --no-poweroff -- sh -c "sleep 30 & echo \$! >$tmp/bg.pid; sh -c 'trap \"\" TERM; sleep 30' & exit 6"
rc=$?
if [ "$rc" = 6 ] && ! [ -e "/proc/$(cat "$tmp/bg.pid")" ]; then ok "--vm: leftovers are terminated"; else bad "--vm: leftovers are terminated" "rc=$rc"; fi

# As a real PID 1 (pid namespace): orphans are reaped and everything is killed at the end.
if is_root && unshare --pid --fork --mount-proc true 2>/dev/null; then
  unshare --pid --fork --mount-proc "$init" --vm --no-poweroff --exit-file "$tmp/exit5" -- \
    sh -c "setsid sh -c 'trap \"\" TERM; sleep 60' & (sleep 0.2 &) ; sleep 0.5; exit 12"
  rc=$?
  expect "--vm as PID 1: status after killing an orphan that ignores TERM" "12:12" "$rc:$(cat "$tmp/exit5")"
  out=$(unshare --pid --fork --mount-proc "$init" --on-exit /bin/echo -- sh -c '(sleep 0.1 &); sleep 0.3; exit 0')
  expect "default mode as PID 1 with an orphan" "0" "$out"
else
  skip "--vm as PID 1 (needs root + unshare)"
fi

# ---- controlling tty (under script(1), which gives runcvm-init a pty as its own ctty) ----
# The workload must end up owning the tty: tty_nr set and its group in the foreground (tpgid).
if command -v script >/dev/null 2>&1; then
  probe='set -- $(cat /proc/$$/stat); [ "$7" != 0 ] && [ "$8" = "$$" ] && echo fg-ctty || echo "no ctty: $*"'
  out=$(script -qec "$init --on-exit /bin/true -- sh -c '$probe'" /dev/null | tr -d '\r')
  expect "default mode: workload owns the tty" "fg-ctty" "$out"
  out=$(script -qec "$init --vm --no-poweroff -- sh -c '$probe'" /dev/null | tr -d '\r')
  expect "--vm: workload owns the tty" "fg-ctty" "$out"
  out=$(script -qec "$init --no-fork -- sh -c '$probe'" /dev/null | tr -d '\r')
  expect "--no-fork: workload owns the tty" "fg-ctty" "$out"
else
  skip "controlling tty (needs script(1))"
fi

# ---- --stdin/--stdout/--stderr/--tty-size ----
printf 'in-data\n' >"$tmp/in"; : >"$tmp/o"; : >"$tmp/e"; : >"$tmp/o2" # paths are opened, not created
"$init" --vm --no-poweroff --stdin "$tmp/in" --stdout "$tmp/o" --stderr "$tmp/e" -- sh -c 'cat; echo err >&2; [ -t 1 ] || echo notty' >"$tmp/o-outer" 2>"$tmp/e-outer"
expect "--stdin/--stdout/--stderr: stdout" "in-data notty" "$(tr '\n' ' ' <"$tmp/o" | sed 's/ $//')"
expect "--stdin/--stdout/--stderr: stderr" "err" "$(cat "$tmp/e")"
expect "--stdin/--stdout/--stderr: nothing on the inherited fds" "" "$(cat "$tmp/o-outer" "$tmp/e-outer")"
out=$("$init" --vm --no-poweroff --stdout port:org.nonexistent.port -- echo kept 2>"$tmp/err")
expect "missing port: fd kept" "kept" "$out"
grep -q 'no virtio-serial port named org.nonexistent.port' "$tmp/err" && ok "missing port: warning" || bad "missing port: warning" "$(cat "$tmp/err")"
"$init" --no-fork --stdout "$tmp/o2" -- echo no-fork-out
expect "--no-fork --stdout" "no-fork-out" "$(cat "$tmp/o2")"
"$init" --vm --no-poweroff --groups 5,7,7,5 -- sh -c 'grep ^Groups: /proc/self/status' >"$tmp/g" 2>&1
if is_root; then expect "--groups deduplicated" "Groups: 5 7" "$(tr -s '\t ' '  ' <"$tmp/g" | sed 's/ $//')"; else skip "--groups dedup (needs root)"; fi
if command -v script >/dev/null 2>&1; then
  out=$(script -qec "$init --vm --no-poweroff --tty-size 33,101 -- sh -c 'stty size'" /dev/null | tr -d '\r')
  expect "--tty-size applied to the tty" "33 101" "$out"
else
  skip "--tty-size (needs script(1))"
fi
"$init" --tty-size 3x4 -- true 2>/dev/null; expect "--tty-size rejects junk" "2" "$?"

# ---- qemu-exit (never touches I/O ports here: only argument checks and the unprivileged path) ----
"$tmp/qemu-exit" 129 2>/dev/null; expect "qemu-exit: 129 rejected" "2" "$?"
"$tmp/qemu-exit" x 2>/dev/null; expect "qemu-exit: non-number rejected" "2" "$?"
"$tmp/qemu-exit" 1 2 2>/dev/null; expect "qemu-exit: two args rejected" "2" "$?"
if is_root; then
  "$init" --no-fork --uid 65534 --gid 65534 -- "$tmp/qemu-exit" 3 2>"$tmp/err"
  expect "qemu-exit N without ioperm rights: 255" "255" "$?"
  "$init" --no-fork --uid 65534 --gid 65534 -- "$tmp/qemu-exit" 2>"$tmp/err"
  rc=$?
  if [ "$rc" = 255 ] && grep -q 'still running' "$tmp/err"; then ok "qemu-exit power-off unprivileged: error + 255"; else bad "qemu-exit power-off unprivileged" "rc=$rc $(cat "$tmp/err")"; fi
else
  skip "qemu-exit unprivileged path (needs root to drop to nobody)"
fi

# ---- runcvm-kvm-probe (the success path needs a host with working KVM; see README "Running on KVM hosts") ----
out=$("$tmp/kvm-probe" "$tmp/no-such-kvm"); rc=$?
expect "kvm-probe: missing device" "fail stage=open errno=ENOENT 1" "$out $rc"
out=$("$tmp/kvm-probe" /dev/null); rc=$?
expect "kvm-probe: not a KVM device (KVM_GET_API_VERSION fails)" "fail stage=api errno=ENOTTY 1" "$out $rc"
if is_root; then
  : >"$tmp/kvm-noperm"; chmod 000 "$tmp/kvm-noperm"
  out=$("$init" --no-fork --uid 65534 --gid 65534 -- "$tmp/kvm-probe" "$tmp/kvm-noperm"); rc=$?
  expect "kvm-probe: permission denied" "fail stage=open errno=EACCES 1" "$out $rc"
else
  skip "kvm-probe permission case (needs root to drop to nobody)"
fi
"$tmp/kvm-probe" a b 2>/dev/null; expect "kvm-probe: two args rejected" "2" "$?"
if [ -c /dev/kvm ]; then
  out=$("$tmp/kvm-probe"); echo "       /dev/kvm on this host: $out"
  case "$out" in ok\ *|fail\ stage=*) ok "kvm-probe: /dev/kvm answers with a verdict" ;; *) bad "kvm-probe: /dev/kvm verdict" "$out" ;; esac
else
  skip "kvm-probe against /dev/kvm (none on this host)"
fi

echo "native: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
