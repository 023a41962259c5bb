/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ptscope selftests, named by what they read: the
 * device (ptscope_*), and the kernel's own views that the tests compare it
 * with (pagemap_*, kpageflags_*, smaps_*, maps_*).
 */
#ifndef _PTSCOPE_UTIL_H
#define _PTSCOPE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <uapi/ptscope.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define PTSCOPE_DEV	"/dev/ptscope"
#define PTSCOPE_DEBUGFS	"/sys/kernel/debug/ptscope"
/* The kernel's page size: 4 KiB on x86-64, 4 or 16 KiB on arm64 (a constant no more). */
static inline unsigned long ptscope_page_size(void)
{
	static unsigned long size;

	if (!size)
		size = sysconf(_SC_PAGESIZE);
	return size;
}

#define PAGE		ptscope_page_size()
#define PAGE_MAX	(64UL << 10)	/* the largest page size: arm64's 64 KiB */
#define PAGE_KB		(PAGE / 1024)	/* smaps and status count in kB */

/* debugfs_value - the rest of the line "KEY value" in a debugfs file, or NULL */
static inline char *debugfs_value(const char *file, const char *key, char *buf, size_t len)
{
	char path[256], line[512];
	size_t klen = strlen(key);
	char *ret = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, file);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ' ')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line + klen + 1) >= len)
			break;
		strcpy(buf, line + klen + 1);
		ret = buf;
		break;
	}
	fclose(f);
	return ret;
}

/* Write @text to debugfs file @name; 0 or the errno. */
static inline int debugfs_write(const char *name, const char *text)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, text, strlen(text)) < 0)
		err = errno;
	close(fd);
	return err;
}

/* set_effective - add (@on) or remove capability @cap from the effective set */
static inline int set_effective(int cap, int on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[cap / 32].effective |= 1U << (cap % 32);
	else
		d[cap / 32].effective &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/* An aligned region of @len inside a larger mapping (for THP and hugetlb). */
static inline void *map_aligned(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return p;
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + align - a);
	return (void *)a;
}

/* --- the device ------------------------------------------------------- */

/*
 * ptscope_version_info - what the loaded module says of itself and of the
 * kernel's page tables, read once (ABI 1.3 fields 0 from an older module,
 * which ran on x86-64 only); all 0 without the device.
 */
static inline const struct ptscope_version *ptscope_version_info(void)
{
	static struct ptscope_version v;
	int fd;

	if (v.size)
		return &v;
	v.size = sizeof(v);
	fd = open(PTSCOPE_DEV, O_RDWR);
	if (fd < 0 || ioctl(fd, PTSCOPE_IOC_VERSION, &v))
		memset(&v, 0, sizeof(v));
	if (fd >= 0)
		close(fd);
	if (v.abi_major && v.arch == PTSCOPE_ARCH_UNKNOWN)
		v.arch = PTSCOPE_ARCH_X86_64;
	return &v;
}

static inline int ptscope_arch_is(enum ptscope_arch arch)
{
	return ptscope_version_info()->arch == (uint32_t)arch;
}

/*
 * entry_addr_mask - the bits of a raw present or table entry that hold a
 * physical address: x86-64 bits 12-51; arm64 bits PAGE_SHIFT-49, and 8-9
 * with LPA2 (PTSCOPE_FEAT_ARM64_LPA2), as the Arm ARM lays descriptors out
 */
static inline uint64_t entry_addr_mask(void)
{
	const struct ptscope_version *v = ptscope_version_info();
	uint64_t m;

	if (v->arch != PTSCOPE_ARCH_ARM64)
		return 0x000ffffffffff000ULL;
	m = ((1ULL << 50) - 1) & ~(uint64_t)(PAGE - 1);
	return v->features & PTSCOPE_FEAT_ARM64_LPA2 ? m | 0x300 : m;
}

/*
 * swap_flag_mask - the bits of a raw non-present entry below its swap
 * type and offset (what a hidden reader may see): x86-64 below bit 9
 * (SWP_OFFSET_FIRST_BIT), arm64 below bit 6 (__SWP_TYPE_SHIFT)
 */
static inline uint64_t swap_flag_mask(void)
{
	return ptscope_arch_is(PTSCOPE_ARCH_ARM64) ? 0x3f : 0x1ff;
}

/* The size of a PMD leaf (a THP): the kernel's own hpage_pmd_size. */
static inline unsigned long pmd_size(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	unsigned long size = 0;

	if (f) {
		if (fscanf(f, "%lu", &size) != 1)
			size = 0;
		fclose(f);
	}
	return size ? size : 1UL << ptscope_version_info()->level_shift[PTSCOPE_LEVEL_PMD];
}


