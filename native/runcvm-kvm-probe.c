/*
 * runcvm-kvm-probe: can this /dev/kvm really run a VM?
 *
 * Opening /dev/kvm proves little: another hypervisor may hold VT-x/AMD-V (KVM_CREATE_VM then
 * fails with EBUSY), a broken nested set-up may create VMs whose vCPUs cannot enter guest mode,
 * and a device node may exist without permission to open it (rootless Docker, userns-remap).
 * So this creates a VM with one vCPU and 4 KiB of memory holding a three-instruction real-mode
 * guest (`mov al, 0x5a; out 0x10, al; hlt`), runs it, and checks that KVM reports the port
 * write and then the halt. It takes a few milliseconds. ctr-qemu runs it before choosing the
 * accelerator (lib/accel.ts decides from its output).
 *
 * Usage: runcvm-kvm-probe [DEVICE]      (default /dev/kvm)
 * Prints one line and exits 0 only when the guest ran:
 *   ok api=12 max_vcpus=N smm=0|1
 *   fail stage=<open|api|create-vm|memory|create-vcpu|registers|run|exit> errno=<NAME> [reason=N suberror=N]
 * (errno=ETIMEDOUT: the vCPU neither exited nor halted within RUN_TIMEOUT_S.)
 * max_vcpus is KVM_CAP_MAX_VCPUS (the most -smp the host's KVM accepts); smm is KVM_CAP_X86_SMM
 * (kernels built without CONFIG_KVM_SMM, Linux 6.2+, have none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Guest-physical address of the code page; any page below 1 MiB works in real mode. */
#define GUEST_CODE 0x1000
#define GUEST_PORT 0x10
#define GUEST_BYTE 0x5a
/* A guest that neither exits nor halts (a vCPU spinning in the hypervisor) must not hang us. */
#define RUN_TIMEOUT_S 2
/* Intel without unrestricted guest needs a TSS for real mode: three pages below 4 GiB, unused. */
#define TSS_ADDR 0xfffbd000

static const char *errname(int e)
{
    static char buf[16];
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case ENOTTY: return "ENOTTY";
    case EINVAL: return "EINVAL";
    case ENXIO: return "ENXIO";
    case ENODEV: return "ENODEV";
    case EINTR: return "EINTR";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EIO: return "EIO";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    }
    snprintf(buf, sizeof buf, "%d", e);
    return buf;
}

static int fail(const char *stage, int e)
{
    printf("fail stage=%s errno=%s\n", stage, errname(e));
    return 1;
}

static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

int main(int argc, char **argv)
{
    const char *dev = argc > 1 ? argv[1] : "/dev/kvm";
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: runcvm-kvm-probe [DEVICE]\n");
        return 2;
    }
    int kvm = open(dev, O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fail("open", errno);
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api < 0)
        return fail("api", errno);
    if (api != KVM_API_VERSION) {
        printf("fail stage=api errno=EINVAL api=%d\n", api);
        return 1;
    }
    int max_vcpus = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max_vcpus <= 0)
        max_vcpus = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    int smm = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_SMM) > 0;

    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return fail("create-vm", errno);
    if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
        return fail("create-vm", errno);

    unsigned char *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail("memory", errno);
    const unsigned char code[] = { 0xb0, GUEST_BYTE, 0xe6, GUEST_PORT, 0xf4 }; /* mov al; out; hlt */
    memcpy(mem, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = GUEST_CODE, .memory_size = 0x1000, .userspace_addr = (unsigned long)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail("memory", errno);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return fail("create-vcpu", errno);
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        return fail("create-vcpu", run_size < 0 ? errno : EINVAL);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return fail("create-vcpu", errno);

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail("registers", errno);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return fail("registers", errno);
    struct kvm_regs regs = { .rip = GUEST_CODE, .rflags = 0x2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return fail("registers", errno);

    /* No SA_RESTART: the alarm makes a stuck KVM_RUN return EINTR. */
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    alarm(RUN_TIMEOUT_S);
    int saw_out = 0;
    for (int i = 0; i < 8; i++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR && !timed_out)
                continue; /* a stray signal */
            return fail("run", timed_out ? ETIMEDOUT : errno);
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == GUEST_PORT && run->io.size == 1 &&
                ((unsigned char *)run)[run->io.data_offset] == GUEST_BYTE) {
                saw_out = 1;
                continue;
            }
            break;
        case KVM_EXIT_HLT:
            if (!saw_out)
                break;
            alarm(0);
            printf("ok api=%d max_vcpus=%d smm=%d\n", api, max_vcpus, smm);
            return 0;
        case KVM_EXIT_INTERNAL_ERROR:
            printf("fail stage=exit errno=EIO reason=%u suberror=%u\n", run->exit_reason, run->internal.suberror);
            return 1;
        case KVM_EXIT_FAIL_ENTRY:
            printf("fail stage=exit errno=EIO reason=%u suberror=%llu\n", run->exit_reason,
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            return 1;
        }
        printf("fail stage=exit errno=EIO reason=%u\n", run->exit_reason);
        return 1;
    }
    return fail("run", EINTR);
}
