// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope serve PID | --from FILE | --follow FILE: the address space in a
 * web browser, redrawn as the target changes.
 *
 * A small HTTP server (libmicrohttpd) serves one page (web/, built into the
 * binary) and what it asks for:
 *
 *	/		the page
 *	/app.js, /style.css
 *	/events		Server-Sent Events: "update" when the picture or the
 *			counters changed (at most one per -i seconds, none while
 *			nothing changes), "end" when the target is gone
 *	/state		the last update: map picture (map.c's renderer), the
 *			VMAs with their huge-page coverage, the cells that
 *			changed, the counter rates over time
 *	/maps /walk?start=&end= /vtop?addr= /huge
 *			the tool's own JSON for them (it runs itself, so the page
 *			shows what `ptscope maps|walk|vtop|huge -J` print)
 *
 * Safety: it listens on 127.0.0.1 unless --listen says otherwise; every
 * request must carry the random token printed at start (?token=), or gets
 * 403; only GET and HEAD; it only reads the target. Resources are bounded:
 * MAX_CONN connections (one thread each), MAX_SPAWN tool runs at a time with
 * a size and time limit on their output, one JSON document of the last
 * update (a response copies it), a fixed history of counter samples.
 *
 * Threads and locking: the main thread samples the target every -i seconds
 * and publishes an update under srv.lock, broadcasting srv.changed; the
 * connection threads read what they send under srv.lock and never call into
 * /dev/ptscope themselves. SIGINT and SIGTERM are blocked in every thread and
 * taken by the main thread with sigtimedwait() between samples.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define DEFAULT_PORT	8642
#define MAX_CONN	16		/* connections, one thread each */
#define MAX_SPAWN	2		/* tool runs at a time */
#define SPAWN_OUT_MAX	(8 << 20)	/* bytes of a tool run's output */
#define SPAWN_TIMEOUT_MS 10000
#define STATE_MAX	(32 << 20)	/* bytes of one update; beyond: no picture */
#define CHANGED_MAX	20000		/* changed cells listed in one update */
#define HISTORY		120		/* counter samples kept for the charts */
#define KEEPALIVE_S	15		/* an SSE comment when nothing happens */
#define FULL_WALK_S	5		/* s: the longest a quiet target goes unread */
#define MIN_INTERVAL	0.25		/* s: at most 4 updates a second */
#define TOKEN_BYTES	16

/* The page, built into the binary: web/ shipped with the tool. */
#define WEB_FILE(sym, path)						\
	__asm__(".pushsection .rodata\n.global " #sym "\n" #sym ":\n"	\
		".incbin \"" path "\"\n.global " #sym "_end\n" #sym "_end:\n"	\
		".byte 0\n.popsection\n")
WEB_FILE(web_index, "tools/ptscope/web/index.html");
WEB_FILE(web_app, "tools/ptscope/web/app.js");
WEB_FILE(web_style, "tools/ptscope/web/style.css");
extern const char web_index[], web_index_end[], web_app[], web_app_end[];
extern const char web_style[], web_style_end[];

enum mode { MODE_PID, MODE_FILE, MODE_FOLLOW };

/* One counter sample, as rates over the interval before it. */
struct sample {
	double t;		/* s since the server started */
	double minor, major, faults, tlb;	/* per second */
	uint64_t rss;		/* bytes resident (the snapshot's counts) */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* a new update, the end, or quit */
	pthread_cond_t spawned;	/* a tool run is over */
	char token[2 * TOKEN_BYTES + 1];
	enum mode mode;
	const char *path;	/* --from, --follow */
	int pid;		/* the target now; 0: none (follow) */
	uint64_t seq;		/* updates published */
	char *state;		/* JSON of the last update */
	size_t state_len;
	char event[256];	/* its SSE data */
	char ended[256];	/* why the target is gone; "" while it runs */
	int quit;		/* the server stops: SSE streams end */
	int spawns;		/* tool runs going on */
	int streams;		/* SSE streams open */
} srv = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
	.spawned = PTHREAD_COND_INITIALIZER,
};

/* What the sampler keeps between samples (main thread only). */
struct sampler {
	struct snap snap;
	struct pages pages;
	int have;		/* snap and pages hold a sample */
	struct sample hist[HISTORY];
	size_t nhist;
	double t0;
	int dev;		/* /dev/ptscope for the watch; -1 */
	unsigned int watch;
	int watching;
	char nowatch[160];	/* why there are no counters */
	struct ptscope_counters last;	/* at the previous sample */
	struct ptscope_counters now;	/* at this one, if now_valid */
	int now_valid;
	double now_t;		/* when they were read */
	double walked;		/* when the tables were last read (now_s()) */
	struct stat file_st;	/* --from: the file as last read */
	int file_seen;
	char caption[200];	/* --follow: its second line */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- JSON ------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c == '<')	/* never "</script>" or "<!--" in a string */
			fputs("\\u003c", f);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
	json_str(f, s, strlen(s));
}

/* --- what changed between two samples --------------------------------------- */

static int page_same(const struct page *a, const struct page *b)
{
	return a->state == b->state && a->pfn == b->pfn && a->page == b->page;
}

