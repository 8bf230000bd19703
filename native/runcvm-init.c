/*
 * runcvm-init: a small PID-1 supervisor for RunCVM containers and VMs.
 *
 * Written for RunCVM-TS in the spirit of Yelp's dumb-init (signal proxy + zombie reaper), with
 * the twists RunCVM needs. Three modes:
 *
 *   default    container PID 1. Runs the command (normally runcvm-ctr-qemu) in its own session,
 *              forwards signals to its process group, except SIGTERM, which instead starts the
 *              shutdown program (ACPI power-down of the VM); when the command ends with status S,
 *              execs the exit program with argv [prog, "S"] (it turns QEMU's status back into
 *              the entrypoint's).
 *   --no-fork  only give the command a session and a controlling tty, apply the ids/cwd, exec.
 *              `docker exec` uses it through --request (see below). With --stop-signal N and
 *              --control-port NAME (an init as VM PID 1: systemd, busybox init), a child stays
 *              behind that sends signal N to the command on every "stop" line on that port.
 *   --vm       VM PID 1 supervisor around the user's entrypoint: reaps orphans, stops gracefully
 *              on SIGTERM/SIGINT/SIGUSR1/SIGUSR2/SIGPWR or a "stop" line on a virtio-serial
 *              port, records the entrypoint's status in --exit-file and powers the VM off.
 *
 * Usage: runcvm-init [-v] [--no-fork] [--vm] [--exit-file FILE] [--control-port NAME]
 *                    [--stop-signal N] [--uid N] [--gid N] [--groups a,b,c] [--cwd DIR]
 *                    [--stdin SPEC] [--stdout SPEC] [--stderr SPEC] [--tty-size ROWS,COLS]
 *                    [--on-term PATH] [--on-exit PATH] [--] command [args...]
 *
 * --stdin/--stdout/--stderr SPEC: the workload's fd 0/1/2, opened once by us (before the fork)
 * and dup'ed in the workload: SPEC is `port:NAME` (the virtio-serial port of that name, see
 * /sys/class/virtio-ports) or a path. If it cannot be opened the inherited fd is kept (warning).
 * --tty-size: window size applied to the workload's stdin when it is a tty (the client's size).
 * --signal-relay PATH (default mode): every signal meant for the workload (all but SIGTERM, SIGCHLD,
 *   SIGWINCH, job control and SIGRTMIN+3, which keep their own meaning here) becomes a
 *   "signal N\n" line on the unix socket PATH (QEMU's end of the VM's control port), where
 *   runcvm-init --vm sends it to the workload: `docker kill -s HUP` reaches the workload, never
 *   QEMU (which would end on SIGHUP/SIGINT). Without it such signals go to the command's group.
 * --watch PID=NAME (default mode, repeatable): PID is one of our children the VM cannot live
 *   without (virtiofsd). If it dies while the command still runs, we SIGKILL the command's group
 *   (QEMU), print one `RunCVM: Error: NAME (pid PID) died ...` line and exit with
 *   WATCH_FAULT_STATUS. A plain exit 0 is given WATCH_GRACE_MS first: virtiofsd ends by
 *   itself when QEMU powers off and closes its socket, which is no fault.
 * --respawn PIDFILE=PROGRAM ARGS (default mode, repeatable): a daemon (dnsmasq) that forks into
 *   the background and records its pid in PIDFILE. When a process we reap is the one PIDFILE
 *   names, PROGRAM is started again (argv split on single spaces, no quoting) with a warning;
 *   not more than once per RESPAWN_MIN_MS.
 * --warnings-log PATH, --container-id ID (default mode): where the restart warning goes: one line
 *   "TIME ID TEXT" appended to PATH when it is a regular file (RunCVM's warnings log, never the
 *   workload's streams), and the terminal when the container has one.
 * --tty-relay PATH (default mode, `docker run -t`): keep the container's tty as our controlling
 *   tty (the command gets a session without one), so docker's resizes raise SIGWINCH here; each
 *   one sends "ROWS COLS\n" to the unix socket PATH (QEMU's end of the VM's tty port).
 * --tty-port NAME (--vm): read "ROWS COLS" lines from that virtio-serial port and apply them to
 *   the workload's terminal (our stdin at start), which sends it SIGWINCH.
 *
 * --clear-env, --env NAME=VALUE: the command gets exactly the --env list as its environment
 * (PATH from that list is also what the command is looked up in, as runc does).
 * --cwd-error MSG: chdir to --cwd as root first; if even root cannot, print MSG + CRLF on stdout
 * and exit 126 (runc's `docker exec -w /missing` behaviour; the TS side writes runc's text).
 * --runc-exec-errors: find the command as runc does (PATH from the new env, Go's LookPath rules)
 * and report failures with runc's text on stdout, CRLF, exit 126, as `docker exec` shows them.
 * --request TOKEN / --request-file PATH: our argv, as NUL-terminated strings, base64-encoded in
 * TOKEN or raw in PATH (which is unlinked after reading). `docker exec` sends one of these as the
 * whole remote command, so no shell ever parses user data (lib/exec/codec.ts builds it).
 *
 * Test-only: --no-poweroff (with --vm) skips reboot(2) and exits with the status instead.
 * Whatever the flag, --vm never signals "every process" (kill(-1)) unless it really is PID 1.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "runcvm-paths.h"

/* Defaults: the container roles, as seen from inside the container (package mounted ro). */
#define DEFAULT_ON_TERM RUNCVM_CTR_SHUTDOWN
#define DEFAULT_ON_EXIT RUNCVM_CTR_EXIT

/* --vm: on a graceful stop the workload gets all the time it takes: no SIGKILL from here. Docker's
 * SIGKILL after `docker stop -t` (default 10 s) ends the container, as it ends a runc one; the
 * guest cannot know -t (Docker passes it to nobody), so any timer here would cut a slow but clean
 * exit short. Meanwhile the guest's dirty pages go to the disks every STOP_SYNC_MS (in a child,
 * so that reaping goes on), so that what the workload wrote before Docker's SIGKILL survives it as
 * it would under runc, where written data sits in the host's page cache. */
#define STOP_SYNC_MS 1000
/* --vm: how long leftover processes get after the main command ended, before SIGKILL. */
#define REAP_GRACE_MS 2000
/* --vm: retry interval for the control port after the host side hung up. */
#define PORT_RETRY_MS 1000

/* default mode: --watch children and --respawn daemons (see the header). */
#define MAX_WATCH 8
/* virtiofsd exits 0 only when QEMU closed its socket, i.e. QEMU is on its way out; on a loaded
 * host QEMU can take seconds to finish after that, and calling it a fault printed a false error
 * after a clean run. A hung QEMU is still ended, later. */
