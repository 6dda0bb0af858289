/* large_memory: map and touch 256 MiB page by page (the guest has 512 MiB),
 * checksum it, unmap it; many malloc/free blocks of mixed sizes with their
 * contents verified; mremap grow (moving), shrink and fixed; MADV_DONTNEED
 * zeroing; MAP_FIXED over an existing mapping.  Exercises the guest
 * kernel's page allocator and the emulator's MMU/TLB under pressure. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;
static size_t page;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void test_big_mapping(void)
{
	const size_t size = (size_t)256 << 20;
	const size_t npages = size / page;
	uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		printf("mmap 256 MiB failed: %s\n", strerror(errno));
		failures++;
		return;
	}
	/* first touch: every page must read as zero, then gets 8 words */
	size_t nonzero = 0;
	for (size_t p = 0; p < npages; p++) {
		uint64_t *w = (uint64_t *)(m + p * page);
		if (w[p % (page / 8)] != 0)
			nonzero++;
		for (size_t k = 0; k < 8; k++)
			w[k * (page / 64)] = mix(p * 8 + k);
	}
	/* read back in a different order (strided) so the TLB sees misses */
	uint64_t sum = 0, bad = 0;
	for (size_t start = 0; start < 16; start++) {
		for (size_t p = start; p < npages; p += 16) {
			const uint64_t *w = (const uint64_t *)(m + p * page);
			for (size_t k = 0; k < 8; k++) {
				uint64_t v = w[k * (page / 64)];
				if (v != mix(p * 8 + k))
					bad++;
				sum += v;
			}
		}
	}
	printf("256 MiB: %zu pages touched, zero on first touch: %s, mismatches %" PRIu64
	       ", checksum %016" PRIx64 "\n",
	       npages, nonzero == 0 ? "yes" : "no", bad, sum);
	CHECK(nonzero == 0 && bad == 0);

	/* fill one 1 MiB stretch completely and hash it byte by byte */
	uint8_t *stretch = m + ((size_t)100 << 20);
	for (size_t i = 0; i < ((size_t)1 << 20); i++)
		stretch[i] = (uint8_t)(i * 131 + (i >> 12));
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < ((size_t)1 << 20); i++)
		h = (h ^ stretch[i]) * 0x100000001b3ull;
	printf("1 MiB stretch fnv1a %016" PRIx64 "\n", h);

	/* MADV_DONTNEED on a private anonymous range gives back zero pages */
	uint8_t *dn = m + ((size_t)200 << 20);
	dn[0] = 0xaa;
	dn[5 * page + 7] = 0xbb;
	if (madvise(dn, 16 * page, MADV_DONTNEED) == 0)
		printf("after MADV_DONTNEED: %u %u, page beyond kept: %s\n", dn[0], dn[5 * page + 7],
		       *(uint64_t *)(dn + 16 * page) == mix((((size_t)200 << 20) / page + 16) * 8)
			       ? "yes"
			       : "no");
	else
		printf("madvise failed: %s\n", strerror(errno));

	/* unmap the middle, keep both ends */
	size_t mid = size / 2;
	if (munmap(m + mid, (size_t)64 << 20))
		printf("munmap middle failed: %s\n", strerror(errno));
	uint64_t lo = *(uint64_t *)(m + mid - page), hi = *(uint64_t *)(m + mid + ((size_t)64 << 20));
	printf("around the hole: %s\n",
	       lo == mix((mid / page - 1) * 8) && hi == mix((mid + ((size_t)64 << 20)) / page * 8)
		       ? "intact"
		       : "CORRUPT");
	munmap(m, mid);
	munmap(m + mid + ((size_t)64 << 20), size - mid - ((size_t)64 << 20));
	printf("256 MiB unmapped\n");
}

struct block {
	uint8_t *p;
	size_t n;
	uint8_t tag;
};