/* The cell of @addr in the new picture: VMA index and cell number. */
static int cell_of(const struct snap *s, uint64_t cell_bytes, uint64_t addr, size_t *vi,
		   uint64_t *c)
{
	const struct ptscope_vma *v = snap_find_vma(s, addr);

	if (!v)
		return 0;
	*vi = v - s->vmas;
	*c = (addr - v->start) / cell_bytes;
	return 1;
}

/*
 * changed_cells - the cells of @s whose pages differ from @before: a page
 * that came, went, or maps another frame (or swap slot), as [vma, cell].
 */
static size_t changed_cells(FILE *f, const struct snap *s, const struct pages *before,
			    const struct pages *after, uint64_t cell_bytes)
{
	size_t i = 0, j = 0, n = 0, vi, last_vi = SIZE_MAX;
	uint64_t c, last_c = UINT64_MAX, addr;

	while (i < before->n || j < after->n) {
		if (j == after->n || (i < before->n && before->p[i].addr < after->p[j].addr)) {
			addr = before->p[i++].addr;
		} else if (i == before->n || after->p[j].addr < before->p[i].addr) {
			addr = after->p[j++].addr;
		} else {
			addr = after->p[j].addr;
			if (page_same(&before->p[i++], &after->p[j++]))
				continue;
		}
		if (!cell_of(s, cell_bytes, addr, &vi, &c) || (vi == last_vi && c == last_c))
			continue;
		last_vi = vi;
		last_c = c;
		if (n < CHANGED_MAX)
			fprintf(f, "%s[%zu,%llu]", n ? "," : "", vi, (unsigned long long)c);
		n++;
	}
	return n;
}

/* The VMAs of @s that @before did not have (the same start and end). */
static void new_vmas(FILE *f, const struct snap *s, const struct snap *before)
{
	size_t i, n = 0;

	for (i = 0; i < s->nvmas; i++) {
		const struct ptscope_vma *b = snap_find_vma(before, s->vmas[i].start);

		if (b && b->start == s->vmas[i].start && b->end == s->vmas[i].end)
			continue;
		fprintf(f, "%s%zu", n++ ? "," : "", i);
	}
}

/* --- an update ------------------------------------------------------------------ */

static uint64_t vma_rss(const struct ptscope_vma *v)
{
	return v->counts[PTSCOPE_CNT_RSS_PTE] + v->counts[PTSCOPE_CNT_RSS_PMD] +
	       v->counts[PTSCOPE_CNT_RSS_PUD];
}

static void vma_json(FILE *f, const struct snap *s, size_t i, int y,
		     const struct map_geom *g)
{
	const struct ptscope_vma *v = &s->vmas[i];
	const __u64 *c = v->counts;
	uint64_t cells = (v->end - v->start + g->cell_bytes - 1) / g->cell_bytes;
	char perms[8];

	fprintf(f, "%s{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"perms\":\"%s\",\"name\":", i ? "," : "",
		(unsigned long long)v->start, (unsigned long long)v->end, vma_perms(perms, v));
	json_cstr(f, v->name);
	fprintf(f, ",\"kind\":\"%s\",\"page_size\":%u,\"y\":%d,\"cells\":%llu,"
		"\"rss\":%llu,\"huge\":%llu,\"swap\":%llu,\"thp\":%llu,\"hugetlb\":%llu,"
		"\"pt_tables\":%llu}", enum_name(vma_kind_names, VMA_KINDS, v->kind), v->page_size,
		y, (unsigned long long)cells, (unsigned long long)(vma_rss(v) * s->page_size),
		(unsigned long long)((c[PTSCOPE_CNT_RSS_PMD] + c[PTSCOPE_CNT_RSS_PUD]) * s->page_size),
		(unsigned long long)(c[PTSCOPE_CNT_SWAP] * s->page_size),
		(unsigned long long)c[PTSCOPE_CNT_THP_PMD], (unsigned long long)c[PTSCOPE_CNT_HUGETLB],
		(unsigned long long)(c[PTSCOPE_CNT_PTE_TABLES] + c[PTSCOPE_CNT_PMD_TABLES] +
				     c[PTSCOPE_CNT_PUD_TABLES] + c[PTSCOPE_CNT_P4D_TABLES]));
}

static void history_json(FILE *f, const struct sampler *sm)
{
	size_t i;

	fputs("\"history\":[", f);
	for (i = 0; i < sm->nhist; i++) {
		const struct sample *h = &sm->hist[i];

		fprintf(f, "%s{\"t\":%.2f,\"minor\":%.1f,\"major\":%.1f,\"faults\":%.1f,"
			"\"tlb\":%.1f,\"rss\":%llu}", i ? "," : "", h->t, h->minor, h->major,
			h->faults, h->tlb, (unsigned long long)h->rss);
	}
	fputs("]", f);
}

static const char *mode_name(enum mode m)
{
	return m == MODE_PID ? "live" : m == MODE_FILE ? "snapshot" : "follow";
}

/*
 * state_json - the document of one update: @s, drawn in @svg, compared with
 * the previous sample @before (NULL: none); returns its length, 0 on failure.
 */
