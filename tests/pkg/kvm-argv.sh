#!/bin/bash
# tests/pkg/kvm-argv.sh — the KVM argv's machine, accelerator and CPU options (as in the golden argv
# files, tests/golden/*.argv) are accepted by the packaged QEMU 7.2. On a host without usable KVM,
# QEMU parses and applies -machine and -accel options before it opens /dev/kvm, so the only error
# allowed is KVM's own ("failed to initialize kvm"); a misspelt property or value fails earlier
# with another message. On a KVM host the VM is created paused (-S) and stopped after 3 s. On a
# host whose /dev/kvm opens but cannot run a stock guest (kvm-pvm, as on this project's test
# machines), QEMU gets as far as resetting the vCPU and aborts on an MSR the module refuses
# ("failed to set MSR ..."), also after every option was applied; KVM's warning that the host
# recommends fewer vCPUs than -smp asks is allowed too.
# Usage: tests/pkg/kvm-argv.sh [TREE]   (default: dist/opt/runcvm)
set -u
here=$(cd "$(dirname "$0")" && pwd)
TREE=$(cd "${1:-$here/../../dist/opt/runcvm}" && pwd) || { echo "no package tree" >&2; exit 2; }
export QEMU_MODULE_DIR=$TREE/usr/lib/qemu-modules
QEMU=("$TREE/lib/ld-linux-x86-64.so.2" "$TREE/usr/bin/qemu-system-x86_64")

fails=0 n=0
# The value after the first occurrence of option $1 in golden file $2 (one argument per line).
opt() { awk -v o="$1" 'p { print; exit } $0 == o { p = 1 }' "$2"; }
for f in "$here"/../golden/*.argv; do
  accel=$(opt -accel "$f")
  case "$accel" in kvm*) ;; *) continue ;; esac
  n=$((n + 1))
  out=$(timeout 3 "${QEMU[@]}" -machine "$(opt -machine "$f")" -accel "$accel" -cpu "$(opt -cpu "$f")" -smp "$(opt -smp "$f")" \
    -nodefaults -display none -S -L "$TREE/usr/share/qemu" 2>&1)
  rc=$?
  name=$(basename "$f")
  if [ "$rc" = 124 ]; then
    echo "ok    $name: KVM VM created (this host has KVM)"
  elif printf '%s\n' "$out" | grep -v -e 'Could not access KVM kernel module' -e 'failed to initialize kvm' \
      -e 'error: failed to set MSR 0x[0-9a-f]* to ' -e 'kvm_buf_set_msrs: Assertion' \
      -e 'warning: Number of \(SMP\|hotpluggable\) cpus requested ([0-9]*) exceeds the recommended cpus supported by KVM' | grep -q .; then
    echo "FAIL  $name: $(printf '%s' "$out" | tr '\n' ' ')"; fails=$((fails + 1))
  elif printf '%s\n' "$out" | grep -q 'failed to set MSR'; then
    echo "ok    $name: options accepted, KVM VM created, vCPU reset refused by this host's KVM ($(printf '%s' "$out" | grep -o 'failed to set MSR [^ ]* to [^ ]*'))"
  else
    echo "ok    $name: options accepted, stopped at KVM init ($(printf '%s' "$out" | tail -1 | cut -c1-80))"
  fi
done
[ "$n" -gt 0 ] || { echo "FAIL  no KVM golden argv found"; exit 1; }
echo "kvm-argv: $n golden(s), $fails failed"
[ "$fails" = 0 ]
