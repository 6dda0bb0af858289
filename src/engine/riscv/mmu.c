/* Address translation (Bare, Sv39, Sv48), the software TLB and the slow
 * paths of loads and stores. The fast path (a tag compare and a host
 * access) lives in the interpreter; everything that misses comes here. */
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_MASK 0x003ffffffffffc00ull
#define PTE_RESERVED 0xffc0000000000000ull /* N, PBMT, reserved: none implemented */

static const uint64_t page_fault_cause[3] = { EXC_LOAD_PAGE, EXC_STORE_PAGE, EXC_INSN_PAGE };
static const uint64_t access_fault_cause[3] = { EXC_LOAD_ACCESS, EXC_STORE_ACCESS,
                                                EXC_INSN_ACCESS };

/* Effective privilege for loads/stores (MPRV makes M-mode use MPP's). */
static unsigned data_priv(const struct riscv_cpu *cpu)
{
    return riscv_data_priv(cpu);
}

/* Walk the page table for va. Returns 0 with *pa, or -1 with the exception
 * set in cpu. `priv` is the effective privilege of the access. */
static int walk(struct riscv_cpu *cpu, uint64_t va, enum access_type acc, unsigned priv,
                uint64_t *pa)
{
    uint64_t mode = cpu->satp >> 60;
    if (priv == PRV_M || mode == 0) {
        *pa = va;
        return 0;
    }
    unsigned levels = mode == 8 ? 3 : 4;
    unsigned va_bits = 12 + 9 * levels;
    /* The upper bits must all equal bit va_bits-1. */
    int64_t sva = (int64_t)(va << (64 - va_bits)) >> (64 - va_bits);
    if ((uint64_t)sva != va)
        goto page_fault;

    uint64_t base = (cpu->satp & ((1ull << 44) - 1)) << 12;
    for (int level = (int)levels - 1; level >= 0; level--) {
        uint64_t vpn = (va >> (12 + 9 * level)) & 0x1ff;
        uint64_t pte_addr = base + vpn * 8;
        uint8_t *p = guest_ram_ptr(cpu->ram, pte_addr, 8);
        if (!p) {
            cpu->exc_cause = access_fault_cause[acc];
            cpu->exc_tval = va;
            return -1;
        }
        uint64_t pte = le64_load(p);
        if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) || (pte & PTE_RESERVED))
            goto page_fault;
        if (!(pte & (PTE_R | PTE_X))) {
            if (level == 0 || (pte & (PTE_A | PTE_D | PTE_U)))
                goto page_fault; /* non-leaf at level 0, or non-leaf with leaf bits */
            base = ((pte & PTE_PPN_MASK) >> 10) << 12;
            continue;
        }
        /* leaf: check permissions */
        bool mxr = cpu->mstatus & MSTATUS_MXR;
        bool sum = cpu->mstatus & MSTATUS_SUM;
        if (pte & PTE_U) {
            if (priv == PRV_S && (acc == ACC_FETCH || !sum))
                goto page_fault;
        } else if (priv == PRV_U) {
            goto page_fault;
        }
        switch (acc) {
        case ACC_READ:
            if (!(pte & PTE_R) && !(mxr && (pte & PTE_X)))
                goto page_fault;
            break;
        case ACC_WRITE:
            if (!(pte & PTE_W))
                goto page_fault;
            break;
        case ACC_FETCH:
            if (!(pte & PTE_X))
                goto page_fault;
            break;
        }
        uint64_t ppn = (pte & PTE_PPN_MASK) >> 10;
        uint64_t span_mask = (1ull << (9 * level)) - 1; /* in pages */
        if (ppn & span_mask)
            goto page_fault; /* misaligned superpage */
        /* Hardware A/D update (as QEMU does): set A, and D on a store. */
        uint64_t want = PTE_A | (acc == ACC_WRITE ? PTE_D : 0);
        if ((pte & want) != want) {
            pte |= want;
            le64_store(p, pte);
            guest_ram_note_write(cpu->ram, pte_addr, 8);
        }
        *pa = ((ppn | ((va >> 12) & span_mask)) << 12) | (va & 0xfff);
        return 0;
    }
page_fault:
    cpu->exc_cause = page_fault_cause[acc];
    cpu->exc_tval = va;
    return -1;
}

int riscv_translate(struct riscv_cpu *cpu, uint64_t va, enum access_type acc, uint64_t *pa)
{
    unsigned priv = acc == ACC_FETCH ? cpu->priv : data_priv(cpu);
    return walk(cpu, va, acc, priv, pa);
}