static size_t state_json(char **out, uint64_t seq, const struct snap *s, const char *svg,
			 const struct snap *before, const struct pages *pg_before,
			 const struct pages *pg, const struct sampler *sm, size_t *nchanged)
{
	struct map_geom g;
	size_t len = 0, i;
	int *y = xcalloc(s->nvmas + 1, sizeof(*y));
	FILE *f = open_memstream(out, &len);

	if (!f) {
		free(y);
		return 0;
	}
	map_geometry(s, &g, y);
	fprintf(f, "{\"seq\":%llu,\"mode\":\"%s\",\"pid\":%d,\"comm\":", (unsigned long long)seq,
		mode_name(srv.mode), s->pid);
	json_cstr(f, s->comm);
	fputs(",\"taken\":", f);
	json_cstr(f, s->taken);
	fputs(",\"caption\":", f);
	json_cstr(f, sm->caption);
	fputs(",\"ended\":", f);
	json_cstr(f, srv.ended);
	fprintf(f, ",\"levels\":%u,\"page_size\":%u,\"interval\":%.2f,",
		s->levels, s->page_size, opt.interval);
	fprintf(f, "\"geom\":{\"cell_bytes\":%llu,\"cells\":%d,\"cell_px\":%d,\"x_bar\":%d,"
		"\"x_label\":%d,\"width\":%d,\"height\":%d},", (unsigned long long)g.cell_bytes,
		g.cells, g.cell_px, g.x_bar, g.x_label, g.width, g.height);
	fputs("\"classes\":[", f);
	for (i = 0; i < MAP_CLASSES; i++) {
		fprintf(f, "%s{\"color\":\"%s\",\"label\":", i ? "," : "", map_classes[i].color);
		json_cstr(f, map_classes[i].label);
		fputs("}", f);
	}
	fputs("],\"vmas\":[", f);
	for (i = 0; i < s->nvmas; i++)
		vma_json(f, s, i, y[i], &g);
	fputs("],\"changed\":[", f);
	*nchanged = before ? changed_cells(f, s, pg_before, pg, g.cell_bytes) : 0;
	fputs("],\"new_vmas\":[", f);
	if (before)
		new_vmas(f, s, before);
	fprintf(f, "],\"nchanged\":%zu,\"counters\":", *nchanged);
	if (sm->watching)
		fputs("\"\"", f);
	else
		json_cstr(f, sm->nowatch);
	fputc(',', f);
	history_json(f, sm);
	fputs(",\"svg\":", f);
	if (strlen(svg) < STATE_MAX)
		json_cstr(f, svg);
	else
		fputs("\"\"", f);
	fputs("}\n", f);
	free(y);
	if (fclose(f) || len > STATE_MAX) {
		free(*out);
		*out = NULL;
		return 0;
	}
	return len;
}

/* publish - make @state (taken over) the last update and wake the streams */
static void publish(char *state, size_t len, size_t nchanged, const struct sampler *sm)
{
	const struct sample *h = sm->nhist ? &sm->hist[sm->nhist - 1] : NULL;

	pthread_mutex_lock(&srv.lock);
	free(srv.state);
	srv.state = state;
	srv.state_len = len;
	srv.seq++;
	snprintf(srv.event, sizeof(srv.event),
		 "{\"seq\":%llu,\"pid\":%d,\"nchanged\":%zu,\"faults\":%.1f,\"tlb\":%.1f}",
		 (unsigned long long)srv.seq, srv.pid, nchanged, h ? h->faults : 0.0,
		 h ? h->tlb : 0.0);
	pthread_cond_broadcast(&srv.changed);
	pthread_mutex_unlock(&srv.lock);
}

