/* Generated from lib/paths.ts by packaging/paths-header.ts (node build.mjs); do not edit. */
#ifndef RUNCVM_PATHS_H
#define RUNCVM_PATHS_H

/* container mode: run on SIGTERM (--on-term default) */
#define RUNCVM_CTR_SHUTDOWN "/.runcvm/guest/scripts/runcvm-ctr-shutdown"
/* container mode: exec'd with the command's status (--on-exit default) */
#define RUNCVM_CTR_EXIT "/.runcvm/guest/scripts/runcvm-ctr-exit"

#endif
