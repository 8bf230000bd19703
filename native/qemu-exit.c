/*
 * qemu-exit: end the VM from inside the guest, choosing QEMU's exit status.
 *
 *   qemu-exit        power off cleanly (sync, reboot(RB_POWER_OFF); ACPI port write as fallback)
 *   qemu-exit 0      the same
 *   qemu-exit N      1 <= N <= 128: leave through the isa-debug-exit device so that QEMU itself
 *                    exits with status 2*N-1 (runcvm-ctr-exit maps QEMU status Q back to (Q+1)/2)
 *
 * isa-debug-exit (QEMU hw/misc/debugexit.c): a write of value V to its port makes QEMU exit with
 * status (V << 1) | 1, so we write N-1. RunCVM's ctr-qemu adds
 * `-device isa-debug-exit,iobase=0x501,iosize=1`. Port I/O needs ioperm(2), i.e. root in the VM.
 * Written for RunCVM-TS; behaviour follows upstream RunCVM's qemu-exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>

/* Must match the iobase given to QEMU's isa-debug-exit device. */
#define DEBUG_EXIT_PORT 0x501
/* q35 (ICH9) ACPI PM1a control block: PM base 0x600 + 4. Writing SLP_EN (bit 13) with
 * SLP_TYP 0 enters S5 (soft off) under QEMU. */
#define ACPI_PM1A_CNT 0x604
#define ACPI_SLP_EN_S5 0x2000

static void power_off(void)
{
    sync();
    reboot(RB_POWER_OFF);
    /* Not PID 1's business or no CAP_SYS_BOOT: ask the chipset directly. */
    fprintf(stderr, "qemu-exit: reboot(RB_POWER_OFF) failed (%s); trying ACPI port 0x%x\n",
            strerror(errno), ACPI_PM1A_CNT);
    if (ioperm(ACPI_PM1A_CNT, 2, 1) == 0) {
        outw(ACPI_SLP_EN_S5, ACPI_PM1A_CNT);
        usleep(500 * 1000);
    } else {
        fprintf(stderr, "qemu-exit: ioperm(0x%x): %s\n", ACPI_PM1A_CNT, strerror(errno));
    }
    fprintf(stderr, "qemu-exit: the VM is still running\n");
    exit(255);
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "Usage: qemu-exit [N]   (N = 0 or absent: power off; 1..128: QEMU exits 2*N-1)\n");
        return 2;
    }
    long n = 0;
    if (argc == 2) {
        char *end;
        errno = 0;
        n = strtol(argv[1], &end, 10);
        if (errno || !*argv[1] || *end || n < 0 || n > 128) {
            fprintf(stderr, "qemu-exit: '%s' is not a status in 0..128\n", argv[1]);
            return 2;
        }
    }
    if (n == 0)
        power_off();

    if (ioperm(DEBUG_EXIT_PORT, 1, 1) < 0) {
        fprintf(stderr, "qemu-exit: ioperm(0x%x): %s\n", DEBUG_EXIT_PORT, strerror(errno));
        return 255;
    }
    sync();
    outb((unsigned char)(n - 1), DEBUG_EXIT_PORT);
    /* Still here: QEMU was started without -device isa-debug-exit,iobase=0x501. */
    usleep(200 * 1000);
    fprintf(stderr, "qemu-exit: no isa-debug-exit device at 0x%x; the VM is still running\n",
            DEBUG_EXIT_PORT);
    return 255;
}
