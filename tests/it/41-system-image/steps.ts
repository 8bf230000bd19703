// 41-system-image: the system image a user would build (debootstrap minbase + systemd, dbus,
// docker.io, iptables, iproute2, procps, mariadb-server, nginx-light; tests/it/images/build.sh)
// run exactly as a user would, `-m 2g -e RUNCVM_DISKS=/disks/docker,/var/lib/docker,ext4,2G` and
// nothing RunCVM-specific:
//
// - systemd as PID 1 (the image's CMD /sbin/init) reaches `running`: no failed unit (before this
//   work: kmod-static-nodes, docker, docker.socket and nginx failed); journald, logind, dbus,
//   nginx, mariadb, containerd and docker active; kmod-static-nodes skipped, not failed;
// - hostname and networking as Docker configured them, with no networkd;
// - IPv6 in the guest (::1, link-local), nginx's stock config listening on [::]:80 and 0.0.0.0:80,
//   its page fetched by name from a runc container;
// - Docker in the VM: overlay2 on the ext4 disk, iptables nft, cgroup v2 with the memory controller
//   delegated to a nested container, br_netfilter loaded (dockerd has no modprobe to ask here),
//   AppArmor off because the image has no apparmor_parser; a
//   nested `docker run -p 8080:80` of a busybox image imported in the VM answers a runc container
//   on the test network;
// - `systemctl poweroff` ends the container with exit code 0.
import { type Case, describe, fail } from '../harness'
import { createNet, execUntil } from '../net'
import { DOCKER_DISK, SYSTEM, expectRunning, importBusybox, load, waitDockerd, waitSystemd } from '../system'