static void set_ended(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_ended(const char *fmt, ...)
{
	va_list ap;
	char *p;

	pthread_mutex_lock(&srv.lock);
	va_start(ap, fmt);
	vsnprintf(srv.ended, sizeof(srv.ended), fmt, ap);
	va_end(ap);
	for (p = srv.ended; *p; p++)	/* it goes into JSON as it is */
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '?';
	pthread_cond_broadcast(&srv.changed);
	pthread_mutex_unlock(&srv.lock);
}

/* --- the sampler --------------------------------------------------------------- */

static void watch_end(struct sampler *sm)
{
	if (sm->watching)
		watch_stop(sm->dev, sm->watch);
	if (sm->dev >= 0)
		close(sm->dev);
	sm->dev = -1;
	sm->watching = 0;
	sm->nhist = 0;
}

/* A watch on the target for the charts; without one the page says why. */
static void watch_begin(struct sampler *sm, int pid)
{
	watch_end(sm);
	snprintf(sm->nowatch, sizeof(sm->nowatch), "no counters: %s",
		 srv.mode == MODE_FILE ? "a snapshot file has none" : "no target");
	if (srv.mode == MODE_FILE || !pid)
		return;
	sm->dev = dev_open();
	if (sm->dev < 0) {
		snprintf(sm->nowatch, sizeof(sm->nowatch), "no counters: cannot open %s",
			 PTSCOPE_DEV);
		return;
	}
	if (watch_start(sm->dev, pid, PTSCOPE_WATCH_FAULT_DETAIL, &sm->watch) ||
	    counters_read(sm->dev, sm->watch, &sm->last)) {
		snprintf(sm->nowatch, sizeof(sm->nowatch), "no counters: the module gave no "
			 "watch (see the server's messages)");
		return;
	}
	sm->watching = 1;
}

/* TLB flushes: a task switch flushes only when it says so (full). */
static uint64_t tlb_flushes(const struct ptscope_counters *c)
{
	uint64_t n = c->tlb[PTSCOPE_TLB_TASK_SWITCH].full;
	int i;

	for (i = 0; i < PTSCOPE_TLB_MAX; i++)
		if (i != PTSCOPE_TLB_TASK_SWITCH)
			n += c->tlb[i].events;
	return n;
}

/*
 * quiet - nothing between @a and @b could have changed the page tables: the
 * kernel fills entries in faults (the target's, or get_user_pages' on its
 * behalf), and clears or changes present ones only with a TLB flush.
 */
static int quiet(const struct ptscope_counters *a, const struct ptscope_counters *b)
{
	return !memcmp(a->faults, b->faults, sizeof(a->faults)) &&
	       tlb_flushes(a) == tlb_flushes(b);
}

/* sample_counters - one point of the charts; 1 when its rates are not all 0 */
static int sample_counters(struct sampler *sm, const struct snap *s)
{
	const struct ptscope_counters *c = &sm->now;
	struct sample h = { .t = now_s() - sm->t0 };
	size_t i;
	double secs;

	for (i = 0; i < s->nvmas; i++)
		h.rss += vma_rss(&s->vmas[i]) * s->page_size;
	if (sm->now_valid) {
		h.t = sm->now_t - sm->t0;	/* the rates are of the counters' times */
		secs = (c->elapsed_ns - sm->last.elapsed_ns) / 1e9;
		if (secs > 0) {
			h.minor = (c->faults[PTSCOPE_FLT_MINOR] -
				   sm->last.faults[PTSCOPE_FLT_MINOR]) / secs;
			h.major = (c->faults[PTSCOPE_FLT_MAJOR] -
				   sm->last.faults[PTSCOPE_FLT_MAJOR]) / secs;
			h.faults = (c->faults[PTSCOPE_FLT_TOTAL] -
				    sm->last.faults[PTSCOPE_FLT_TOTAL]) / secs;
			h.tlb = (tlb_flushes(c) - tlb_flushes(&sm->last)) / secs;
		}
		sm->last = *c;
	}
	if (sm->nhist == HISTORY) {
		memmove(sm->hist, sm->hist + 1, (HISTORY - 1) * sizeof(*sm->hist));
		sm->nhist--;
	}
	sm->hist[sm->nhist++] = h;
	return h.faults > 0 || h.tlb > 0 || h.minor > 0 || h.major > 0 ||
	       (sm->nhist > 1 && sm->hist[sm->nhist - 2].faults + sm->hist[sm->nhist - 2].tlb > 0);
}

/* --follow FILE: a PID on its first line, a caption on the second. */
static int follow_read(struct sampler *sm, int *pid)
{
	char line[256] = "";
	FILE *f = fopen(srv.path, "r");

	if (!f)
		return -1;
	*pid = 0;
	sm->caption[0] = '\0';
	if (fgets(line, sizeof(line), f))
		*pid = atoi(line) > 0 ? atoi(line) : 0;
	if (fgets(sm->caption, sizeof(sm->caption), f))
		sm->caption[strcspn(sm->caption, "\n")] = '\0';
	fclose(f);
	return 0;
}

/*
 * take - a new sample of the target into @s: 0 taken, 1 nothing new (the
 * file did not change), 2 nothing new (the counters say so: @s is not
 * filled), <0 the target is gone (the reason in srv.ended).
 */
static int take(struct sampler *sm, struct snap *s)
{
	struct stat st;
	int pid = srv.pid, err;

	sm->now_valid = 0;
	switch (srv.mode) {
	case MODE_FILE:
		if (stat(srv.path, &st)) {
			set_ended("%s: %s", srv.path, strerror(errno));
			return -1;
		}
		if (sm->file_seen && st.st_ino == sm->file_st.st_ino &&
		    st.st_size == sm->file_st.st_size &&
		    st.st_mtim.tv_sec == sm->file_st.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == sm->file_st.st_mtim.tv_nsec)
			return 1;
		sm->file_st = st;
		sm->file_seen = 1;
		/* A bad file (said on stderr) leaves the page as it was. */
		return snapfile_read(s, srv.path) ? 1 : 0;
	case MODE_FOLLOW:
		if (follow_read(sm, &pid)) {
			set_ended("%s was removed: nothing more to follow", srv.path);
			return -1;
		}
		if (pid != srv.pid) {
			pthread_mutex_lock(&srv.lock);
			srv.pid = pid;
			pthread_mutex_unlock(&srv.lock);
			watch_begin(sm, pid);
		}
		if (!pid || kill(pid, 0)) {
			memset(s, 0, sizeof(*s));
			s->pid = pid;
			snprintf(s->comm, sizeof(s->comm), pid ? "exited" : "waiting");
			return 0;
		}
		break;
	case MODE_PID:
		break;
	}
	/*
	 * The counters first: while the target neither faults nor flushes its
	 * TLB, its tables are as they were, and the walk (the cost of a sample)
	 * waits, up to FULL_WALK_S. After a burst, one walk more draws the calm.
	 */
	sm->now_valid = sm->watching && !counters_read(sm->dev, sm->watch, &sm->now);
	sm->now_t = now_s();
	if (sm->now_valid && sm->have && sm->snap.pid == pid && quiet(&sm->last, &sm->now) &&
	    sm->nhist && !sm->hist[sm->nhist - 1].faults && !sm->hist[sm->nhist - 1].tlb &&
	    now_s() - sm->walked < FULL_WALK_S)
		return 2;
	err = snap_live(s, pid, SNAP_VMAS | SNAP_RUNS, 0, 0);
	sm->walked = now_s();
	if (!err)
		return 0;
	if (srv.mode == MODE_FOLLOW) {	/* exited between kill() and the walk */
		memset(s, 0, sizeof(*s));
		s->pid = pid;
		return 0;
	}
	set_ended(err == EXIT_NOPROC ? "process %d exited" :
		  "process %d cannot be read any more", pid);
	return -1;
}

/* render - compare @s with the last sample; draw and publish it if it moved */
static void render(struct sampler *sm, struct snap *s, int counters_moved)
{
	char *svg = NULL, *state = NULL;
	size_t svg_len = 0, len = 0, nchanged = 0;
	struct pages pg;
	FILE *f;

	pages_from_snap(&pg, s);
	/* The same pages and VMAs: nothing to say, the page waits. */
	if (sm->have && !counters_moved && pg.n == sm->pages.n &&
	    !memcmp(pg.p, sm->pages.p, pg.n * sizeof(*pg.p)) && s->nvmas == sm->snap.nvmas &&
	    !memcmp(s->vmas, sm->snap.vmas, s->nvmas * sizeof(*s->vmas))) {
		pages_free(&pg);
		snap_free(s);
		return;
	}
	f = open_memstream(&svg, &svg_len);
	if (f) {
		map_svg(f, s, &pg);
		/* Highlights compare samples of one process (--follow switches). */
		if (!fclose(f))
			len = state_json(&state, srv.seq + 1, s, svg,
					 sm->have && sm->snap.pid == s->pid ? &sm->snap : NULL,
					 &sm->pages, &pg, sm, &nchanged);
		free(svg);
	}
	if (len)
		publish(state, len, nchanged, sm);
	if (sm->have) {
		snap_free(&sm->snap);
		pages_free(&sm->pages);
	}
	sm->snap = *s;
	sm->pages = pg;
	sm->have = 1;
}

/* --- HTTP --------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     const void *body, size_t len, enum MHD_ResponseMemoryMode mem)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mem);
	enum MHD_Result ret;

	if (!r) {
		if (mem == MHD_RESPMEM_MUST_FREE)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; "
				"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
				"form-action 'none'; frame-ancestors 'none'");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
				  const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", text, strlen(text),
		     MHD_RESPMEM_MUST_COPY);
}

/* Constant time: how long the comparison takes says nothing of the token. */
static int token_ok(const char *t)
{
	unsigned char diff = 0;
	size_t i, n = sizeof(srv.token) - 1;

	if (!t || strlen(t) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= t[i] ^ srv.token[i];
	return !diff;
}

/* The page, with the token where index.html says @TOKEN@. */
static enum MHD_Result send_index(struct MHD_Connection *conn)
{
	size_t n = web_index_end - web_index, tl = strlen(srv.token), len = 0, k = 0;
	const char *p = web_index, *at;
	char *out;

	for (at = p; (at = memmem(at, web_index_end - at, "@TOKEN@", 7)); at += 7)
		k++;
	out = xcalloc(n + k * tl + 1, 1);

	while ((at = memmem(p, web_index_end - p, "@TOKEN@", 7))) {
		memcpy(out + len, p, at - p);
		len += at - p;
		memcpy(out + len, srv.token, tl);
		len += tl;
		p = at + 7;
	}
	memcpy(out + len, p, web_index_end - p);
	len += web_index_end - p;
	return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", out, len,
		     MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_state(struct MHD_Connection *conn)
{
	enum MHD_Result ret;

	pthread_mutex_lock(&srv.lock);
	if (!srv.state) {
		pthread_mutex_unlock(&srv.lock);
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no sample yet\n");
	}
	ret = reply(conn, MHD_HTTP_OK, "application/json", srv.state, srv.state_len,
		    MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&srv.lock);
	return ret;
}

/* One SSE stream: what it has sent so far. */
struct stream {
	uint64_t seen;
	int done;
};

/*
 * stream_read - the next event: blocks (one thread per connection) until an
 * update, the end, or KEEPALIVE_S seconds with nothing (a comment line, so a
 * closed connection is noticed).
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	struct timespec dl;
	ssize_t n;

	(void)pos;
	if (st->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += KEEPALIVE_S;
	pthread_mutex_lock(&srv.lock);
	while (srv.seq == st->seen && !srv.quit && !srv.ended[0])
		if (pthread_cond_timedwait(&srv.changed, &srv.lock, &dl) == ETIMEDOUT)
			break;
	if (srv.seq != st->seen) {
		n = snprintf(buf, max, "event: update\nid: %llu\ndata: %s\n\n",
			     (unsigned long long)srv.seq, srv.event);
		st->seen = srv.seq;
	} else if (srv.ended[0] || srv.quit) {
		n = snprintf(buf, max, "event: end\ndata: {\"why\":\"%s\",\"reason\":\"%s\"}\n\n",
			     srv.ended[0] ? "target" : "server", srv.ended);
		st->done = 1;
	} else {
		n = snprintf(buf, max, ": nothing changed\n\n");
	}
	pthread_mutex_unlock(&srv.lock);
	if (n < 0 || (size_t)n >= max)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void stream_free(void *cls)
{
	free(cls);
	pthread_mutex_lock(&srv.lock);
	srv.streams--;
	pthread_cond_broadcast(&srv.changed);
	pthread_mutex_unlock(&srv.lock);
}

static enum MHD_Result send_events(struct MHD_Connection *conn)
{
	struct stream *st = xcalloc(1, sizeof(*st));
	struct MHD_Response *r;
	enum MHD_Result ret;

	/* A reconnecting EventSource gets the current update at once. */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_read, st,
					      stream_free);
	if (!r) {
		free(st);
		return MHD_NO;
	}
	pthread_mutex_lock(&srv.lock);
	srv.streams++;
	pthread_mutex_unlock(&srv.lock);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* --- the tool's own JSON, from a run of itself ---------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_read(struct buf *b, int fd)
{
	ssize_t n;

	if (b->cap - b->len < 4096) {
		if (b->cap >= SPAWN_OUT_MAX)
			return -1;
		b->cap = b->cap ? b->cap * 2 : 65536;
		b->p = xrealloc(b->p, b->cap, 1);
	}
	n = read(fd, b->p + b->len, b->cap - b->len - 1);
	if (n > 0)
		b->len += n;
	return n;
}

/* run_self - ptscope @argv, its stdout in @out: its exit status, -1 on failure */
static int run_self(char *const argv[], struct buf *out, struct buf *err)
{
	double deadline = now_s() + SPAWN_TIMEOUT_MS / 1000.0;
	struct buf *bufs[2] = { out, err };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int o[2], e[2], fds[2], status = -1, i;
	sigset_t none, dfl;
	pid_t child;

	if (pipe2(o, O_CLOEXEC))
		return -1;
	if (pipe2(e, O_CLOEXEC)) {
		close(o[0]);
		close(o[1]);
		return -1;
	}
	/* The child: our stdout and stderr pipes, no blocked or ignored signals. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, o[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, e[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (posix_spawn(&child, "/proc/self/exe", &fa, &attr, argv, environ))
		child = -1;
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(o[1]);
	close(e[1]);
	fds[0] = o[0];
	fds[1] = e[0];
	while (child > 0 && (fds[0] >= 0 || fds[1] >= 0)) {
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
		int left = (int)((deadline - now_s()) * 1000);

		if (left <= 0 || poll(p, 2, left) <= 0) {
			kill(child, SIGKILL);	/* too slow */
			break;
		}
		for (i = 0; i < 2; i++) {
			if (fds[i] < 0 || !p[i].revents)
				continue;
			if (buf_read(bufs[i], fds[i]) > 0)
				continue;
			if (bufs[i]->cap >= SPAWN_OUT_MAX)
				kill(child, SIGKILL);	/* too much */
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (child > 0 && waitpid(child, &status, 0) > 0 && WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

/* A turn to run the tool: at most MAX_SPAWN at a time, waiting a while for one. */
static int spawn_begin(void)
{
	struct timespec dl;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += SPAWN_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&srv.lock);
	while (srv.spawns >= MAX_SPAWN && !err)
		err = pthread_cond_timedwait(&srv.spawned, &srv.lock, &dl);
	if (!err)
		srv.spawns++;
	pthread_mutex_unlock(&srv.lock);
	return err;
}

static void spawn_end(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.spawns--;
	pthread_cond_signal(&srv.spawned);
	pthread_mutex_unlock(&srv.lock);
}

/* Which target the tool runs on: "PID" or "--from FILE". */
static int target_args(char **argv, char *pid)
{
	if (srv.mode == MODE_FILE) {
		argv[0] = "--from";
		argv[1] = (char *)srv.path;
		return 2;
	}
	pthread_mutex_lock(&srv.lock);
	snprintf(pid, 16, "%d", srv.pid);
	pthread_mutex_unlock(&srv.lock);
	argv[0] = pid;
	return 1;
}

static int query_addr(struct MHD_Connection *conn, const char *key, uint64_t *v)
{
	const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);

	return s && !parse_u64(s, v);
}

/* /maps, /walk, /vtop, /huge: the tool's JSON for the target, as it is now. */
static enum MHD_Result send_tool(struct MHD_Connection *conn, const char *what)
{
	char *argv[16], pid[16], a[40], b[40];
	struct buf out = { 0 }, err = { 0 };
	uint64_t start, end;
	int n = 0, rc;
	enum MHD_Result ret;

	argv[n++] = "ptscope";
	argv[n++] = (char *)what;
	argv[n++] = "-J";
	if (!strcmp(what, "walk")) {
		if (!query_addr(conn, "start", &start) || !query_addr(conn, "end", &end) ||
		    start >= end)
			return reply_text(conn, MHD_HTTP_BAD_REQUEST, "walk needs start < end\n");
		argv[n++] = "-o";
		argv[n++] = "RANGE,LEVEL,KIND,COUNT,SIZE,FLAGS,PFN,TABLE,PAGE,MAPCOUNT,ORDER,SWAP";
		n += target_args(argv + n, pid);
		snprintf(a, sizeof(a), "0x%llx-0x%llx", (unsigned long long)start,
			 (unsigned long long)end);
		argv[n++] = a;
	} else if (!strcmp(what, "vtop")) {
		if (!query_addr(conn, "addr", &start))
			return reply_text(conn, MHD_HTTP_BAD_REQUEST, "vtop needs addr\n");
		argv[n++] = "-o";
		argv[n++] = "STEP,INDEX,ADDR_BITS,TABLE,ENTRY,NEXT,KIND,FLAGS,COVERS,MEANING";
		n += target_args(argv + n, pid);
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)start);
		argv[n++] = b;
	} else if (!strcmp(what, "huge")) {
		if (srv.mode == MODE_FILE)
			return reply_text(conn, MHD_HTTP_NOT_FOUND,
					  "a snapshot has no THP eligibility: serve a PID\n");
		argv[n++] = "-o";
		argv[n++] = "START,END,THP,WHY,MAPPED,HUGE,COVERAGE,LEAVES,REACH,MTHP";
		n += target_args(argv + n, pid);
	} else {
		argv[n++] = "-b";
		argv[n++] = "-o";
		argv[n++] = "START,END,PERMS,OFFSET,KIND,PAGESIZE,SIZE,RSS,HUGE,SWAP,THP,HUGETLB,"
			    "DIRTY,ANON,FILE,SHMEM,ZERO,PT,NAME";
		n += target_args(argv + n, pid);
	}
	argv[n] = NULL;
	if (srv.mode != MODE_FILE && !strcmp(pid, "0"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "no target now\n");
	if (spawn_begin())
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy: try again\n");
	rc = run_self(argv, &out, &err);
	spawn_end();
	if (rc == 0 && out.len) {
		ret = reply(conn, MHD_HTTP_OK, "application/json", out.p, out.len,
			    MHD_RESPMEM_MUST_FREE);
		free(err.p);
		return ret;
	}
	if (err.p)
		err.p[err.len] = '\0';
	ret = reply_text(conn, rc < 0 ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND,
			 err.len ? err.p : "the tool failed\n");
	free(out.p);
	free(err.p);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	static const char *const tools[] = { "maps", "walk", "vtop", "huge" };
	size_t i;

	(void)cls, (void)version, (void)upload, (void)upload_size, (void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET only\n");
	if (!token_ok(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token")))
		return reply_text(conn, MHD_HTTP_FORBIDDEN,
				  "403: this URL needs the token ptscope serve printed at start\n");
	if (!strcmp(url, "/"))
		return send_index(conn);
	if (!strcmp(url, "/app.js"))
		return reply(conn, MHD_HTTP_OK, "text/javascript; charset=utf-8", web_app,
			     web_app_end - web_app, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/style.css"))
		return reply(conn, MHD_HTTP_OK, "text/css; charset=utf-8", web_style,
			     web_style_end - web_style, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/state"))
		return send_state(conn);
	if (!strcmp(url, "/events"))
		return send_events(conn);
	for (i = 0; i < ARRAY_SIZE(tools); i++)
		if (url[0] == '/' && !strcmp(url + 1, tools[i]))
			return send_tool(conn, tools[i]);
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* --- setup ---------------------------------------------------------------------- */

/* --listen [ADDR][:PORT]: an IPv4 or [IPv6] address, a port, or both. */
static int parse_listen(const char *arg, struct sockaddr_storage *sa, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1", port[24];
	const char *colon = strrchr(arg, ':');
	struct addrinfo *ai;
	char *end;
	long p = DEFAULT_PORT;

	if (colon && (arg[0] != '[' || colon > strchr(arg, ']'))) {
		p = strtol(colon + 1, &end, 10);
		if (*end || colon[1] == '\0' || p < 0 || p > 65535)
			return -1;
		if (colon > arg)
			snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
	} else if (strspn(arg, "0123456789") == strlen(arg) && *arg) {
		p = strtol(arg, NULL, 10);
		if (p > 65535)
			return -1;
	} else if (*arg) {
		snprintf(host, sizeof(host), "%s", arg);
	}
	if (host[0] == '[') {	/* [::1] */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	snprintf(port, sizeof(port), "%ld", p);
	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int make_token(void)
{
	unsigned char r[TOKEN_BYTES];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	for (i = 0; i < sizeof(r); i++)
		sprintf(srv.token + 2 * i, "%02x", r[i]);
	return 0;
}

static void print_url(struct MHD_Daemon *d, const struct sockaddr_storage *sa)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET6_ADDRSTRLEN] = "127.0.0.1";
	int v6 = sa->ss_family == AF_INET6;

	if (v6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			  sizeof(host));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	if (strcmp(host, "127.0.0.1") && strcmp(host, "::1"))
		fprintf(stderr, "ptscope serve: listening on %s, not only the loopback: whoever "
			"can reach it and has the URL sees the address space\n", host);
	if (!strcmp(host, "0.0.0.0"))
		strcpy(host, "127.0.0.1");
	printf("ptscope serve: the live view of %s is at\n  http://%s%s%s:%u/?token=%s\n"
	       "(anyone with this URL can see the address space; Ctrl-C stops)\n",
	       srv.mode == MODE_FILE ? srv.path : srv.mode == MODE_FOLLOW ?
	       "the process named in the --follow file" : "the process", v6 ? "[" : "", host,
	       v6 ? "]" : "", info ? info->port : 0, srv.token);
	fflush(stdout);
}

static void sampler_loop(struct sampler *sm, const sigset_t *sigs)
{
	struct timespec ts;
	int grace = -1;

	while (!srv.quit) {
		double t = now_s(), spent, wait;
		struct snap s;
		int r = grace < 0 ? take(sm, &s) : -1;

		if (r == 0) {
			int moved = sample_counters(sm, &s);

			render(sm, &s, moved);
		} else if (r == 2) {
			sample_counters(sm, &sm->snap);	/* a point of the charts */
		} else if (r < 0 && grace < 0) {
			/* The target is gone: the page was told; let it hear, then stop. */
			fprintf(stderr, "ptscope serve: %s: stopping\n", srv.ended);
			grace = 2;
		} else if (grace >= 0 && grace-- == 0) {
			break;
		}
		/* Never more than a fifth of a CPU, however big the target. */
		spent = now_s() - t;
		wait = opt.interval > 4 * spent ? opt.interval : 4 * spent;
		if (grace >= 0)
			wait = 0.5;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - ts.tv_sec) * 1e9);
		if (sigtimedwait(sigs, NULL, &ts) > 0) {
			fputs("ptscope serve: interrupted: stopping\n", stderr);
			break;
		}
	}
}

int cmd_serve(void)
{
	struct sockaddr_storage sa;
	struct sampler sm = { .dev = -1 };
	struct MHD_Daemon *d;
	struct timespec dl;
	socklen_t salen;
	sigset_t sigs;
	int err = 0;

	if (opt.interval < MIN_INTERVAL) {
		fprintf(stderr, "ptscope serve: -i is at least %.2f seconds\n", MIN_INTERVAL);
		return EXIT_USAGE;
	}
	if (parse_listen(opt.listen ? opt.listen : "", &sa, &salen)) {
		fprintf(stderr, "ptscope serve: --listen takes ADDR, :PORT or ADDR:PORT with a "
			"numeric address: '%s'\n", opt.listen);
		return EXIT_USAGE;
	}
	if (opt.follow) {
		srv.mode = MODE_FOLLOW;
		srv.path = opt.follow;
	} else if (opt.nfrom) {
		srv.mode = MODE_FILE;
		srv.path = opt.from[0];
		err = snapfile_read(&sm.snap, srv.path);
		if (err)
			return err;
		snap_free(&sm.snap);
	} else {
		if (parse_pid(opt.args[0], &srv.pid))
			return EXIT_USAGE;
		err = snap_live(&sm.snap, srv.pid, SNAP_NAMES, 0, 0);
		if (err)
			return err;
		snap_free(&sm.snap);
	}
	if (make_token()) {
		perror("ptscope serve: getrandom");
		return EXIT_FAIL;
	}
	/* Every thread inherits this mask: the signals come to sigtimedwait(). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_POLL |
			     (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONN,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)MAX_CONN,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)(2 * KEEPALIVE_S),
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "ptscope serve: cannot listen on %s: %s\n",
			opt.listen ? opt.listen : "127.0.0.1:8642", strerror(errno));
		return EXIT_FAIL;
	}
	print_url(d, &sa);
	sm.t0 = now_s();
	watch_begin(&sm, srv.pid);
	sampler_loop(&sm, &sigs);

	/* The streams say "end" and finish before the connections are cut. */
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 1;
	pthread_mutex_lock(&srv.lock);
	srv.quit = 1;
	pthread_cond_broadcast(&srv.changed);
	while (srv.streams > 0)
		if (pthread_cond_timedwait(&srv.changed, &srv.lock, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&srv.lock);
	MHD_stop_daemon(d);
	watch_end(&sm);
	if (sm.have) {
		snap_free(&sm.snap);
		pages_free(&sm.pages);
	}
	free(srv.state);
	return EXIT_OK;
}