static void tlb_fill(struct riscv_cpu *cpu, struct riscv_tlb_entry *set, uint64_t va,
                     uint64_t pa)
{
    struct guest_ram *ram = cpu->ram;
    uint64_t vpage = va & ~0xfffull;
    uint64_t page = (pa - ram->base) >> GUEST_PAGE_SHIFT;
    struct riscv_tlb_entry *e = &set[(va >> 12) & (RISCV_TLB_SIZE - 1)];
    e->tag = vpage;
    e->addend = (uintptr_t)(ram->host + (page << GUEST_PAGE_SHIFT)) - (uintptr_t)vpage;
}

/* A write mapping, unless the page became a code page meanwhile (another
 * hart decoding it: block.c's mark_code_page). */
static void tlb_fill_write(struct riscv_cpu *cpu, uint64_t va, uint64_t pa)
{
    struct guest_ram *ram = cpu->ram;
    tlb_fill(cpu, cpu->tlb_data->w, va, pa);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ram->has_code[(pa - ram->base) >> GUEST_PAGE_SHIFT], __ATOMIC_SEQ_CST))
        riscv_tlb_entry_clear(&cpu->tlb_data->w[(va >> 12) & (RISCV_TLB_SIZE - 1)]);
}

/* Translate for a data access and, for RAM, fill the TLB. Returns a host
 * pointer for RAM, NULL with *pa set for MMIO, or sets the exception. */
static int data_translate(struct riscv_cpu *cpu, uint64_t va, bool write, uint64_t *pa,
                          uint8_t **host)
{
    *host = NULL;
    if (walk(cpu, va, write ? ACC_WRITE : ACC_READ, data_priv(cpu), pa) < 0)
        return -1;
    struct guest_ram *ram = cpu->ram;
    if (guest_ram_contains(ram, *pa, 1)) {
        uint64_t page = (*pa - ram->base) >> GUEST_PAGE_SHIFT;
        if (write) {
            if (ram->has_code[page])
                guest_ram_note_write_slow(ram, *pa, 1);
            /* Stores to the HTIF page stay on the slow path to be seen. */
            if (!cpu->htif_tohost || (cpu->htif_tohost >> 12) != (*pa >> 12))
                tlb_fill_write(cpu, va, *pa);
        } else {
            tlb_fill(cpu, cpu->tlb_data->r, va, *pa);
        }
        *host = ram->host + (*pa - ram->base);
    }
    return 0;
}

int riscv_tlb_fill_data(struct riscv_cpu *cpu, uint64_t va, unsigned how)
{
    unsigned size = how & 0xff;
    bool write = how & 0x100;
    uint64_t pa;
    if (va & (size - 1))
        return -1;
    /* A fault is left for the interpreter to raise; its walk repeats this
     * one (A/D updates included, which are idempotent). */
    if (walk(cpu, va, write ? ACC_WRITE : ACC_READ, data_priv(cpu), &pa) < 0)
        return -1;
    struct guest_ram *ram = cpu->ram;
    if (!guest_ram_contains(ram, pa, size))
        return -1; /* MMIO */
    if (write) {
        uint64_t page = (pa - ram->base) >> GUEST_PAGE_SHIFT;
        if (ram->has_code[page] || (cpu->htif_tohost && (cpu->htif_tohost >> 12) == (pa >> 12)))
            return -1; /* code pages and tohost stay on the interpreter's path */
        tlb_fill_write(cpu, va, pa);
    } else {
        tlb_fill(cpu, cpu->tlb_data->r, va, pa);
    }
    return 0;
}

static int load_one(struct riscv_cpu *cpu, uint64_t va, unsigned size, uint64_t *val)
{
    uint64_t pa;
    uint8_t *h;
    if (data_translate(cpu, va, false, &pa, &h) < 0)
        return -1;
    if (h) {
        switch (size) {
        case 1: *val = *h; break;
        case 2: *val = le16_load(h); break;
        case 4: *val = le32_load(h); break;
        default: *val = le64_load(h); break;
        }
        return 0;
    }
    if (bus_read(cpu->bus, pa, size, val) < 0) {
        cpu->exc_cause = EXC_LOAD_ACCESS;
        cpu->exc_tval = va;
        return -1;
    }
    return 0;
}

static void htif_check(struct riscv_cpu *cpu, uint64_t pa, unsigned size);