static void test_malloc(void)
{
	enum { SLOTS = 4096, ROUNDS = 60000 };
	static struct block b[SLOTS];
	uint64_t rng = 88172645463325252ull;
	size_t live = 0, peak = 0, allocs = 0, corrupt = 0;
	for (int r = 0; r < ROUNDS; r++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		unsigned s = (unsigned)(rng % SLOTS);
		if (b[s].p) {
			for (size_t i = 0; i < b[s].n; i += 61)
				if (b[s].p[i] != (uint8_t)(b[s].tag + i))
					corrupt++;
			live -= b[s].n;
			free(b[s].p);
			b[s].p = NULL;
			continue;
		}
		/* mostly small, some medium, a few large enough for mmap */
		unsigned kind = (unsigned)(rng >> 40) % 1000;
		size_t n = kind < 800 ? 1 + (rng >> 20) % 256
			   : kind < 995 ? 256 + (rng >> 20) % 16384
					: (size_t)140000 + (rng >> 20) % 160000;
		b[s].p = malloc(n);
		if (!b[s].p) {
			printf("malloc(%zu) failed\n", n);
			failures++;
			break;
		}
		b[s].n = n;
		b[s].tag = (uint8_t)r;
		for (size_t i = 0; i < n; i++)
			b[s].p[i] = (uint8_t)(b[s].tag + i);
		allocs++;
		live += n;
		if (live > peak)
			peak = live;
	}
	/* realloc growth keeps the prefix */
	size_t realloc_bad = 0;
	for (unsigned s = 0; s < SLOTS; s += 97) {
		if (!b[s].p)
			continue;
		size_t n2 = b[s].n * 3 + 1000;
		uint8_t *q = realloc(b[s].p, n2);
		if (!q) {
			failures++;
			continue;
		}
		for (size_t i = 0; i < b[s].n; i++)
			if (q[i] != (uint8_t)(b[s].tag + i))
				realloc_bad++;
		b[s].p = q;
		live += n2 - b[s].n;
		for (size_t i = b[s].n; i < n2; i++)
			q[i] = (uint8_t)(b[s].tag + i);
		b[s].n = n2;
	}
	for (unsigned s = 0; s < SLOTS; s++) {
		if (!b[s].p)
			continue;
		for (size_t i = 0; i < b[s].n; i += 61)
			if (b[s].p[i] != (uint8_t)(b[s].tag + i))
				corrupt++;
		free(b[s].p);
		b[s].p = NULL;
	}
	printf("malloc/free: %zu allocations, peak live %zu bytes, corrupt %zu, realloc bad %zu\n",
	       allocs, peak, corrupt, realloc_bad);
	CHECK(corrupt == 0 && realloc_bad == 0);

	/* calloc must hand out zeroed memory even when reusing freed blocks */
	size_t nz = 0;
	for (int i = 0; i < 200; i++) {
		uint8_t *p = malloc(5000);
		memset(p, 0xee, 5000);
		free(p);
		uint8_t *q = calloc(1, 5000);
		for (int k = 0; k < 5000; k++)
			nz += q[k] != 0;
		free(q);
	}
	printf("calloc after dirty free: nonzero bytes %zu\n", nz);
	CHECK(nz == 0);
}

static void test_mremap(void)
{
	size_t n1 = (size_t)16 << 20, n2 = (size_t)64 << 20;
	/* 16 MiB plus one page whose different protection makes it a separate
	 * mapping right after ours: growing in place is impossible, so
	 * mremap must move the pages */
	uint64_t *a = mmap(NULL, n1 + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	if (a == MAP_FAILED) {
		printf("mmap failed\n");
		failures++;
		return;
	}
	for (size_t i = 0; i < n1 / 8; i += 64)
		a[i] = mix(i);
	void *blocker = (char *)a + n1;
	int blocked = mprotect(blocker, page, PROT_READ) == 0;
	uint64_t *b = mremap(a, n1, n2, MREMAP_MAYMOVE);
	if (b == MAP_FAILED) {
		printf("mremap grow failed: %s\n", strerror(errno));
		failures++;
		return;
	}
	printf("mremap 16->64 MiB: %s\n",
	       !blocked ? "blocker not placed" : b != a ? "moved" : "NOT MOVED");
	size_t bad = 0;
	for (size_t i = 0; i < n1 / 8; i += 64)
		bad += b[i] != mix(i);
	size_t nz = 0;
	for (size_t i = n1 / 8; i < n2 / 8; i += 512) {
		nz += b[i] != 0;
		b[i] = mix(i);
	}
	printf("  old contents kept: %s, new part zero: %s\n", bad ? "NO" : "yes", nz ? "NO" : "yes");
	if (blocked)
		munmap(blocker, page);

	/* old address is gone (checked without touching it: mremap again fails) */
	void *again = mremap(a, n1, n1, 0);
	printf("  old range no longer mapped: %s\n",
	       (again == MAP_FAILED && errno == EFAULT) || b == a ? "yes" : "no");

	/* shrink in place */
	uint64_t *c = mremap(b, n2, n1 / 2, 0);
	printf("mremap shrink to 8 MiB in place: %s, data kept: %s\n", c == b ? "yes" : "no",
	       c != MAP_FAILED && c[64] == mix(64) ? "yes" : "no");

	/* MREMAP_FIXED to a chosen (reserved) address */
	void *target = mmap(NULL, n1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *d = mremap(c, n1 / 2, n1 / 2, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	printf("mremap fixed: at target %s, data kept: %s\n", d == target ? "yes" : "no",
	       d != MAP_FAILED && d[128] == mix(128) ? "yes" : "no");
	munmap(target, n1);

	/* MAP_FIXED over an existing mapping replaces its contents */
	uint64_t *e = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			   0);
	for (size_t i = 0; i < 4 * page / 8; i++)
		e[i] = 0x5555;
	uint64_t *f = mmap((char *)e + page, page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("MAP_FIXED replace: same address %s, fresh page zero %s, neighbours kept %s\n",
	       f == (uint64_t *)((char *)e + page) ? "yes" : "no", f[3] == 0 ? "yes" : "no",
	       e[0] == 0x5555 && e[2 * page / 8] == 0x5555 ? "yes" : "no");
	munmap(e, 4 * page);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	page = (size_t)sysconf(_SC_PAGESIZE);
	printf("large_memory start\n");
	test_big_mapping();
	test_malloc();
	test_mremap();
	printf("large_memory done, %d check failures\n", failures);
	return failures ? 1 : 0;
}