#define WATCH_GRACE_MS 10000
#define WATCH_FAULT_STATUS 1
#define RESPAWN_MIN_MS 1000
#define MAX_RESPAWN_ARGS 32

#define MAX_GROUPS 256
/* --request: the decoded argv's limits (dropbear caps a command at 9000 bytes; files are bigger). */
#define MAX_REQUEST_BYTES (4 << 20)
#define MAX_REQUEST_ARGS 65536

struct opts {
    int verbose;
    int no_fork;
    int vm;
    int no_poweroff;
    const char *exit_file;
    const char *control_port;
    int stop_signal;
    const char *tty_port;
    const char *tty_relay;
    const char *signal_relay;
    int have_uid, have_gid, have_groups;
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    size_t ngroups;
    const char *cwd;
    const char *cwd_error;
    int runc_errors;
    int clear_env;
    char **env;
    size_t nenv;
    const char *stdio_spec[3];
    int stdio_fd[3];
    unsigned short rows, cols;
    const char *on_term;
    const char *on_exit;
    struct { pid_t pid; const char *name; } watch[MAX_WATCH];
    size_t nwatch;
    struct { const char *pidfile; char *argv[MAX_RESPAWN_ARGS + 1]; long long last; } respawn[MAX_WATCH];
    size_t nrespawn;
    const char *warnings_log;
    const char *container_id;
    char **argv;
};

static struct opts o;

static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug(const char *fmt, ...)
{
    if (!o.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("[runcvm-init] ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("runcvm-init: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: runcvm-init [-v] [--no-fork] [--vm] [--exit-file FILE] [--control-port NAME]\n"
        "                   [--uid N] [--gid N] [--groups a,b,c] [--cwd DIR]\n"
        "                   [--stdin SPEC] [--stdout SPEC] [--stderr SPEC] [--tty-size ROWS,COLS]\n"
        "                   [--on-term PATH] [--on-exit PATH] [--] command [args...]\n"
        "\n"
        "  (default)           supervise as container PID 1: forward signals, SIGTERM runs\n"
        "                      --on-term (" DEFAULT_ON_TERM "),\n"
        "                      exit status S is passed to --on-exit (" DEFAULT_ON_EXIT ")\n"
        "  --no-fork           set up session + controlling tty, ids and cwd, then exec\n"
        "  --vm                VM PID 1: reap, graceful stop, write --exit-file, power off\n"
        "  --control-port NAME virtio-serial port name to read \"stop\" lines from (--vm, or\n"
        "                      --no-fork with --stop-signal)\n"
        "  --stop-signal N     --no-fork: a child sends signal N to the command on \"stop\"\n"
        "  --tty-port NAME     virtio-serial port with \"ROWS COLS\" lines for the terminal (--vm)\n"
        "  --tty-relay PATH    send the tty's size to unix socket PATH on SIGWINCH (default mode)\n"
        "  --watch PID=NAME    a child the VM needs: its death ends the container (default mode)\n"
        "  --respawn PIDFILE=/PROGRAM ARGS  restart that daemon when it dies (default mode)\n"
        "  --warnings-log PATH, --container-id ID  where --respawn's warning lines go\n"
        "  --stdin/--stdout/--stderr SPEC  workload fd 0/1/2: port:NAME (virtio-serial) or a path\n"
        "  --tty-size ROWS,COLS  window size for a tty stdin\n"
        "  --clear-env, --env NAME=VALUE  the command's environment is exactly the --env list\n"
        "  --cwd-error MSG     root cannot chdir to --cwd: MSG on stdout, exit 126\n"
        "  --runc-exec-errors  look the command up and report failures as runc exec does\n"
        "  --request TOKEN, --request-file PATH  options + command as NUL-separated argv\n"
        "                      (base64 in TOKEN; PATH is removed after reading)\n"
        "  -v                  debug output on stderr\n");
}

static int parse_id(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !*s || *end || v > UINT_MAX - 1)
        return -1;
    *out = v;
    return 0;
}

static void parse_args(int argc, char **argv);

/* Standard base64 (RFC 4648, '=' padding); returns the decoded length or -1. */
static long base64_decode(const char *in, unsigned char *out, size_t cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned long acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '=') { pad++; continue; }
        const char *hit = pad ? NULL : strchr(alphabet, *p);
        if (!hit)
            return -1;
        acc = (acc << 6) | (unsigned long)(hit - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return pad > 2 ? -1 : (long)n;
}