/* ptscope_open_target - open the device with @pid selected; -errno on failure */
static inline int ptscope_open_target(pid_t pid, struct ptscope_target *out)
{
	struct ptscope_target t = { .size = sizeof(t), .pid = pid };
	int fd = open(PTSCOPE_DEV, O_RDWR);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, PTSCOPE_IOC_TARGET, &t)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (out)
		*out = t;
	return fd;
}

#define WALK_BATCH 256	/* what the module fills per call at most */

/* ptscope_walk_all - every run in [start, end), batch after batch; count or -errno */
static inline long ptscope_walk_all(int fd, uint64_t start, uint64_t end, uint32_t flags,
				    struct ptscope_run **runsp)
{
	size_t cap = WALK_BATCH, n = 0;
	struct ptscope_run *runs = malloc(cap * sizeof(*runs));

	while (start < end) {
		struct ptscope_walk w = {
			.size = sizeof(w), .flags = flags, .start = start, .end = end,
			.run_size = sizeof(*runs), .count = WALK_BATCH,
		};

		if (n + WALK_BATCH > cap) {
			cap *= 2;
			runs = realloc(runs, cap * sizeof(*runs));
		}
		w.runs = (uintptr_t)(runs + n);
		if (ioctl(fd, PTSCOPE_IOC_WALK, &w)) {
			free(runs);
			return -errno;
		}
		n += w.count;
		if (w.next <= start) {	/* no progress: a bug worth a loud failure */
			fprintf(stderr, "# walk made no progress: [%#llx, %#llx) -> %u runs, next %#llx\n",
				(unsigned long long)start, (unsigned long long)end, w.count,
				(unsigned long long)w.next);
			free(runs);
			return -EDEADLK;
		}
		start = w.next;
	}
	*runsp = runs;
	return n;
}

/* ptscope_vmas_all - every VMA, with counts when @flags says so; count or -errno */
static inline long ptscope_vmas_all(int fd, uint32_t flags, struct ptscope_vma **vmasp)
{
	size_t cap = 16, n = 0;
	struct ptscope_vma *vmas = malloc(cap * sizeof(*vmas));
	uint64_t start = 0;

	for (;;) {
		struct ptscope_vmas q = {
			.size = sizeof(q), .flags = flags, .start = start,
			.vma_size = sizeof(*vmas), .count = 4,
		};

		if (n + 4 > cap) {
			cap *= 2;
			vmas = realloc(vmas, cap * sizeof(*vmas));
		}
		q.vmas = (uintptr_t)(vmas + n);
		if (ioctl(fd, PTSCOPE_IOC_VMAS, &q)) {
			free(vmas);
			return -errno;
		}
		n += q.count;
		if (!q.next)
			break;
		start = q.next;
	}
	*vmasp = vmas;
	return n;
}

/* ptscope_vma_at - the VMA containing @addr, with counts; 0 or -errno */
static inline int ptscope_vma_at(int fd, uint64_t addr, struct ptscope_vma *v)
{
	struct ptscope_vmas q = {
		.size = sizeof(q), .flags = PTSCOPE_VMAS_COUNTS, .start = addr & ~(PAGE - 1),
		.end = (addr & ~(PAGE - 1)) + PAGE, .vma_size = sizeof(*v), .count = 1,
		.vmas = (uintptr_t)v,
	};

	if (ioctl(fd, PTSCOPE_IOC_VMAS, &q))
		return -errno;
	return q.count == 1 ? 0 : -ENOENT;
}

static inline int ptscope_vtop(int fd, uint64_t addr, struct ptscope_vtop *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
	v->addr = addr;
	return ioctl(fd, PTSCOPE_IOC_VTOP, v) ? -errno : 0;
}

/* Present leaf entries at @level in [start, end). */
static inline long count_leaves(int fd, uint64_t start, uint64_t end, int level)
{
	struct ptscope_run *runs = NULL;
	long n = ptscope_walk_all(fd, start, end, 0, &runs), i, leaves = 0;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (runs[i].kind == PTSCOPE_KIND_PAGE && (int)runs[i].level == level)
			leaves += runs[i].count;
	free(runs);
	return leaves;
}

/* One base page as the runs describe it. */
struct page_view {
	int kind;		/* PTSCOPE_KIND_*, NONE when no run covers it */
	int level;
	uint64_t bits;
	uint64_t pfn;		/* of this base page */
	uint32_t page;
	uint32_t swap_type;
	uint64_t swap_offset;
};

