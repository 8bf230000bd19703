// 52-memory-backing-efi: guest RAM backing and firmware choices of the KVM-path work, on real boots
// (TCG here):
//  - /dev/shm is mounted huge=within_size where the host kernel allows tmpfs huge pages, QEMU maps
//    guest RAM 2 MiB-aligned, and the guest's RAM really sits in PMD-mapped huge pages (QEMU's
//    smaps ShmemPmdMapped > 0 once the guest has booted);
//  - RUNCVM_HUGETLB=1 on a host without enough free 2 MiB huge pages is refused at create with the
//    numbers (the check is skipped, with a note, on a host that has them);
//  - RUNCVM_BIOS=EFI boots with smm=off (the packaged OVMF needs no SMM; KVMs without SMM refuse
//    smm=on).
// VM-only.
import { readFileSync, readdirSync } from 'node:fs'
import { type Case, describe, fail, ok, sleep, startDetached } from '../harness'

const read = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return '' } }

export default {
  description: '/dev/shm huge pages back guest RAM; RUNCVM_HUGETLB without huge pages refused at create; EFI boots with smm=off',
  needs: ['runcvm'],
  timeoutMs: 300_000,
  async test(ctx) {
    const { docker, runcvm, runtime, uniq, note } = ctx
    // 1. Transparent huge pages for /dev/shm.
    const thpHost = !/\[deny\]/.test(read('/sys/kernel/mm/transparent_hugepage/shmem_enabled')) && read('/sys/kernel/mm/transparent_hugepage/shmem_enabled') !== ''
    const name = uniq('thp')
    await startDetached(ctx, runtime, name, ['-m', '256m', 'runcvm-test/bb', 'sleep', '300'])
    let booted = false
    for (let i = 0; i < 120 && !booted; i++) { booted = (await docker(['exec', name, 'true'])).code === 0; if (!booted) await sleep(1000) }
    ok(booted, 'the VM never answered docker exec')
    const pid = (await docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim()
    const shm = read(`/proc/${pid}/mounts`).split('\n').find(l => l.split(' ')[1] === '/dev/shm') ?? ''
    const id = (await docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim()
    const procs = read(`/sys/fs/cgroup/memory/docker/${id}/cgroup.procs`) || read(`/sys/fs/cgroup/docker/${id}/cgroup.procs`)
    const qemu = procs.split('\n').find(p => p && read(`/proc/${p}/comm`).startsWith('qemu-system'))
    const pmd = qemu ? [...read(`/proc/${qemu}/smaps`).matchAll(/^ShmemPmdMapped:\s+(\d+) kB/gm)].reduce((n, m) => n + Number(m[1]), 0) : -1
    note(`host allows tmpfs THP: ${thpHost}; /dev/shm: ${shm.split(' ')[3] ?? '?'}; guest RAM PMD-mapped: ${pmd} kB`)
    if (thpHost) {
      if (!shm.includes('huge=within_size')) fail(`/dev/shm lacks huge=within_size: ${shm}`)
      if (!(pmd > 0)) fail(`no guest RAM in PMD-mapped huge pages (QEMU pid ${qemu}, ShmemPmdMapped ${pmd} kB)`)
    } else if (shm.includes('huge=')) fail(`/dev/shm has a huge= option on a host that forbids it: ${shm}`)
    await docker(['rm', '-f', name])

    // 2. RUNCVM_HUGETLB=1 without enough huge pages: refused at create.
    const dir = '/sys/kernel/mm/hugepages/hugepages-2048kB'
    const n = (f: string) => Number(read(`${dir}/${f}`).trim() || 0)
    const avail = readdirSync('/sys/kernel/mm/hugepages').includes('hugepages-2048kB')
      ? Math.max(0, n('free_hugepages') - n('resv_hugepages')) + Math.max(0, n('nr_overcommit_hugepages') - n('surplus_hugepages')) : 0
    if (avail >= 128) {
      note(`RUNCVM_HUGETLB refusal not checked: this host has ${avail} free 2 MiB huge pages`)
    } else {
      const r = await runcvm(['-m', '256m', '-e', 'RUNCVM_HUGETLB=1', 'runcvm-test/bb', 'echo', 'STARTED'])
      const msg = r.stderr.split('\n').find(l => l.includes('RunCVM: Error:')) ?? ''
      note(`RUNCVM_HUGETLB=1 with ${avail} free huge pages: ${msg.trim().slice(0, 140)}`)
      if (r.code === 0 || r.stdout.includes('STARTED') || !msg.includes('RUNCVM_HUGETLB=1 needs 128 free 2 MiB huge pages for a 256 MiB VM')) {
        fail(`RUNCVM_HUGETLB=1: ${describe(r)}`)
      }
    }

    // 3. EFI firmware with smm=off.
    const efi = await runcvm(['-e', 'RUNCVM_BIOS=EFI', 'runcvm-test/bb', 'echo', 'efi-ok'])
    if (efi.code !== 0 || efi.stdout !== 'efi-ok\n') fail(`RUNCVM_BIOS=EFI: ${describe(efi)}`)
  },
} satisfies Case
