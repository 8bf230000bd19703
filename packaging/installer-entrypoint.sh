#!/bin/sh
# Entrypoint of the RunCVM installer image (Dockerfile, final stage): copy the package tree baked
# into the image at /opt/runcvm onto the host through a bind mount at /runcvm.
#   docker run --rm -v /opt/runcvm:/runcvm runcvm-installer [--quiet] [--sleep]
# --sleep keeps the container alive afterwards (for `docker service create --mode=global` rollouts
# across a swarm: wait until every node ran it, then remove the service).
set -u
SRC=/opt/runcvm
DST=/runcvm
QUIET=
SLEEP=
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --sleep|--wait|--pause) SLEEP=1 ;;
    *) echo "runcvm-installer: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

if ! mountpoint -q "$DST"; then
  echo "runcvm-installer: $DST is not a bind mount. Usage: docker run --rm -v /opt/runcvm:$DST IMAGE [--quiet] [--sleep]" >&2
  exit 1
fi

# Replace the contents in place (the mount point itself cannot be renamed): remove what the new
# tree no longer has, then copy preserving links, modes and times.
find "$DST" -mindepth 1 -maxdepth 1 -exec rm -rf {} + || exit 1
cp -a "$SRC/." "$DST/" || exit 1

if [ -z "$QUIET" ]; then
  echo "RunCVM package installed to the host's bind-mounted $DST." >&2
  echo "Next (first install only): sudo /opt/runcvm/scripts/runcvm-install-runtime" >&2
fi
if [ -n "$SLEEP" ]; then
  echo "$(hostname): RunCVM package installed; sleeping."
  exec sleep infinity
fi