/* page_view_of - what the leaf runs say about the base page at @addr */
static inline struct page_view page_view_of(const struct ptscope_run *runs, long n,
					    uint64_t addr)
{
	struct page_view pv = { .kind = PTSCOPE_KIND_NONE };
	long i;

	for (i = 0; i < n; i++) {
		const struct ptscope_run *r = &runs[i];
		uint64_t span = r->count << r->shift, idx;

		if (r->kind == PTSCOPE_KIND_TABLE || addr < r->start || addr >= r->start + span)
			continue;
		idx = (addr - r->start) / PAGE;		/* base pages into the run */
		pv.kind = r->kind;
		pv.level = r->level;
		pv.bits = r->bits;
		pv.page = r->page;
		pv.pfn = r->pfn ? r->pfn + idx : 0;
		pv.swap_type = r->swap_type;
		pv.swap_offset = r->swap_offset + ((addr - r->start) >> r->shift);
		break;
	}
	return pv;
}

/* --- the kernel's own views -------------------------------------------- */

#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_MMAP_EXCLUSIVE	(1ULL << 56)
#define PM_FILE			(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)

static inline uint64_t pagemap_entry(pid_t pid, uint64_t addr)
{
	char path[64];
	uint64_t e = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (addr / PAGE) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return e;
}

/* pagemap_range - pagemap's entries for [start, end), malloc'd; NULL on failure */
static inline uint64_t *pagemap_range(pid_t pid, uint64_t start, uint64_t end)
{
	size_t bytes = (end - start) / PAGE * sizeof(uint64_t);
	uint64_t *pm = malloc(bytes);
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (!pm || fd < 0 || pread(fd, pm, bytes, start / PAGE * sizeof(uint64_t)) != (ssize_t)bytes) {
		free(pm);
		pm = NULL;
	}
	if (fd >= 0)
		close(fd);
	return pm;
}

#define KPF_THP		22
#define KPF_ZERO_PAGE	24
#define KPF_HUGE	17
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16

/* kpage_value - the 64-bit value of @pfn in /proc/kpageflags or kpagecount; 0 if unreadable */
static inline uint64_t kpage_value(const char *file, uint64_t pfn)
{
	uint64_t f = 0;
	int fd = open(file, O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &f, sizeof(f), pfn * sizeof(f)) != sizeof(f))
		f = 0;
	close(fd);
	return f;
}

static inline uint64_t kpageflags(uint64_t pfn)
{
	return kpage_value("/proc/kpageflags", pfn);
}

/* kpagecount - how many times the page at @pfn is mapped */
static inline uint64_t kpagecount(uint64_t pfn)
{
	return kpage_value("/proc/kpagecount", pfn);
}

/* smaps_field - FIELD (in kB) of the VMA starting at @start in /proc/PID/smaps; -1 if absent */
static inline long smaps_field(pid_t pid, uint64_t start, const char *field)
{
	char path[64], line[512];
	size_t flen = strlen(field);
	int in = 0;
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s == start;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* smaps_vmflag - does the VMA at @start have VmFlags FLAG (e.g. "sd", "hg")? */
static inline int smaps_vmflag(pid_t pid, uint64_t start, const char *flag)
{
	char path[64], line[512];
	int in = 0, ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s == start;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			char *tok = strtok(line + 8, " \n");

			for (; tok; tok = strtok(NULL, " \n"))
				ret |= !strcmp(tok, flag);
			break;
		}
	}
	fclose(f);
	return ret;
}

/* sysfs_long - the number in a one-value file (sysfs, procfs); -1 if unreadable */
static inline long sysfs_long(const char *path)
{
	char buf[64];
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		val = strtol(buf, NULL, 10);
	fclose(f);
	return val;
}

/* sysfs_choice - the bracketed word of a sysfs choice file ("[always] madvise never") */
static inline const char *sysfs_choice(const char *path, char *buf, size_t len)
{
	char line[128], *l, *r;
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return buf;
	if (fgets(line, sizeof(line), f)) {
		l = strchr(line, '[');
		r = l ? strchr(l, ']') : NULL;
		if (r) {
			*r = '\0';
			snprintf(buf, len, "%s", l + 1);
		}
	}
	fclose(f);
	return buf;
}

static inline int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage"

/*
 * mthp_size - the size of the mTHPs the tests and the bench ask for: arm64's
 * contiguous block of PTEs (VERSION's cont_shift: 64 KiB with 4 KiB pages,
 * 2 MiB with 16 KiB), 64 KiB elsewhere
 */
static inline unsigned long mthp_size(void)
{
	unsigned int shift = ptscope_version_info()->cont_shift[PTSCOPE_LEVEL_PTE];

	return shift ? 1UL << shift : 64 * 1024;
}