static unsigned char *read_request_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { err("cannot open request %s: %s", path, strerror(errno)); exit(2); }
    unlink(path);
    unsigned char *buf = malloc(MAX_REQUEST_BYTES);
    size_t n = 0;
    ssize_t r;
    if (!buf) { err("out of memory"); exit(2); }
    while (n < MAX_REQUEST_BYTES && (r = read(fd, buf + n, MAX_REQUEST_BYTES - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) { err("cannot read request %s: %s", path, strerror(errno)); exit(2); }
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* --request/--request-file: split the NUL-terminated strings into a fresh argv and parse that
 * instead (options are reset first; a request may not nest another request). */
static void parse_request(const char *token, const char *path)
{
    size_t len = 0;
    unsigned char *buf;
    if (token) {
        buf = malloc(strlen(token) + 1);
        long n = buf ? base64_decode(token, buf, strlen(token)) : -1;
        if (n < 0) { err("malformed --request (not base64)"); exit(2); }
        len = (size_t)n;
    } else {
        buf = read_request_file(path, &len);
    }
    if (len == 0 || buf[len - 1] != '\0') { err("malformed request (strings must end in NUL)"); exit(2); }
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += buf[i] == '\0';
    if (count > MAX_REQUEST_ARGS) { err("malformed request (too many strings)"); exit(2); }
    char **argv = calloc(count + 2, sizeof *argv);
    if (!argv) { err("out of memory"); exit(2); }
    argv[0] = "runcvm-init";
    size_t k = 1;
    for (size_t i = 0; i < len; i += strlen((char *)buf + i) + 1)
        argv[k++] = (char *)buf + i;
    for (size_t i = 1; i < k; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--request", 9) == 0) { err("malformed request (nested --request)"); exit(2); }
    }
    memset(&o, 0, sizeof o);
    optind = 0; /* glibc: full re-initialisation of getopt */
    parse_args((int)k, argv);
}

static void parse_args(int argc, char **argv)
{
    enum { O_NOFORK = 256, O_VM, O_EXITFILE, O_PORT, O_UID, O_GID, O_GROUPS, O_CWD, O_TERM, O_EXIT, O_NOPOWER, O_STDIN, O_STDOUT, O_STDERR, O_TTYSIZE,
           O_CLEARENV, O_ENV, O_CWDERR, O_REQUEST, O_REQFILE, O_TTYPORT, O_TTYRELAY, O_RUNCERR, O_SIGRELAY,
           O_WATCH, O_RESPAWN, O_WARNLOG, O_CTRID, O_STOPSIG };
    static const struct option longopts[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "no-fork", no_argument, NULL, O_NOFORK },
        { "vm", no_argument, NULL, O_VM },
        { "exit-file", required_argument, NULL, O_EXITFILE },
        { "control-port", required_argument, NULL, O_PORT },
        { "uid", required_argument, NULL, O_UID },
        { "gid", required_argument, NULL, O_GID },
        { "groups", required_argument, NULL, O_GROUPS },
        { "cwd", required_argument, NULL, O_CWD },
        { "on-term", required_argument, NULL, O_TERM },
        { "on-exit", required_argument, NULL, O_EXIT },
        { "no-poweroff", no_argument, NULL, O_NOPOWER },
        { "stdin", required_argument, NULL, O_STDIN },
        { "stdout", required_argument, NULL, O_STDOUT },
        { "stderr", required_argument, NULL, O_STDERR },
        { "tty-size", required_argument, NULL, O_TTYSIZE },
        { "clear-env", no_argument, NULL, O_CLEARENV },
        { "env", required_argument, NULL, O_ENV },
        { "cwd-error", required_argument, NULL, O_CWDERR },
        { "request", required_argument, NULL, O_REQUEST },
        { "request-file", required_argument, NULL, O_REQFILE },
        { "tty-port", required_argument, NULL, O_TTYPORT },
        { "tty-relay", required_argument, NULL, O_TTYRELAY },
        { "signal-relay", required_argument, NULL, O_SIGRELAY },
        { "runc-exec-errors", no_argument, NULL, O_RUNCERR },
        { "watch", required_argument, NULL, O_WATCH },
        { "respawn", required_argument, NULL, O_RESPAWN },
        { "warnings-log", required_argument, NULL, O_WARNLOG },
        { "container-id", required_argument, NULL, O_CTRID },
        { "stop-signal", required_argument, NULL, O_STOPSIG },
        { NULL, 0, NULL, 0 },
    };
    unsigned long v;
    int c;

    o.on_term = DEFAULT_ON_TERM;
    o.on_exit = DEFAULT_ON_EXIT;
    /* '+': stop at the first non-option, so the command's own flags are left alone. */
    while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'v': o.verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        case O_NOFORK: o.no_fork = 1; break;
        case O_VM: o.vm = 1; break;
        case O_EXITFILE: o.exit_file = optarg; break;
        case O_PORT: o.control_port = optarg; break;
        case O_UID:
            if (parse_id(optarg, &v)) { err("invalid --uid '%s'", optarg); exit(2); }
            o.uid = (uid_t)v; o.have_uid = 1; break;
        case O_GID:
            if (parse_id(optarg, &v)) { err("invalid --gid '%s'", optarg); exit(2); }
            o.gid = (gid_t)v; o.have_gid = 1; break;
        case O_GROUPS: {
            /* Comma-separated numeric gids; an empty string means "no supplementary groups". */
            char *copy = strdup(optarg), *save = NULL, *tok;
            if (!copy) { err("out of memory"); exit(2); }
            o.ngroups = 0;
            for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (o.ngroups == MAX_GROUPS || parse_id(tok, &v)) {
                    err("invalid --groups '%s'", optarg);
                    exit(2);
                }
                /* Docker lists a group twice when --group-add repeats an /etc/group
                 * membership; setgroups(2) keeps duplicates, runc does not. */
                size_t k = 0;
                while (k < o.ngroups && o.groups[k] != (gid_t)v)
                    k++;
                if (k == o.ngroups)
                    o.groups[o.ngroups++] = (gid_t)v;
            }
            free(copy);
            o.have_groups = 1;
            break;
        }
        case O_CWD: o.cwd = optarg; break;
        case O_CLEARENV: o.clear_env = 1; break;
        case O_ENV:
            if (!strchr(optarg, '=')) { err("invalid --env '%s' (want NAME=VALUE)", optarg); exit(2); }
            o.env = realloc(o.env, (o.nenv + 1) * sizeof *o.env);
            if (!o.env) { err("out of memory"); exit(2); }
            o.env[o.nenv++] = optarg;
            break;
        case O_CWDERR: o.cwd_error = optarg; break;
        case O_TTYPORT: o.tty_port = optarg; break;
        case O_TTYRELAY: o.tty_relay = optarg; break;
        case O_SIGRELAY: o.signal_relay = optarg; break;
        case O_RUNCERR: o.runc_errors = 1; break;
        case O_WATCH: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] || o.nwatch == MAX_WATCH) { err("invalid --watch '%s' (want PID=NAME)", optarg); exit(2); }
            *eq = '\0';
            if (parse_id(optarg, &v) || v == 0) { *eq = '='; err("invalid --watch '%s' (want PID=NAME)", optarg); exit(2); }
            o.watch[o.nwatch].pid = (pid_t)v;
            o.watch[o.nwatch++].name = eq + 1;
            break;
        }
        case O_WARNLOG: o.warnings_log = optarg; break;
        case O_CTRID: o.container_id = optarg; break;
        case O_RESPAWN: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || eq[1] != '/' || o.nrespawn == MAX_WATCH) { err("invalid --respawn '%s' (want PIDFILE=/PROGRAM ARGS)", optarg); exit(2); }
            *eq = '\0';
            size_t k = o.nrespawn++, n = 0;
            o.respawn[k].pidfile = optarg;
            for (char *save = NULL, *tok = strtok_r(eq + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                if (n == MAX_RESPAWN_ARGS) { err("invalid --respawn: more than %d arguments", MAX_RESPAWN_ARGS); exit(2); }
                o.respawn[k].argv[n++] = tok;
            }
            o.respawn[k].argv[n] = NULL;
            break;
        }
        case O_STOPSIG:
            if (parse_id(optarg, &v) || v < 1 || v > 64) { err("invalid --stop-signal '%s'", optarg); exit(2); }
            o.stop_signal = (int)v; break;
        case O_REQUEST: case O_REQFILE:
            /* The request replaces the whole command line (nothing may follow it). */
            if (optind != argc) { err("--request/--request-file must be the last argument"); exit(2); }
            parse_request(c == O_REQUEST ? optarg : NULL, c == O_REQFILE ? optarg : NULL);
            return;
        case O_TERM: o.on_term = optarg; break;
        case O_EXIT: o.on_exit = optarg; break;
        case O_NOPOWER: o.no_poweroff = 1; break;
        case O_STDIN: o.stdio_spec[0] = optarg; break;
        case O_STDOUT: o.stdio_spec[1] = optarg; break;
        case O_STDERR: o.stdio_spec[2] = optarg; break;
        case O_TTYSIZE: {
            unsigned r, c;
            char extra;
            if (sscanf(optarg, "%u,%u%c", &r, &c, &extra) != 2 || r > 65535 || c > 65535) {
                err("invalid --tty-size '%s'", optarg);
                exit(2);
            }
            o.rows = (unsigned short)r;
            o.cols = (unsigned short)c;
            break;
        }
        default: usage(stderr); exit(2);
        }
    }
    if (o.vm && o.no_fork) {
        err("--vm and --no-fork are mutually exclusive");
        exit(2);
    }
    if (o.stop_signal && (!o.no_fork || !o.control_port)) {
        err("--stop-signal needs --no-fork and --control-port");
        exit(2);
    }
    if (optind >= argc) {
        usage(stderr);
        exit(2);
    }
    o.argv = &argv[optind];
}

