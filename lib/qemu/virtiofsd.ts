// virtiofsd argv (upstream runcvm-ctr-virtiofsd). Pure.
//   sandbox=chroot: the default namespace sandbox needs CAP_SYS_ADMIN (DESIGN §4);
//   announce_submounts: the VM sees /.runcvm, volumes etc. as their own mounts (st_dev);
//   xattr: file capabilities and ACL xattrs work; modcaps=+sys_admin with RUNCVM_SYS_ADMIN=1.
export interface VirtiofsdOpts {
  socket: string
  source: string
  cache: 'auto' | 'none' | 'always'
  sysAdmin: boolean
}

export function buildVirtiofsdArgs(o: VirtiofsdOpts): string[] {
  return [
    ...(o.sysAdmin ? ['-o', 'modcaps=+sys_admin'] : []),
    '-o', `cache=${o.cache}`,
    '-o', 'announce_submounts',
    '-o', 'xattr',
    `--socket-path=${o.socket}`,
    '-o', `source=${o.source}`,
    '-o', 'sandbox=chroot',
  ]
}