/* The THP sizes' settings that mthp_only() changed, to put back. */
struct mthp_saved {
	char size_path[96], pmd_path[96];
	char size[16], pmd[16];
};

/* mthp_restore - the settings mthp_only() found; 0, or -1 when one cannot be written */
static inline int mthp_restore(const struct mthp_saved *s)
{
	return sysfs_write(s->size_path, s->size) | sysfs_write(s->pmd_path, s->pmd);
}

/*
 * mthp_only - THP of @size bytes only: its per-size setting @knob
 * (hugepages-<size>kB/@knob: "enabled" for anonymous memory, 6.8+;
 * "shmem_enabled" for shared anonymous memory, 6.11+) "always", that of
 * the PMD size (@pmd_bytes) "never"; the settings before into @s, for
 * mthp_restore(). -1 when this kernel has no such setting (nothing changed).
 */
static inline int mthp_only(unsigned long size, unsigned long pmd_bytes, const char *knob,
			    struct mthp_saved *s)
{
	snprintf(s->size_path, sizeof(s->size_path), THP_SYSFS "/hugepages-%lukB/%s",
		 size / 1024, knob);
	snprintf(s->pmd_path, sizeof(s->pmd_path), THP_SYSFS "/hugepages-%lukB/%s",
		 pmd_bytes / 1024, knob);
	if (!sysfs_choice(s->size_path, s->size, sizeof(s->size))[0] ||
	    !sysfs_choice(s->pmd_path, s->pmd, sizeof(s->pmd))[0])
		return -1;
	if (sysfs_write(s->size_path, "always") || sysfs_write(s->pmd_path, "never")) {
		mthp_restore(s);
		return -1;
	}
	return 0;
}