/* ---- time ---- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 255;
}

/* ---- virtio-serial ports and the workload's stdio ---- */

/* find /sys/class/virtio-ports/<vportXpY>/name == NAME; path = /dev/<vportXpY>. */
static int port_path(const char *name, char *path, size_t size)
{
    const char *base = "/sys/class/virtio-ports";
    DIR *d = opendir(base);
    struct dirent *e;
    int found = -1;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char np[PATH_MAX], buf[256];
        if (e->d_name[0] == '.')
            continue;
        snprintf(np, sizeof np, "%s/%s/name", base, e->d_name);
        int nf = open(np, O_RDONLY | O_CLOEXEC);
        if (nf < 0)
            continue;
        ssize_t n = read(nf, buf, sizeof buf - 1);
        close(nf);
        if (n <= 0)
            continue;
        buf[n] = 0;
        buf[strcspn(buf, "\r\n")] = 0;
        if (strcmp(buf, name) != 0)
            continue;
        snprintf(path, size, "/dev/%s", e->d_name);
        found = 0;
        break;
    }
    closedir(d);
    return found;
}

/* Open --stdin/--stdout/--stderr once, in the supervisor: a virtio-serial port can be open only
 * once at a time, and keeping our own copy lets finish_vm close the last reference itself. */
static void open_stdio(void)
{
    for (int i = 0; i < 3; i++) {
        o.stdio_fd[i] = -1;
        const char *spec = o.stdio_spec[i];
        if (!spec)
            continue;
        char path[PATH_MAX];
        if (strncmp(spec, "port:", 5) == 0) {
            if (port_path(spec + 5, path, sizeof path) < 0) {
                err("no virtio-serial port named %s; fd %d stays on the console", spec + 5, i);
                continue;
            }
        } else {
            snprintf(path, sizeof path, "%s", spec);
        }
        o.stdio_fd[i] = open(path, (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC | O_NOCTTY);
        if (o.stdio_fd[i] < 0)
            err("cannot open %s for fd %d: %s; it stays on the console", path, i, strerror(errno));
        else
            debug("fd %d of the workload is %s", i, path);
    }
}

/* In the workload: put the opened files on fds 0-2 (dup2 clears FD_CLOEXEC). */
static void install_stdio(void)
{
    for (int i = 0; i < 3; i++) {
        if (o.stdio_fd[i] < 0)
            continue;
        if (dup2(o.stdio_fd[i], i) < 0) {
            err("dup2 for fd %d: %s", i, strerror(errno));
            _exit(126);
        }
    }
}

/* Close our copies (supervisor side) so the workload's closes are the last ones. */
static void close_stdio(void)
{
    for (int i = 0; i < 3; i++) {
        if (o.stdio_fd[i] >= 0)
            close(o.stdio_fd[i]);
        o.stdio_fd[i] = -1;
    }
}

/* Size a terminal (--tty-size at start, --tty-port lines later); the kernel sends its foreground
 * group SIGWINCH when the size changes. */
static void set_winsize(int fd, unsigned rows, unsigned cols)
{
    struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
    if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
        debug("TIOCSWINSZ: %s", strerror(errno));
    else
        debug("terminal size: %u rows, %u cols", rows, cols);
}

/* ---- the workload side of fork() (and all of --no-fork) ---- */

/* New session; take stdin as controlling tty if it is one (job control, ^C, window size),
 * unless the supervisor keeps it to hear SIGWINCH (--tty-relay). */
static void become_session_leader(void)
{
    if (setsid() < 0)
        debug("setsid: %s", strerror(errno));
    if (o.tty_relay && !o.vm && !o.no_fork)
        return;
    /* If another session still holds the tty, take it over (arg 1: allowed with CAP_SYS_ADMIN,
     * i.e. root in the VM); the tty is the workload's console either way. */
    if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0 && ioctl(STDIN_FILENO, TIOCSCTTY, 1) < 0)
        debug("TIOCSCTTY on stdin: %s", strerror(errno));
}

/* Order matters: supplementary groups and gid can only be changed while still root. */
static void drop_ids(void)
{
    if (o.have_groups && setgroups(o.ngroups, o.groups) < 0) {
        err("setgroups: %s", strerror(errno));
        _exit(126);
    }
    if (o.have_gid && setgid(o.gid) < 0) {
        err("setgid(%u): %s", (unsigned)o.gid, strerror(errno));
        _exit(126);
    }
    if (o.have_uid && setuid(o.uid) < 0) {
        err("setuid(%u): %s", (unsigned)o.uid, strerror(errno));
        _exit(126);
    }
}

/* ---- --runc-exec-errors: what `docker exec` prints when runc cannot start the command ---- */

static void __attribute__((noreturn)) runc_exec_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void __attribute__((noreturn)) runc_exec_failed(const char *fmt, ...)
{
    char inner[PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inner, sizeof inner, fmt, ap);
    va_end(ap);
    dprintf(STDOUT_FILENO, "OCI runtime exec failed: exec failed: unable to start container process: %s: unknown\r\n", inner);
    _exit(126);
}

/* Go's errno strings are strerror(3)'s with a lower-case first letter. */
static const char *go_strerror(int e)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s", strerror(e));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/* Go 1.19 os/exec findExecutable, as runc 1.1 is built with: 0 for a non-directory with an x bit,
 * NOT_EXECUTABLE when it exists but is not that, else stat's errno. */
