/* RunCVM overrides, appended to Debian's localoptions.h by packaging/patched.ts.
 * Options defined here win over default_options.h (see dropbear's INSTALL). */

/* Host keys live in the container's private /.runcvm, not the image's /etc */
#define DSS_PRIV_FILENAME "/.runcvm/dropbear/dss_host_key"
#define RSA_PRIV_FILENAME "/.runcvm/dropbear/rsa_host_key"
#define ECDSA_PRIV_FILENAME "/.runcvm/dropbear/ecdsa_host_key"
#define ED25519_PRIV_FILENAME "/.runcvm/dropbear/ed25519_host_key"

/* docker exec sessions print nothing of their own */
#define DO_MOTD 0

/* Used by runcvm-no-passwd.patch: one key file, and the shell of the root
 * account synthesized when the image has no passwd entry for root. */
#define RUNCVM_AUTHORIZED_KEYS "/.runcvm/dropbear/authorized_keys"
#define RUNCVM_AUTHORIZED_KEYS_DIR "/.runcvm/dropbear"
#define RUNCVM_ROOT_SHELL "/.runcvm/guest/bin/sh"

/* No re-exec of the server for every connection: under TCG the fresh
 * dynamically linked process cost ~100 ms before the banner on every
 * docker exec. The forked child still gets a new session and keys. */
#define DROPBEAR_REEXEC 0

/* Every docker exec connects from the same address (the container side of
 * the VM's private link), and under TCG key exchange and login take a while:
 * with the default 5 unauthenticated connections per address, a sixth exec
 * started at the same instant was closed by the server ("Remote closed the
 * connection") and lost. Only the container side reaches this server. */
#define MAX_UNAUTH_PER_IP 64
#define MAX_UNAUTH_CLIENTS 64