static int store_one(struct riscv_cpu *cpu, uint64_t va, unsigned size, uint64_t val)
{
    uint64_t pa;
    uint8_t *h;
    if (data_translate(cpu, va, true, &pa, &h) < 0)
        return -1;
    if (h) {
        switch (size) {
        case 1: *h = (uint8_t)val; break;
        case 2: le16_store(h, (uint16_t)val); break;
        case 4: le32_store(h, (uint32_t)val); break;
        default: le64_store(h, val); break;
        }
        /* Again after the store: another hart may have decoded the page
         * while it was on its way. The full fence keeps the has_code load
         * below from passing the store (x86 lets a load pass an earlier
         * store to another address): otherwise a decoding hart can set
         * has_code and read the old bytes while this store still sits in
         * the store buffer, this hart reads has_code as 0, and nobody bumps
         * the generation: the decoder then runs the old code even after
         * its fence.i (seen as smp_atomics case 7 on 4 harts). */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        guest_ram_note_write(cpu->ram, pa, size);
        if (unlikely(cpu->htif_tohost))
            htif_check(cpu, pa, size);
        return 0;
    }
    if (bus_write(cpu->bus, pa, size, val) < 0) {
        cpu->exc_cause = EXC_STORE_ACCESS;
        cpu->exc_tval = va;
        return -1;
    }
    return 0;
}

int riscv_load_slow(struct riscv_cpu *cpu, uint64_t va, unsigned size, uint64_t *val)
{
    if (likely((va & (size - 1)) == 0))
        return load_one(cpu, va, size, val);
    /* Misaligned: supported in hardware, byte by byte (each may fault). */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b;
        if (load_one(cpu, va + i, 1, &b) < 0)
            return -1;
        v |= b << (8 * i);
    }
    *val = v;
    return 0;
}

int riscv_store_slow(struct riscv_cpu *cpu, uint64_t va, unsigned size, uint64_t val)
{
    if (likely((va & (size - 1)) == 0))
        return store_one(cpu, va, size, val);
    /* Check every byte translates before writing any, so a fault in the
     * second page leaves memory untouched. */
    for (unsigned i = 0; i < size; i++) {
        uint64_t pa;
        if (walk(cpu, va + i, ACC_WRITE, data_priv(cpu), &pa) < 0)
            return -1;
    }
    for (unsigned i = 0; i < size; i++)
        if (store_one(cpu, va + i, 1, (val >> (8 * i)) & 0xff) < 0)
            return -1;
    return 0;
}

void *riscv_amo_ptr(struct riscv_cpu *cpu, uint64_t va, unsigned size, bool write)
{
    if (va & (size - 1)) {
        cpu->exc_cause = write ? EXC_STORE_MISALIGNED : EXC_LOAD_MISALIGNED;
        cpu->exc_tval = va;
        return NULL;
    }
    uint64_t pa;
    uint8_t *h;
    if (data_translate(cpu, va, write, &pa, &h) < 0)
        return NULL;
    if (!h) {
        cpu->exc_cause = write ? EXC_STORE_ACCESS : EXC_LOAD_ACCESS;
        cpu->exc_tval = va;
        return NULL;
    }
    return h;
}

void riscv_amo_done(struct riscv_cpu *cpu, const void *host, unsigned size)
{
    struct guest_ram *ram = cpu->ram;
    guest_ram_note_write(ram, ram->base + (uint64_t)((const uint8_t *)host - ram->host), size);
}

/* HTIF: bare-metal programs report through a store to `tohost`.
 * 1 = pass; (code << 1) | 1 = fail; device 1 command 1 = print a char. */
static void htif_check(struct riscv_cpu *cpu, uint64_t pa, unsigned size)
{
    if (pa + size <= cpu->htif_tohost || pa >= cpu->htif_tohost + 8)
        return;
    uint64_t v;
    if (guest_ram_read(cpu->ram, cpu->htif_tohost, &v, 8) < 0 || v == 0)
        return;
    uint64_t dev = v >> 56, cmd = (v >> 48) & 0xff, payload = v & 0xffffffffffffull;
    if (dev == 0 && cmd == 0 && (payload & 1)) {
        cpu->htif_exit_code = (int)(payload >> 1);
        cpu->exit_request = RISCV_EXIT_HTIF;
    } else if (dev == 1 && cmd == 1) {
        uint8_t ch = (uint8_t)payload;
        if (write(STDOUT_FILENO, &ch, 1) < 0) {
            /* stdout gone: the program's output is lost, it keeps running */
        }
        uint64_t zero = 0, ack = (1ull << 56) | (1ull << 48);
        guest_ram_write(cpu->ram, cpu->htif_tohost, &zero, 8);
        if (cpu->htif_fromhost)
            guest_ram_write(cpu->ram, cpu->htif_fromhost, &ack, 8);
        return;
    }
}