#define NOT_EXECUTABLE (-1)
static int find_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno;
    return !S_ISDIR(st.st_mode) && (st.st_mode & 0111) ? 0 : NOT_EXECUTABLE;
}

/* Go's exec.LookPath with PATH from the command's (new) environment; returns the path to execve. */
static const char *runc_lookpath(const char *file)
{
    static char found[PATH_MAX];
    if (strchr(file, '/')) {
        int e = find_executable(file);
        if (e == NOT_EXECUTABLE)
            runc_exec_failed("exec: \"%s\": permission denied", file);
        if (e)
            runc_exec_failed("exec: \"%s\": stat %s: %s", file, file, go_strerror(e));
        return file;
    }
    /* filepath.SplitList: an unset or empty PATH has no entries; an empty entry means ".". */
    const char *path = getenv("PATH");
    for (const char *p = path; p && *path; ) {
        const char *colon = strchrnul(p, ':');
        int len = (int)(colon - p);
        snprintf(found, sizeof found, "%.*s/%s", len ? len : 1, len ? p : ".", file);
        if (find_executable(found) == 0)
            return found;
        p = *colon ? colon + 1 : NULL;
    }
    runc_exec_failed("exec: \"%s\": executable file not found in $PATH", file);
}

/* Become the workload. Exit codes follow runc: 126 cannot run, 127 not found. */
static void exec_workload(void)
{
    install_stdio();
    become_session_leader();
    if ((o.rows || o.cols) && isatty(STDIN_FILENO))
        set_winsize(STDIN_FILENO, o.rows, o.cols);
    if (o.cwd && o.cwd_error && chdir(o.cwd) < 0) {
        /* stdout, CRLF: byte-exact with what docker prints for runc (see lib/exec/codec.ts). */
        dprintf(STDOUT_FILENO, "%s\r\n", o.cwd_error);
        _exit(126);
    }
    drop_ids();
    if (o.cwd && chdir(o.cwd) < 0) {
        /* Same wording as runc, so users see one message whatever the runtime. */
        err("chdir to cwd (\"%s\") set in config.json failed: %s", o.cwd, strerror(errno));
        _exit(126);
    }
    if (o.clear_env)
        clearenv();
    for (size_t i = 0; i < o.nenv; i++)
        if (putenv(o.env[i]) != 0)
            debug("putenv: %s", strerror(errno));
    if (o.runc_errors) {
        const char *file = runc_lookpath(o.argv[0]);
        execv(file, o.argv);
        runc_exec_failed("exec %s: %s", file, go_strerror(errno));
    }
    execvp(o.argv[0], o.argv);
    int e = errno;
    err("exec %s failed: %s", o.argv[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

static pid_t fork_workload(const sigset_t *restore)
{
    pid_t pid = fork();
    if (pid < 0) {
        err("fork: %s", strerror(errno));
        exit(1);
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, restore, NULL);
        exec_workload();
    }
    debug("started %s as pid %d", o.argv[0], (int)pid);
    return pid;
}

/* Signal the child's process group (it is a session leader, so pgid == pid); fall back to the
 * process itself if the group is gone (e.g. it changed its own group). */
static void forward(pid_t child, int sig)
{
    if (kill(-child, sig) < 0 && kill(child, sig) < 0)
        debug("forwarding signal %d to %d: %s", sig, (int)child, strerror(errno));
    else
        debug("forwarded signal %d to group %d", sig, (int)child);
}

/* ---- default mode: container PID 1 ---- */

/* Let go of our controlling tty so the workload's new session can take it. If we were the
 * tty's session leader the kernel now sends SIGHUP+SIGCONT to our (blocked) group: drop those
 * pending signals here, they are not meant for the workload. Call with all signals blocked. */
static void detach_tty(void)
{
    if (!isatty(STDIN_FILENO))
        return;
    int leader = getsid(0) == getpid();
    if (ioctl(STDIN_FILENO, TIOCNOTTY) < 0) {
        debug("TIOCNOTTY: %s", strerror(errno));
        return;
    }
    if (leader) {
        sigset_t junk;
        struct timespec zero = { 0, 0 };
        sigemptyset(&junk);
        sigaddset(&junk, SIGHUP);
        sigaddset(&junk, SIGCONT);
        while (sigtimedwait(&junk, NULL, &zero) > 0)
            ;
    }
    debug("detached from the controlling tty");
}


static void spawn_shutdown(const sigset_t *restore)
{
    pid_t pid = fork();
    if (pid < 0) {
        err("fork for %s: %s", o.on_term, strerror(errno));
        return;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, restore, NULL);
        char *argv[] = { (char *)o.on_term, NULL };
        execv(o.on_term, argv);
        err("cannot run shutdown program %s: %s", o.on_term, strerror(errno));
        _exit(127);
    }
    debug("SIGTERM: started %s as pid %d", o.on_term, (int)pid);
}

/* The exit program gets the status (128+N for a signal death) and, for a signal death, a second
 * argument signal=N: QEMU killed by a signal (e.g. SIGBUS, 135) must not be read as a qemu-exit
 * status (2N-1, which 135 also is). */
static void __attribute__((noreturn)) run_exit_program(int wstatus)
{
    int status = status_of(wstatus);
    char arg[16], sigarg[24];
    snprintf(arg, sizeof arg, "%d", status & 0xff);
    snprintf(sigarg, sizeof sigarg, "signal=%d", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    char *argv[] = { (char *)o.on_exit, arg, WIFSIGNALED(wstatus) ? sigarg : NULL, NULL };
    debug("main child ended with status %s; exec %s %s", arg, o.on_exit, arg);
    fflush(NULL);
    execv(o.on_exit, argv);
    debug("exec %s failed (%s); exiting with %d", o.on_exit, strerror(errno), status);
    exit(status);
}

/* --tty-relay: the tty's current size to QEMU's socket for the VM's tty port. The connection is
 * kept (the guest reopens its port only about once a second after a hang-up) and remade once if
 * QEMU dropped it; before QEMU listens, a resize is simply lost (the size at start is passed
 * separately). */
static void relay_winsize(void)
{
    static int fd = -1;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
        return;
    char line[32];
    int len = snprintf(line, sizeof line, "%u %u\n", ws.ws_row, ws.ws_col);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (fd < 0) {
            struct sockaddr_un sa = { .sun_family = AF_UNIX };
            snprintf(sa.sun_path, sizeof sa.sun_path, "%s", o.tty_relay);
            fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                debug("tty relay: connect %s: %s", o.tty_relay, strerror(errno));
                close(fd);
                fd = -1;
                return;
            }
        }
        if (fd >= 0 && send(fd, line, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) == len) {
            debug("tty relay: %u rows, %u cols", ws.ws_row, ws.ws_col);
            return;
        }
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
}

/* --signal-relay: send "signal N" to the VM's control port. 1: handled here (sent, or dropped
 * with a debug line when QEMU is not listening yet); 0: the signal keeps its meaning here.
 * The connection is kept RELAY_HOLD_MS after the last line: QEMU passes the line on only once
 * the guest side has the port open (runcvm-init --vm reopens it up to PORT_RETRY_MS after a
 * host hang-up), and a client gone before that loses it. QEMU serves one client at a time, so
 * it is closed before a stop (the shutdown program connects next). */
#define RELAY_HOLD_MS 2500
static int relay_fd = -1;
static long long relay_close_at;

static void relay_close(void)
{
    if (relay_fd >= 0)
        close(relay_fd);
    relay_fd = -1;
}

static int relay_signal(int sig)
{
    if (!o.signal_relay || sig == SIGCHLD || sig == SIGTERM || sig == SIGWINCH || sig == SIGTSTP || sig == SIGTTIN ||
        sig == SIGTTOU || sig == SIGRTMIN + 3)
        return 0;
    char line[32];
    int len = snprintf(line, sizeof line, "signal %d\n", sig);
    if (relay_fd < 0) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", o.signal_relay);
        relay_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (relay_fd >= 0 && connect(relay_fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            relay_close();
    }
    if (relay_fd < 0 || send(relay_fd, line, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
        debug("signal %d not relayed to the VM (%s): dropped", sig, strerror(errno));
        relay_close();
    } else {
        debug("signal %d relayed to the VM", sig);
        relay_close_at = now_ms() + RELAY_HOLD_MS;
    }
    return 1;
}

/* "killed by signal 9 (Killed)" / "exited with status 3", for RunCVM: Error lines. */
static const char *death_of(int ws)
{
    static char buf[64];
    if (WIFSIGNALED(ws))
        snprintf(buf, sizeof buf, "killed by signal %d (%s)", WTERMSIG(ws), strsignal(WTERMSIG(ws)));
    else
        snprintf(buf, sizeof buf, "exited with status %d", status_of(ws));
    return buf;
}

/* Wait up to `ms` for the main child to end (other children are reaped meanwhile, and a --respawn
 * daemon is not restarted: the container is going). Returns its wait status, or -1. */
static int wait_child_for(pid_t child, int ms)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    long long deadline = now_ms() + ms;
    for (;;) {
        int ws;
        pid_t p;
        while ((p = waitpid(-1, &ws, WNOHANG)) > 0)
            if (p == child)
                return ws;
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
        sigtimedwait(&chld, NULL, &ts);
    }
}

/* --watch: `p` ended with `ws`. Returns 0 if it is not watched. If the VM is powering off anyway
 * (a clean exit, the command ends within WATCH_GRACE_MS) the command's status goes to the exit
 * program as usual; otherwise the VM is cut off from what it needs: say what died, kill QEMU and
 * end the container. */
static int watched_died(pid_t p, int ws, pid_t child)
{
    size_t i = 0;
    while (i < o.nwatch && o.watch[i].pid != p)
        i++;
    if (i == o.nwatch)
        return 0;
    debug("watched %s (pid %d) ended: %s", o.watch[i].name, (int)p, death_of(ws));
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
        int cws = wait_child_for(child, WATCH_GRACE_MS);
        if (cws != -1)
            run_exit_program(cws);
    }
    /* QEMU first: it may be writing its own complaint about the lost socket, and our line must
     * not land in the middle of it. */
    forward(child, SIGKILL);
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    fprintf(stderr, "RunCVM: Error: %s (pid %d) died: %s; stopped the VM\n", o.watch[i].name, (int)p, death_of(ws));
    exit(WATCH_FAULT_STATUS);
}

/* A RunCVM warning: to the terminal if the container has one, and as "TIME ID TEXT" to
 * --warnings-log (only a regular file; never followed through a symlink, never blocking). */
static void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warning(const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", text);
    if (!o.warnings_log)
        return;
    int fd = open(o.warnings_log, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        struct timespec ts;
        struct tm tm;
        char stamp[32], line[640];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        int len = snprintf(line, sizeof line, "%s.%03ldZ %s %s\n", stamp, ts.tv_nsec / 1000000,
                           o.container_id && *o.container_id ? o.container_id : "-", text);
        if (len > 0 && write(fd, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1) < 0)
            debug("warnings log: %s", strerror(errno));
    }
    close(fd);
}

/* --respawn: `p` was reaped; if a daemon's pid file names it, start the daemon again. */
static void respawn_if_daemon(pid_t p, const sigset_t *restore)
{
    for (size_t i = 0; i < o.nrespawn; i++) {
        char buf[32] = "";
        int fd = open(o.respawn[i].pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0 || atoi(buf) != (int)p)
            continue;
        const char *name = strrchr(o.respawn[i].argv[0], '/');
        name = name ? name + 1 : o.respawn[i].argv[0];
        long long t = now_ms();
        if (o.respawn[i].last && t - o.respawn[i].last < RESPAWN_MIN_MS) {
            warning("RunCVM: Warning: %s (pid %d) died again within %d ms of its restart; not restarting it", name, (int)p, RESPAWN_MIN_MS);
            return;
        }
        o.respawn[i].last = t;
        pid_t pid = fork();
        if (pid < 0) {
            err("fork for %s: %s", name, strerror(errno));
            return;
        }
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, restore, NULL);
            setsid();
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
            }
            execv(o.respawn[i].argv[0], o.respawn[i].argv);
            _exit(127);
        }
        warning("RunCVM: Warning: %s (pid %d) died; restarted it", name, (int)p);
        return;
    }
}