export default {
  description: 'system image (systemd PID 1) reaches running with no failed unit; journald/logind/nginx/mariadb/docker active; IPv6; nested docker run -p reached from runc; systemctl poweroff exits 0',
  needs: ['runcvm', `image:${SYSTEM}`],
  slow: true,
  timeoutMs: 900_000,
  async test(ctx) {
    const { docker, uniq, note } = ctx
    const net = await createNet(ctx, 'net')
    const [vm, peer] = [uniq('vm'), uniq('peer')]
    const t0 = performance.now()
    const run = await docker(['run', '-d', '--pull=never', `--runtime=${ctx.runtime}`, '--name', vm, ...ctx.labels,
      '--network', net.name, '--hostname', 'sysvm', '-m', '2g', '-e', DOCKER_DISK, SYSTEM])
    if (run.code !== 0) fail(`docker run -d: ${describe(run)}`)
    const r = await docker(['run', '-d', '--pull=never', '--name', peer, ...ctx.labels, '--network', net.name, 'runcvm-test/bb', 'sleep', '1000'])
    if (r.code !== 0) fail(`peer: ${describe(r)}`)

    const settled = await waitSystemd(ctx, vm, t0)
    note(`docker run -d → systemd ${settled.state}: ${(settled.ms / 1000).toFixed(1)} s (load ${load()})`)
    await expectRunning(ctx, vm, settled)
    const bad: string[] = []
    const sh = (script: string) => docker(['exec', vm, 'sh', '-c', script])

    const units = ['systemd-journald', 'systemd-logind', 'dbus', 'nginx', 'mariadb', 'containerd', 'docker']
    const active = await docker(['exec', vm, 'systemctl', 'is-active', ...units])
    if (active.stdout !== units.map(() => 'active\n').join('')) bad.push(`units ${units.join(' ')}: ${describe(active)}`)
    const kmod = await docker(['exec', vm, 'systemctl', 'show', '-p', 'ActiveState,ConditionResult', 'kmod-static-nodes'])
    if (kmod.stdout !== 'ActiveState=inactive\nConditionResult=no\n') bad.push(`kmod-static-nodes should be skipped: ${describe(kmod)}`)

    const ip = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net.name}").IPAddress}}`, vm])).stdout.trim()
    const netw = await sh('cat /proc/sys/kernel/hostname; ip -4 -o addr show eth0 | awk \'{print $4}\'; ip route show default | awk \'{print $3}\'; systemctl is-active systemd-networkd')
    if (netw.stdout !== `sysvm\n${ip}/24\n${net.prefix}.1\ninactive\n`) bad.push(`hostname/eth0/default route/networkd: ${describe(netw)} (want ${ip}/24 via ${net.prefix}.1)`)

    const v6 = await sh('ip -6 -o addr show dev lo | grep -c "inet6 ::1/128"; ip -6 -o addr show dev eth0 | grep -c "inet6 fe80::"; ss -Hltn | awk \'{print $4}\' | grep -xE "(0.0.0.0|\\[::\\]):80" | sort')
    if (v6.stdout !== '1\n1\n0.0.0.0:80\n[::]:80\n') bad.push(`IPv6 ::1, link-local, nginx on [::]:80: ${describe(v6)}`)
    const page = await docker(['exec', peer, 'wget', '-qO-', `http://${vm}/`])
    if (!page.stdout.includes('Welcome to nginx')) bad.push(`nginx page from the runc peer: ${describe(page)}`)

    // Docker in the VM.
    await waitDockerd(ctx, vm)
    const info = await sh('docker info --format "{{.Driver}} {{.CgroupVersion}} {{.SecurityOptions}}"; iptables -V; grep -o "apparmor=0" /proc/cmdline')
    const [driver, cgv, ...sec] = info.stdout.split('\n')[0].split(' ')
    if (driver !== 'overlay2' || cgv !== '2' || sec.join(' ').includes('apparmor') || !/\(nf_tables\)/.test(info.stdout) || !info.stdout.includes('apparmor=0'))
      bad.push(`docker info (want overlay2, cgroup 2, no apparmor), iptables nft, apparmor=0: ${describe(info)}`)
    await importBusybox(ctx, vm)
    const tn = performance.now()
    const nested = await sh('docker run --rm -m 64m bb sh -c "echo nested-ok; cat /sys/fs/cgroup/memory.max"')
    note(`nested docker run (image imported in the VM) printed its output in ${((performance.now() - tn) / 1000).toFixed(1)} s; ${((performance.now() - t0) / 1000).toFixed(1)} s after docker run -d (load ${load()})`)
    if (nested.stdout !== 'nested-ok\n67108864\n') bad.push(`nested docker run -m 64m (cgroup v2 memory delegated): ${describe(nested)}`)
    const srv = await sh('mkdir -p /srv/www && echo served-from-nested > /srv/www/index.html && docker run -d -p 8080:80 -v /srv/www:/www bb httpd -f -p 80 -h /www')
    if (srv.code !== 0) bad.push(`nested docker run -d -p 8080:80: ${describe(srv)}`)
    const viaPort = await execUntil(ctx, peer, `wget -qO- http://${ip}:8080/ | grep -qx served-from-nested`, 60_000)
    if (viaPort.code !== 0) bad.push(`nested container's -p 8080 from the runc peer: ${describe(viaPort)}`)
    const dnat = await sh('iptables -t nat -S DOCKER')
    if (!/-j DNAT --to-destination [\d.]+:80/.test(dnat.stdout)) bad.push(`DNAT rule for -p 8080:80: ${describe(dnat)}`)
    // br_netfilter, which dockerd asks modprobe for (none in this image): loaded at boot instead.
    const brnf = await sh('cat /proc/sys/net/bridge/bridge-nf-call-iptables')
    if (brnf.stdout !== '1\n') bad.push(`br_netfilter loaded (bridge-nf-call-iptables): ${describe(brnf)}`)

    // A clean power-off from inside ends the container with 0. The nested httpd goes first: as
    // its container's PID 1 it ignores SIGTERM, dockerd's shutdown gives up on it after 15 s under
    // TCG and systemd-shutdown would then wait its 90 s for it, as on any slow host.
    await sh('docker rm -f $(docker ps -aq)')
    const tp = performance.now()
    await sh('systemctl poweroff')
    const waited = await docker(['wait', vm], { timeoutMs: 120_000 })
    note(`systemctl poweroff → container exit ${waited.stdout.trim()} in ${((performance.now() - tp) / 1000).toFixed(1)} s`)
    if (waited.stdout.trim() !== '0') bad.push(`systemctl poweroff: exit code ${describe(waited)}`)
    if (bad.length) fail(bad.join('\n'))
  },
} satisfies Case
