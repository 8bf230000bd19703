#!/bin/bash
# tests/pkg/installer-image.sh — the installer image (Dockerfile) builds here without a registry
# and installs exactly what setup.sh's path installs.
#
# 1. Base image: debian:bookworm, made from the debootstrap'd test image (tests/it/images/build.sh
#    debian → runcvm-test/debian) when absent: `docker tag runcvm-test/debian debian:bookworm`.
# 2. `docker build` (legacy builder: FROM uses the local image, nothing is pulled) of a context
#    holding the repository's files plus node_modules and the build cache (.cache: debs, kernels,
#    rebuilt binaries), symlinks followed, so the build fetches neither npm packages nor .debs.
# 3. `docker run --rm -v TMP/a/runcvm:/runcvm IMAGE --quiet` installs into a temp dir (never the
#    live /opt/runcvm), and runcvm-install-runtime (setup.sh's installer) installs dist/opt/runcvm
#    into another temp root. The two trees must have the same entries, types, modes, owners,
#    symlink texts and sha256 of every file.
# 4. The entrypoint refuses to run without the bind mount (exit 1, nothing written).
# Env: KEEP_IMAGE=1 keeps the built image (runcvm-installer:pkg-test).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
PKG=$REPO/dist/opt/runcvm
IMAGE=runcvm-installer:pkg-test
TMP=$(mktemp -d /tmp/runcvm-installer-image.XXXXXX)
trap 'rm -rf "$TMP"; [ -n "${KEEP_IMAGE:-}" ] || docker rmi -f "$IMAGE" >/dev/null 2>&1 || true' EXIT
say() { printf '%s\n' "$*"; }

if ! docker image inspect debian:bookworm >/dev/null 2>&1; then
  bash tests/it/images/build.sh debian >&2
  docker tag runcvm-test/debian debian:bookworm
  say "tagged runcvm-test/debian (debootstrap minbase bookworm) as debian:bookworm"
fi

say "building $IMAGE (context: git files + node_modules + .cache without images)"
t0=$SECONDS
{
  git ls-files -z --cached --others --exclude-standard | tr '\0' '\n' | grep -v '^dist/'
  echo node_modules
  for d in debs kernels native node.stripped patched src; do [ -e ".cache/$d" ] && echo ".cache/$d"; done
} | tar -ch --files-from=- -f - | DOCKER_BUILDKIT=0 docker build -q --force-rm -t "$IMAGE" -f Dockerfile - >"$TMP/build.log" 2>&1 \
  || { tail -40 "$TMP/build.log" >&2; say "FAIL docker build"; exit 1; }
say "ok    docker build took $((SECONDS - t0)) s; image $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes"

mkdir -p "$TMP/img/runcvm"
docker run --rm --pull=never -v "$TMP/img/runcvm:/runcvm" "$IMAGE" --quiet
say "ok    docker run --rm -v TMP/img/runcvm:/runcvm $IMAGE --quiet"

mkdir -p "$TMP/setup/opt"
"$PKG/lib/ld-linux-x86-64.so.2" "$PKG/usr/bin/node" "$PKG/scripts/runcvm-install-runtime" --from "$PKG" \
  --target "$TMP/setup/opt/runcvm" --daemon-json "$TMP/setup/daemon.json" --bin-dir "$TMP/setup/bin" --no-dockerd --yes --quiet
say "ok    runcvm-install-runtime --from dist/opt/runcvm --target TMP/setup/opt/runcvm"

listing() { (cd "$1" && find . -printf '%P|%y|%m|%U:%G|%l\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
listing "$TMP/img/runcvm" >"$TMP/img.list"
listing "$TMP/setup/opt/runcvm" >"$TMP/setup.list"
if ! diff -u "$TMP/setup.list" "$TMP/img.list" >"$TMP/diff"; then
  say "FAIL  the image's tree differs from setup.sh's ($(grep -c '^[-+][^-+]' "$TMP/diff") lines):"
  head -40 "$TMP/diff"
  exit 1
fi
say "ok    identical trees: $(grep -c '|' "$TMP/img.list") entries, $(grep -vc '|' "$TMP/img.list") files with equal sha256, modes and owners"

mkdir -p "$TMP/nomount"
if out=$(docker run --rm --pull=never "$IMAGE" --quiet 2>&1); then say "FAIL  ran without the bind mount: $out"; exit 1; fi
grep -q 'is not a bind mount' <<<"$out" || { say "FAIL  no usage error without the bind mount: $out"; exit 1; }
say "ok    refuses without the bind mount: $(head -1 <<<"$out")"