/* keyed_value - the number after "KEY" + @sep in a "key value" file; -1 if absent */
static inline long long keyed_value(const char *path, const char *key, char sep)
{
	char line[256];
	size_t klen = strlen(key);
	long long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == sep) {
			val = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/* vmstat_value - counter NAME of /proc/vmstat; -1 if the kernel has none */
static inline long long vmstat_value(const char *name)
{
	return keyed_value("/proc/vmstat", name, ' ');
}

/* meminfo_value - field KEY of /proc/meminfo (kB or a count); -1 if absent */
static inline long long meminfo_value(const char *key)
{
	return keyed_value("/proc/meminfo", key, ':');
}

/*
 * pagemap_mismatches - base pages of [start, end) of @pid where the module's
 * walk and pagemap disagree (present, swap, PFN, swap type and offset);
 * the first is described in @why. pagemap is read before and after the walk:
 * -EAGAIN when it moved meanwhile (the caller quiesces and tries again);
 * other -errno when a read fails. PFNs are compared when pagemap shows them.
 */
static inline long pagemap_mismatches(int fd, pid_t pid, uint64_t start, uint64_t end,
				      char *why, size_t len)
{
	size_t npages = (end - start) / PAGE, i;
	uint64_t *pm = calloc(npages, sizeof(*pm)), *pm2 = calloc(npages, sizeof(*pm2));
	struct ptscope_run *runs = NULL;
	long n, r, bad = 0, ret;
	size_t bytes = npages * sizeof(*pm);
	char path[64];
	int pmfd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pmfd = open(path, O_RDONLY);
	if (!pm || !pm2 || pmfd < 0) {
		ret = -errno;
		goto out;
	}
	ret = -EIO;
	if (pread(pmfd, pm, bytes, start / PAGE * sizeof(*pm)) != (ssize_t)bytes)
		goto out;
	n = ptscope_walk_all(fd, start, end, 0, &runs);
	if (n < 0) {
		ret = n;
		goto out;
	}
	if (pread(pmfd, pm2, bytes, start / PAGE * sizeof(*pm)) != (ssize_t)bytes)
		goto out;
	ret = -EAGAIN;
	if (memcmp(pm, pm2, bytes))
		goto out;

	/* Runs come in address order: one pass over both. */
	for (i = 0, r = 0; i < npages; i++) {
		uint64_t addr = start + i * PAGE, e = pm[i];
		struct page_view pv = { .kind = PTSCOPE_KIND_NONE };
		int present, swap, ok = 1;

		while (r < n && (runs[r].kind == PTSCOPE_KIND_TABLE ||
				 runs[r].start + (runs[r].count << runs[r].shift) <= addr))
			r++;
		if (r < n && runs[r].start <= addr)
			pv = page_view_of(&runs[r], 1, addr);
		present = pv.kind == PTSCOPE_KIND_PAGE;
		swap = pv.kind != PTSCOPE_KIND_PAGE && pv.kind != PTSCOPE_KIND_NONE &&
		       pv.kind != PTSCOPE_KIND_MARKER;
		ok &= !!(e & PM_PRESENT) == present;
		ok &= !!(e & PM_SWAP) == swap;
		if (present && (e & PM_PFN_MASK))
			ok &= (e & PM_PFN_MASK) == pv.pfn;
		if (pv.kind == PTSCOPE_KIND_SWAP)
			ok &= (e & PM_PFN_MASK) == (pv.swap_type | pv.swap_offset << 5);
		if (!ok && !bad++)
			snprintf(why, len, "%#llx: pagemap %#llx, module kind %d level %d bits %#llx pfn %#llx",
				 (unsigned long long)addr, (unsigned long long)e, pv.kind, pv.level,
				 (unsigned long long)pv.bits, (unsigned long long)pv.pfn);
	}
	ret = bad;
out:
	if (pmfd >= 0)
		close(pmfd);
	free(runs);
	free(pm);
	free(pm2);
	return ret;
}

/*
 * fault_probe_gone - wait (up to @ms) until debugfs counters lists no probe
 * on handle_mm_fault (fprobe or kretprobe): the module keeps it for a
 * second after the last detail watch. 0, or -1 when it is still there.
 */
static inline int fault_probe_gone(int ms)
{
	char buf[256];

	for (; ms > 0; ms -= 20) {
		if (debugfs_value("counters", "hooks", buf, sizeof(buf)) &&
		    !strstr(buf, ":handle_mm_fault"))
			return 0;
		usleep(20000);
	}
	return -1;
}

/* pagemap_open_errno - may this process open /proc/@pid/pagemap? 0 or the errno */
static inline int pagemap_open_errno(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * maps_ranges - the VMAs of /proc/PID/maps as [start, end) pairs into @r
 * (room for @max pairs); the count, or -1
 */
static inline long maps_ranges(pid_t pid, uint64_t (*r)[2], long max)
{
	char path[64], line[512];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) == 2) {
			r[n][0] = s;
			r[n][1] = e;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* --- for the fuzz, race and stress programs ---------------------------------- */

/* splitmix64 - a small seeded generator: the same seed, the same sequence */
static inline uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* torture_fail - print "FAIL: ..." and count it in @failures (shared memory) */
static inline void __attribute__((format(printf, 2, 3)))
torture_fail(uint64_t *failures, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	__atomic_fetch_add(failures, 1, __ATOMIC_RELAXED);
}

/* --- a quiet target process ---------------------------------------------- */

/*
 * A child that sets up mappings, reports their addresses in shared memory,
 * then sits still and runs numbered actions on request, so that what the
 * module reads of it can be compared with /proc exactly.
 */
struct target_shared {
	uint64_t addr[8];
	uint64_t len[8];
	uint64_t arg;
	int result;
};

typedef int (*target_action)(struct target_shared *sh, int cmd);

struct target {
	pid_t pid;
	int to_child;
	int from_child;
	struct target_shared *sh;
};

/* target_do - run action @cmd in the child; its result (-1 if the child died) */
static inline int target_do(struct target *t, int cmd)
{
	char c = cmd;

	if (write(t->to_child, &c, 1) != 1 || read(t->from_child, &c, 1) != 1)
		return -1;
	return t->sh->result;
}

/*
 * target_start_arg - fork a child that runs @act(sh, 0) to set up, with
 * sh->arg = @arg; returns its result, or -1
 */
static inline int target_start_arg(struct target *t, target_action act, uint64_t arg)
{
	int down[2], up[2];

	t->sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->sh == MAP_FAILED || pipe(down) || pipe(up))
		return -1;
	t->sh->arg = arg;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		char c = 0;

		close(down[1]);
		close(up[0]);
		do {
			t->sh->result = act(t->sh, c);
			if (write(up[1], &c, 1) != 1)
				_exit(1);
		} while (read(down[0], &c, 1) == 1 && c != 'q');
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	t->to_child = down[1];
	t->from_child = up[0];
	{
		char c;

		if (read(t->from_child, &c, 1) != 1)
			return -1;
	}
	return t->sh->result;
}

/* target_start - fork a child that runs @act(sh, 0) to set up; its result, or -1 */
static inline int target_start(struct target *t, target_action act)
{
	return target_start_arg(t, act, 0);
}

static inline void target_stop(struct target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
	close(t->to_child);
	close(t->from_child);
	munmap(t->sh, PAGE);
}

#endif /* _PTSCOPE_UTIL_H */