static int supervise_container(void)
{
    sigset_t all, orig;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &orig);

    /* --tty-relay with a terminal: we stay its session leader (foreground group), so SIGWINCH
     * comes to us; the command's session has no controlling tty (QEMU only needs the fds). */
    if (!o.tty_relay || !isatty(STDOUT_FILENO)) {
        o.tty_relay = NULL;
        detach_tty();
    }

    pid_t child = fork_workload(&orig);

    for (;;) {
        int sig;
        if (relay_fd < 0) {
            if (sigwait(&all, &sig) != 0)
                continue;
        } else {
            long long left = relay_close_at - now_ms();
            struct timespec ts = { .tv_sec = left > 0 ? left / 1000 : 0, .tv_nsec = left > 0 ? (left % 1000) * 1000000 : 0 };
            sig = sigtimedwait(&all, NULL, &ts);
            if (sig < 0) {
                if (errno == EAGAIN)
                    relay_close();
                continue;
            }
        }
        if (relay_signal(sig))
            continue;
        if (sig == SIGTERM || sig == SIGRTMIN + 3)
            relay_close();
        switch (sig) {
        case SIGCHLD: {
            int ws;
            pid_t p;
            while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
                debug("reaped pid %d (status %d)", (int)p, status_of(ws));
                if (p == child)
                    run_exit_program(ws);
                if (!watched_died(p, ws, child))
                    respawn_if_daemon(p, &orig);
            }
            break;
        }
        case SIGTERM:
            /* Not forwarded: a clean VM power-down is the shutdown program's job. */
            spawn_shutdown(&orig);
            break;
        case SIGTSTP:
        case SIGTTIN:
        case SIGTTOU:
            /* Job control from a terminal: stop the workload, then ourselves (a no-op as real
             * PID 1, whose SIGSTOP the kernel ignores, but right when run under a shell). */
            forward(child, sig);
            if (getpid() != 1)
                kill(getpid(), SIGSTOP);
            break;
        case SIGWINCH:
            if (o.tty_relay)
                relay_winsize();
            else
                forward(child, sig);
            break;
        default:
            /* SIGRTMIN+3 is the STOPSIGNAL of systemd images (systemd's halt), so `docker stop`
             * sends it instead of SIGTERM: it asks for the same clean power-down. Forwarded, it
             * would end QEMU at once (its default action), losing whatever the guest had not
             * written yet. */
            if (sig == SIGRTMIN + 3)
                spawn_shutdown(&orig);
            else
                forward(child, sig);
        }
    }
}

