// virtiofsd argv (upstream runcvm-ctr-virtiofsd). Pure.
//   sandbox=chroot: the default namespace sandbox needs CAP_SYS_ADMIN, which the container lacks;
//   announce_submounts: the VM sees /.runcvm, volumes etc. as their own mounts (st_dev);
//   xattr: file capabilities and ACL xattrs work; modcaps=+sys_admin with RUNCVM_SYS_ADMIN=1.
//
// cache=auto is passed as `cache=always,timeout=1`. virtiofsd's own auto mode opens files without
// FOPEN_KEEP_CACHE, so the guest kernel drops a file's page cache on every open: each exec of an
// image binary re-read it over virtio-fs (150 ms per `/bin/true` under TCG, 11 ms after). With
// keep_cache plus the same 1 s attribute timeout, the guest still revalidates a file's attributes
// at most 1 s after use, and FUSE's auto_inval_data (virtiofsd turns it on) drops the cached pages
// when the size or mtime changed on the host. Host-side edits (docker cp, bind mounts) show up
// within 1 s as with auto (tests/it case 17); only a same-size edit inside that 1 s window can be
// read stale once, where auto would have re-read on open.
// Kept on KVM too (where it was measured only under TCG): what it saves is not TCG translation but
// I/O: with auto every open throws the file's guest page cache away, so each exec re-reads the
// whole binary through the virtio-fs queue (FUSE READs served by virtiofsd's pread and copied into
// guest memory), work that KVM does not make free, only cheaper; and the coherence trade-off (the
// 1 s window above) does not depend on the accelerator at all.
export interface VirtiofsdOpts {
  socket: string
  source: string
  cache: 'auto' | 'none' | 'always'
  sysAdmin: boolean
}

export function buildVirtiofsdArgs(o: VirtiofsdOpts): string[] {
  return [
    ...(o.sysAdmin ? ['-o', 'modcaps=+sys_admin'] : []),
    ...cacheArgs(o.cache),
    '-o', 'announce_submounts',
    '-o', 'xattr',
    `--socket-path=${o.socket}`,
    '-o', `source=${o.source}`,
    '-o', 'sandbox=chroot',
  ]
}

export function cacheArgs(cache: VirtiofsdOpts['cache']): string[] {
  return cache === 'auto' ? ['-o', 'cache=always', '-o', 'timeout=1'] : ['-o', `cache=${cache}`]
}
