// Constants only: where things live on the host, in the container and in the VM.
// The same package tree is installed at RUNCVM_HOST on the host and bind-mounted read-only at
// RUNCVM_GUEST inside every RunCVM container; the container root is rbind-mounted at VM_MOUNTPOINT
// and served to the VM over virtiofs, so the VM sees the very same paths as the container.

/** Host install path of the package (drop-in: upstream installs here too). */
export const RUNCVM_HOST = '/opt/runcvm'
/** Where the package appears inside the container and the VM (upstream RUNCVM_GUEST). */
export const RUNCVM_GUEST = '/.runcvm/guest'
/** tmpfs in the container (and, through the /vm rbind, in the VM) holding RunCVM state. */
export const STATE_DIR = '/.runcvm'
/** The container's root re-mounted here; virtiofsd serves this tree as the VM's root. */
export const VM_MOUNTPOINT = '/vm'

/** Role scripts, as installed (`scripts/runcvm-<role>`). */
export const guestScript = (role: string): string => `${RUNCVM_GUEST}/scripts/runcvm-${role}`
export const hostScript = (role: string): string => `${RUNCVM_HOST}/scripts/runcvm-${role}`

export const RUNTIME_PATH = hostScript('runtime')
export const CTR_ENTRYPOINT = guestScript('ctr-entrypoint')
export const CTR_EXEC = guestScript('ctr-exec')

/** Kernels: `<dir>/<dist>/<version>/{vmlinuz,initrd,modules/<version>}` plus `<dist>/latest`. */
export const HOST_KERNELS = `${RUNCVM_HOST}/kernels`
export const GUEST_KERNELS = `${RUNCVM_GUEST}/kernels`

/** Sockets live in the container's own /run (a tmpfs mounted last, so NOT visible in the VM). */
export const VIRTIOFSD_SOCKET = '/run/.virtiofs.sock'
export const QEMU_GUEST_AGENT_SOCKET = '/run/.qemu-guest-agent'
export const QEMU_MONITOR_SOCKET = '/run/.qemu-monitor-socket'
export const QMP_SOCKET = '/run/.qemu-qmp-socket'
export const VIRTIOFSD_LOG = '/run/.virtiofsd.log'

/** dropbear listens here inside the VM for `docker exec` (upstream value). */
export const SSHD_PORT = 22222
/** Link-local address given to the container bridge (never leaves the container). */
export const QEMU_BRIDGE_IP = '169.254.1.1'
/** Address the VM uses as its DNS server; DNAT'd to dnsmasq in the container. */
export const RUNCVM_DNS_IP = '169.254.169.254'