/* ---- --vm mode: VM PID 1 ---- */

/* A virtio-serial port we read lines from (control: "stop"; tty: "ROWS COLS"). The guest side
 * reports a hang-up whenever the host side has no client, so a port is closed on HUP/EOF and
 * reopened PORT_RETRY_MS later rather than spinning on a permanently readable fd. */
struct line_port {
    const char *name;
    void (*on_line)(const char *);
    int fd;
    long long retry_at;
    char line[64];
    size_t len;
};

static void port_open(struct line_port *p, long long t)
{
    char path[PATH_MAX];
    p->retry_at = t + PORT_RETRY_MS;
    p->len = 0;
    p->fd = port_path(p->name, path, sizeof path) < 0 ? -1 : open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    debug("port %s: fd %d", p->name, p->fd);
}

/* poll() timeout contribution: time until the next reopen attempt (-1: none needed). */
static int port_timeout(const struct line_port *p, long long t)
{
    if (!p->name || p->fd >= 0)
        return -1;
    return p->retry_at > t ? (int)(p->retry_at - t) : 0;
}

/* Read what is there and call on_line for each complete line; reopen later on hang-up. */
static void port_service(struct line_port *p, short revents, long long t)
{
    if (!p->name)
        return;
    if (p->fd < 0) {
        if (t >= p->retry_at)
            port_open(p, t);
        return;
    }
    if (!revents)
        return;
    ssize_t r = 0;
    if (revents & POLLIN) {
        char buf[256];
        while ((r = read(p->fd, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < r; i++) {
                if (buf[i] == '\n' || buf[i] == '\r') {
                    p->line[p->len] = 0;
                    if (p->len)
                        p->on_line(p->line);
                    p->len = 0;
                } else if (p->len < sizeof p->line - 1) {
                    p->line[p->len++] = buf[i];
                }
            }
        }
    }
    if (r == 0 || (revents & (POLLHUP | POLLERR | POLLNVAL))) {
        close(p->fd);
        p->fd = -1;
        p->len = 0;
        p->retry_at = t + PORT_RETRY_MS;
    }
}

static int stop_requested;
/* A "signal N" line (runcvm-init --signal-relay on the container side) sends N to this pid, the
 * workload itself as runc's `kill` does (not its group); 0: not known here, ignored. */
static pid_t signal_target;
static void on_control_line(const char *line)
{
    int n = 0;
    if (strcmp(line, "stop") == 0) {
        debug("control port: stop");
        stop_requested = 1;
    } else if (sscanf(line, "signal %d", &n) == 1 && n > 0 && n < NSIG && n != SIGKILL && n != SIGSTOP) {
        if (signal_target > 0 && kill(signal_target, n) < 0)
            debug("control port: signal %d to %d: %s", n, (int)signal_target, strerror(errno));
        else
            debug("control port: signal %d to %d", n, (int)signal_target);
    } else {
        debug("control port: ignoring '%s'", line);
    }
}

static int tty_fd = -1;
static void on_tty_line(const char *line)
{
    unsigned rows, cols;
    char extra;
    if (sscanf(line, "%u %u%c", &rows, &cols, &extra) != 2 || rows > 65535 || cols > 65535) {
        debug("tty port: ignoring '%s'", line);
        return;
    }
    if (tty_fd >= 0)
        set_winsize(tty_fd, rows, cols);
}

/* Every process but us: kill(-1) when we really are PID 1 (in the VM or a pid namespace),
 * otherwise only the workload's group (a test on a shared host must never signal everything). */
static void signal_everyone(pid_t child, int sig)
{
    if (getpid() == 1)
        kill(-1, sig);
    else
        kill(-child, sig);
}

/* Reap until no children are left or `ms` pass. Returns 1 if none are left. */
static int reap_for(int sfd, int ms)
{
    long long deadline = now_ms() + ms;
    for (;;) {
        int ws;
        pid_t p;
        while ((p = waitpid(-1, &ws, WNOHANG)) > 0)
            debug("reaped pid %d", (int)p);
        if (p < 0 && errno == ECHILD)
            return 1;
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pf = { .fd = sfd, .events = POLLIN };
        if (poll(&pf, 1, left > 100 ? 100 : (int)left) > 0) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                ; /* only SIGCHLD matters now */
        }
    }
}

/* "S\n" to --exit-file, atomically (a temporary file next to it, then rename(2)), as every other
 * writer of the exit status does (lib/state.ts): the container side may read it at any moment. */
static void write_exit_file(int status)
{
    if (!o.exit_file)
        return;
    char line[16], tmp[PATH_MAX];
    int len = snprintf(line, sizeof line, "%d\n", status);
    if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", o.exit_file, (int)getpid()) >= (int)sizeof tmp) {
        err("exit file path too long: %s", o.exit_file);
        return;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        err("cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    int ok = write(fd, line, (size_t)len) == len;
    if (!ok)
        err("short write to %s", tmp);
    fsync(fd);
    close(fd);
    if (!ok || rename(tmp, o.exit_file) != 0) {
        if (ok)
            err("cannot rename %s to %s: %s", tmp, o.exit_file, strerror(errno));
        unlink(tmp);
        return;
    }
    debug("wrote status %d to %s", status, o.exit_file);
}

static void drain_console(void)
{
    fflush(NULL);
    if (isatty(STDOUT_FILENO))
        tcdrain(STDOUT_FILENO);
    if (isatty(STDERR_FILENO))
        tcdrain(STDERR_FILENO);
}

static void __attribute__((noreturn)) finish_vm(int sfd, pid_t child, int status)
{
    write_exit_file(status);
    signal_everyone(child, SIGTERM);
    signal_everyone(child, SIGCONT);
    if (!reap_for(sfd, REAP_GRACE_MS)) {
        debug("processes left after %d ms: SIGKILL", REAP_GRACE_MS);
        signal_everyone(child, SIGKILL);
        reap_for(sfd, 500);
    }
    close_stdio();
    drain_console();
    sync();
    if (o.no_poweroff || getpid() != 1) {
        debug("not powering off (%s); exit %d", o.no_poweroff ? "--no-poweroff" : "not PID 1", status);
        exit(status);
    }
    debug("powering off");
    reboot(RB_POWER_OFF);
    err("reboot(RB_POWER_OFF): %s", strerror(errno));
    exit(status);
}

static int supervise_vm(void)
{
    sigset_t all, orig;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &orig);
    /* The workload's terminal (it inherits our stdin): where --tty-port sizes go. */
    if (o.tty_port && isatty(STDIN_FILENO))
        tty_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    /* e.g. under busybox init (--init mode) we hold the console; the workload should. */
    detach_tty();
    int sfd = signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
    /* Not PID 1 (tests, or nested under another init): still adopt the workload's orphans, so
     * that they are reaped and waited for here as they would be in the VM. */
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        debug("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
    if (sfd < 0) {
        err("signalfd: %s", strerror(errno));
        return 1;
    }

    enum { NPORTS = 2 };
    struct line_port ports[NPORTS] = {
        { .name = o.control_port, .on_line = on_control_line, .fd = -1 },
        { .name = o.tty_port, .on_line = on_tty_line, .fd = -1 },
    };
    long long t0 = now_ms();
    for (int i = 0; i < NPORTS; i++)
        if (ports[i].name)
            port_open(&ports[i], t0);

    pid_t child = fork_workload(&orig);
    signal_target = child;
    long long sync_at = 0; /* nonzero: graceful stop in progress, next sync(2) at this time */
    pid_t syncer = 0;      /* the running sync child, if any */

    for (;;) {
        /* pf[0]: signals; pf[1 + i]: ports[i] (poll ignores entries with a negative fd). */
        struct pollfd pf[1 + NPORTS] = { { .fd = sfd, .events = POLLIN } };
        int timeout = -1;
        long long t = now_ms();
        if (sync_at)
            timeout = sync_at > t ? (int)(sync_at - t) : 0;
        for (int i = 0; i < NPORTS; i++) {
            pf[1 + i] = (struct pollfd){ .fd = ports[i].fd, .events = POLLIN };
            int r = port_timeout(&ports[i], t);
            if (r >= 0 && (timeout < 0 || r < timeout))
                timeout = r;
        }
        int n = poll(pf, 1 + NPORTS, timeout);
        if (n < 0 && errno != EINTR) {
            err("poll: %s", strerror(errno));
            break;
        }
        t = now_ms();
        stop_requested = 0;

        if (n > 0 && (pf[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD) {
                    int ws;
                    pid_t p;
                    while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
                        debug("reaped pid %d (status %d)", (int)p, status_of(ws));
                        if (p == syncer)
                            syncer = 0;
                        if (p == child)
                            finish_vm(sfd, child, status_of(ws));
                    }
                } else if (sig == SIGTERM || sig == SIGINT || sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGPWR) {
                    debug("signal %d: graceful stop", sig);
                    stop_requested = 1;
                } else {
                    forward(child, sig);
                }
            }
        }
        for (int i = 0; i < NPORTS; i++)
            port_service(&ports[i], n > 0 ? pf[1 + i].revents : 0, t);

        if (stop_requested && !sync_at) {
            forward(child, SIGTERM);
            forward(child, SIGCONT);
            sync_at = t + STOP_SYNC_MS;
        }
        if (sync_at && t >= sync_at) {
            sync_at = t + STOP_SYNC_MS;
            if (!syncer) {
                syncer = fork();
                if (syncer == 0) {
                    sync();
                    _exit(0);
                }
                if (syncer < 0)
                    syncer = 0;
                debug("workload still running after SIGTERM: sync (pid %d)", (int)syncer);
            }
        }
    }
    return 1;
}

/* --no-fork --stop-signal: a child that outlives our exec into the init, reads the control port
 * and turns each "stop" into the signal that makes that init power off (lib/vm/launch.ts). It
 * holds no tty and no stdio; the init's own shutdown ends it with the other processes. */
static void start_stop_listener(void)
{
    pid_t target = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        err("fork for the stop listener: %s", strerror(errno));
        return;
    }
    if (pid > 0) {
        debug("stop listener: pid %d, signal %d to %d on \"stop\"", (int)pid, o.stop_signal, (int)target);
        return;
    }
    /* Gone with the command (outside the VM, e.g. in tests; in the VM it is PID 1 for good). */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != target)
        _exit(0);
    setsid();
    prctl(PR_SET_NAME, "runcvm-stop", 0, 0, 0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        for (int fd = 0; fd < 3; fd++)
            dup2(null, fd);
        if (null > 2)
            close(null);
    }
    for (int fd = 0; fd < 3; fd++)
        if (o.stdio_fd[fd] > 2)
            close(o.stdio_fd[fd]);
    struct line_port p = { .name = o.control_port, .on_line = on_control_line, .fd = -1 };
    port_open(&p, now_ms());
    for (;;) {
        struct pollfd pf = { .fd = p.fd, .events = POLLIN };
        int n = poll(&pf, 1, port_timeout(&p, now_ms()));
        if (n < 0 && errno != EINTR)
            _exit(1);
        stop_requested = 0;
        port_service(&p, n > 0 ? pf.revents : 0, now_ms());
        if (stop_requested && kill(target, o.stop_signal) < 0)
            _exit(0); /* the init is gone */
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    open_stdio();
    if (o.no_fork) {
        if (o.stop_signal)
            start_stop_listener();
        exec_workload();
    }
    if (o.vm)
        return supervise_vm();
    return supervise_container();
}
