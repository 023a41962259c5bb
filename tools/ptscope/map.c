// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope map --svg FILE / --html FILE: a picture of the address space.
 *
 * Low addresses at the top. Every VMA is a block of cells, 64 to a row,
 * each cell the same number of bytes everywhere in the picture (so VMAs
 * are to scale); a cell is coloured by what its pages are. Small gaps are
 * drawn to scale too; a gap bigger than a few rows becomes a broken axis
 * with its size written on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CELLS		64	/* cells per row */
#define CELL		6	/* px, square */
#define MAX_ROWS	360	/* rows the cells may use, all VMAs together */
#define MIN_BLOCK	16	/* px: a VMA is at least one label high */
#define VMA_SEP		3	/* px between adjacent VMAs */
#define GAP_BREAK	30	/* px of a broken-axis gap */
#define SMALL_GAP_ROWS	4	/* larger gaps are broken */
#define X_BAR		190
#define X_LABEL		(X_BAR + CELLS * CELL + 14)
#define WIDTH		1000
#define Y_TOP		110

/* What a cell shows. */
enum cell_class {
	C_NONE, C_ANON, C_FILE, C_ZERO, C_KERNEL, C_HUGE, C_SWAP, C_OTHER, C_CLASSES
};

/*
 * Okabe and Ito's palette, told apart with any colour vision and by
 * lightness alone (yellow, orange, grey and black differ in it too).
 */
_Static_assert(C_CLASSES == MAP_CLASSES, "map_classes[] in common.h");
const struct map_class map_classes[MAP_CLASSES] = {
	[C_NONE]	= { "#ececec", "not populated (no page yet)" },
	[C_ANON]	= { "#009e73", "resident: anonymous (4K page)" },
	[C_FILE]	= { "#0072b2", "resident: file or shared memory (4K page)" },
	[C_ZERO]	= { "#f0e442", "the shared zero page (read, never written)" },
	[C_KERNEL]	= { "#808080", "a kernel or device page (vdso, vvar, PFN map)" },
	[C_HUGE]	= { "#cc79a7", "resident in a huge page (outlined)" },
	[C_SWAP]	= { "#e69f00", "swapped out" },
	[C_OTHER]	= { "#000000", "other non-present (migration, marker, ...)" },
};

struct block {
	const struct ptscope_vma *vma;
	uint64_t cells, rows;
	int y, h;		/* px */
	int gap_y, gap_h;	/* the gap above it, px; 0: none */
	uint64_t gap;		/* bytes */
};

struct layout {
	uint64_t cell_bytes;
	struct block *b;
	size_t n;
	int height;
};

static enum cell_class page_class(const struct page *p)
{
	switch (p->state) {
	case PG_HUGE:
		return C_HUGE;
	case PG_SWAP:
		return C_SWAP;
	case PG_OTHER:
		return C_OTHER;
	case PG_PRESENT:
		if (p->page & PTSCOPE_PAGE_ZERO)
			return C_ZERO;
		if (p->page & (PTSCOPE_PAGE_FILE | PTSCOPE_PAGE_SHMEM))
			return C_FILE;
		return p->page & PTSCOPE_PAGE_ANON ? C_ANON : C_KERNEL;
	default:
		return C_NONE;
	}
}

static uint64_t rows_of(uint64_t bytes, uint64_t cell_bytes)
{
	uint64_t cells = (bytes + cell_bytes - 1) / cell_bytes;

	return (cells + CELLS - 1) / CELLS;
}

/* The smallest cell size, a power of two pages, that fits MAX_ROWS. */
static uint64_t pick_cell_bytes(const struct snap *s)
{
	uint64_t cb = s->page_size, rows;
	size_t i;

	for (;; cb *= 2) {
		rows = 0;
		for (i = 0; i < s->nvmas; i++)
			rows += rows_of(s->vmas[i].end - s->vmas[i].start, cb);
		if (rows <= MAX_ROWS || cb >= (1ULL << 40))
			return cb;
	}
}

static void layout(struct layout *l, const struct snap *s)
{
	int y = Y_TOP;
	size_t i;

	l->cell_bytes = pick_cell_bytes(s);
	l->b = xcalloc(s->nvmas, sizeof(*l->b));
	l->n = s->nvmas;
	for (i = 0; i < s->nvmas; i++) {
		struct block *b = &l->b[i];
		const struct ptscope_vma *v = &s->vmas[i];

		b->vma = v;
		b->cells = (v->end - v->start + l->cell_bytes - 1) / l->cell_bytes;
		b->rows = (b->cells + CELLS - 1) / CELLS;
		if (i) {
			b->gap = v->start - s->vmas[i - 1].end;
			if (b->gap && rows_of(b->gap, l->cell_bytes) <= SMALL_GAP_ROWS) {
				b->gap_y = y;
				b->gap_h = rows_of(b->gap, l->cell_bytes) * CELL;
			} else if (b->gap) {
				b->gap_y = y;
				b->gap_h = GAP_BREAK;
			}
			y += b->gap_h + VMA_SEP;
		}
		b->y = y;
		b->h = b->rows * CELL > MIN_BLOCK ? b->rows * CELL : MIN_BLOCK;
		y += b->h;
	}
	l->height = y + 30;
}

static void xml_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, out);
		}
	}
}

static void svg_header(FILE *out, const struct snap *s, const struct layout *l)
{
	char cb[16];
	int i, x = 20, y = 70;

	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"11\">\n",
		WIDTH, l->height, WIDTH, l->height);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, l->height);
	fputs("<text x=\"20\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Address space of "
	      "process ", out);
	fprintf(out, "%d (", s->pid);
	xml_escaped(out, s->comm);
	fprintf(out, ")</text>\n<text x=\"20\" y=\"42\">%zu VMAs, %u-level paging, taken %s. "
		"Low addresses at the top. One cell = %s, %d cells a row: VMAs are to scale; "
		"large gaps are cut (zigzag).</text>\n", s->nvmas, s->levels, s->taken,
		size_human(cb, sizeof(cb), l->cell_bytes), CELLS);
	for (i = 0; i < C_CLASSES; i++) {
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\" "
			"stroke=\"#666\" stroke-width=\"0.5\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
			x, y - 9, map_classes[i].color, x + 14, y, map_classes[i].label);
		x += 320;
		if (x > WIDTH - 300) {
			x = 20;
			y += 16;
		}
	}
}

/* A gap: to scale and hatched, or a broken axis with its size. */
static void svg_gap(FILE *out, const struct block *b)
{
	char size[16];
	int x, y = b->gap_y, h = b->gap_h, mid = b->gap_y + b->gap_h / 2;

	size_human(size, sizeof(size), b->gap);
	if (h != GAP_BREAK) {
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
			"stroke=\"#bbb\" stroke-dasharray=\"2,2\"/>\n", X_BAR, y, CELLS * CELL, h);
		fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#888\">unmapped gap, %s</text>\n",
			X_LABEL, y + h / 2 + 4, size);
		return;
	}
	fputs("<polyline fill=\"none\" stroke=\"#555\" points=\"", out);
	for (x = X_BAR - 10; x <= X_BAR + CELLS * CELL + 10; x += 8)
		fprintf(out, "%d,%d ", x, mid - 5 + ((x - X_BAR + 10) / 8 % 2) * 6);
	fputs("\"/>\n<polyline fill=\"none\" stroke=\"#555\" points=\"", out);
	for (x = X_BAR - 10; x <= X_BAR + CELLS * CELL + 10; x += 8)
		fprintf(out, "%d,%d ", x, mid + 1 + ((x - X_BAR + 10) / 8 % 2) * 6);
	fprintf(out, "\"/>\n<text x=\"%d\" y=\"%d\" fill=\"#555\" font-style=\"italic\">"
		"axis cut: unmapped gap of %s</text>\n", X_LABEL, mid + 5, size);
}

/*
 * The class most pages of [start, end) have, and in *share the part of the
 * cell they fill; @i walks the sorted pages.
 */
static enum cell_class cell_class(const struct pages *pg, size_t *i, uint64_t start,
				  uint64_t end, uint64_t page_size, double *share)
{
	uint64_t count[C_CLASSES] = { 0 }, total = (end - start) / page_size, best = 0;
	enum cell_class c = C_NONE;
	int k;

	while (*i < pg->n && pg->p[*i].addr < start)
		(*i)++;
	for (; *i < pg->n && pg->p[*i].addr < end; (*i)++)
		count[page_class(&pg->p[*i])]++;
	for (k = C_ANON; k < C_CLASSES; k++)
		if (count[k] > best) {
			best = count[k];
			c = k;
		}
	*share = total ? (double)best / total : 0;
	return c;
}

/* The cells of one VMA, a horizontal run of same-looking cells per rect. */
static void svg_cells(FILE *out, const struct block *b, const struct pages *pg,
		      const struct layout *l, uint64_t page_size)
{
	const struct ptscope_vma *v = b->vma;
	enum cell_class run_c = C_CLASSES;
	int run_x0 = 0, run_op = 0;
	uint64_t c, row = 0;
	size_t i = 0;

	for (c = 0; c <= b->cells; c++) {
		uint64_t s = v->start + c * l->cell_bytes;
		uint64_t e = s + l->cell_bytes < v->end ? s + l->cell_bytes : v->end;
		enum cell_class cl = C_CLASSES;
		double share = 0;
		int op = 0;

		if (c < b->cells) {
			cl = cell_class(pg, &i, s, e, page_size, &share);
			op = cl == C_NONE ? 100 : 35 + (int)(65 * share);
		}
		if (run_c != C_CLASSES && (cl != run_c || op != run_op || c / CELLS != row)) {
			fprintf(out, "<rect x=\"%d\" y=\"%llu\" width=\"%d\" height=\"%d\" "
				"fill=\"%s\" fill-opacity=\"%.2f\"/>\n", X_BAR + run_x0 * CELL,
				(unsigned long long)(b->y + row * CELL),
				(int)((c - 1) % CELLS + 1 - run_x0) * CELL, CELL,
				map_classes[run_c].color, run_op / 100.0);
			run_c = C_CLASSES;
		}
		if (run_c == C_CLASSES && c < b->cells) {
			run_c = cl;
			run_op = op;
			run_x0 = c % CELLS;
			row = c / CELLS;
		}
	}
}

/* An outline around each huge page, where it covers whole rows or one row. */
static void svg_huge_outlines(FILE *out, const struct block *b, const struct snap *s,
			      const struct layout *l)
{
	const struct ptscope_vma *v = b->vma;
	size_t i;
	uint64_t j;

	for (i = 0; i < s->nruns; i++) {
		const struct ptscope_run *r = &s->runs[i];

		if (r->kind != PTSCOPE_KIND_PAGE || r->level == PTSCOPE_LEVEL_PTE ||
		    r->start < v->start || r->start >= v->end)
			continue;
		for (j = 0; j < r->count; j++) {
			uint64_t c0 = (r->start + (j << r->shift) - v->start) / l->cell_bytes;
			uint64_t c1 = c0 + ((1ULL << r->shift) + l->cell_bytes - 1) / l->cell_bytes;
			int x, w, y, h;

			if (c0 / CELLS == (c1 - 1) / CELLS) {
				x = c0 % CELLS;
				w = c1 - c0;
				y = c0 / CELLS;
				h = 1;
			} else if (!(c0 % CELLS) && !(c1 % CELLS)) {
				x = 0;
				w = CELLS;
				y = c0 / CELLS;
				h = (c1 - c0) / CELLS;
			} else {
				continue;
			}
			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
				"stroke=\"#4a148c\" stroke-width=\"1.5\"/>\n", X_BAR + x * CELL,
				b->y + y * CELL, w * CELL, h * CELL);
		}
	}
}

/* The exact outline of a VMA's cells: full rows, then a shorter last row. */
static void svg_outline(FILE *out, const struct block *b, const char *style)
{
	int w = CELLS * CELL, last = ((b->cells - 1) % CELLS + 1) * CELL;
	int y0 = b->y, y1 = b->y + (b->rows - 1) * CELL, y2 = b->y + b->rows * CELL;

	if (b->rows == 1)
		w = last;
	fprintf(out, "<polygon points=\"%d,%d %d,%d %d,%d %d,%d %d,%d %d,%d\" %s/>\n",
		X_BAR, y0, X_BAR + w, y0, X_BAR + w, y1, X_BAR + last, y1, X_BAR + last, y2,
		X_BAR, y2, style);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && path[0] == '/' ? slash + 1 : path;
}

static void svg_block(FILE *out, const struct block *b, const struct snap *s,
		      const struct pages *pg, const struct layout *l)
{
	const struct ptscope_vma *v = b->vma;
	const __u64 *c = v->counts;
	uint64_t ps = s->page_size;
	char perms[8], size[16], rss[16], swap[16];

	size_human(size, sizeof(size), v->end - v->start);
	size_human(rss, sizeof(rss), (c[PTSCOPE_CNT_RSS_PTE] + c[PTSCOPE_CNT_RSS_PMD] +
				      c[PTSCOPE_CNT_RSS_PUD]) * ps);
	size_human(swap, sizeof(swap), c[PTSCOPE_CNT_SWAP] * ps);
	fputs("<g><title>", out);
	fprintf(out, "0x%llx-0x%llx %s ", (unsigned long long)v->start,
		(unsigned long long)v->end, vma_perms(perms, v));
	xml_escaped(out, v->name[0] ? v->name : "[anon]");
	fprintf(out, ": %s, %s resident, %s swapped</title>\n", size, rss, swap);
	svg_outline(out, b, "fill=\"#ececec\"");
	svg_cells(out, b, pg, l, ps);
	svg_huge_outlines(out, b, s, l);
	svg_outline(out, b, "fill=\"none\" stroke=\"#333\" stroke-width=\"0.8\"");
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-family=\"DejaVu Sans Mono, "
		"monospace\" font-size=\"10\">0x%llx</text>\n", X_BAR - 6, b->y + 9,
		(unsigned long long)v->start);
	fprintf(out, "<text x=\"%d\" y=\"%d\"><tspan font-family=\"DejaVu Sans Mono, monospace\">"
		"%s</tspan> ", X_LABEL, b->y + 10, perms);
	xml_escaped(out, v->name[0] ? basename_of(v->name) : "[anon]");
	fprintf(out, " <tspan fill=\"#555\">%s, %s resident", size, rss);
	if (c[PTSCOPE_CNT_RSS_PMD] || c[PTSCOPE_CNT_RSS_PUD])
		fprintf(out, " (%s huge)", size_human(swap, sizeof(swap),
			(c[PTSCOPE_CNT_RSS_PMD] + c[PTSCOPE_CNT_RSS_PUD]) * ps));
	if (c[PTSCOPE_CNT_SWAP])
		fprintf(out, ", %s swapped", size_human(swap, sizeof(swap),
							c[PTSCOPE_CNT_SWAP] * ps));
	fputs("</tspan></text>\n</g>\n", out);
}

/* map_geometry - where map_svg() draws: cells, and each VMA's top in @y[] */
void map_geometry(const struct snap *s, struct map_geom *g, int *y)
{
	struct layout l;
	size_t i;

	layout(&l, s);
	g->cell_bytes = l.cell_bytes;
	g->cells = CELLS;
	g->cell_px = CELL;
	g->x_bar = X_BAR;
	g->x_label = X_LABEL;
	g->width = WIDTH;
	g->height = l.height;
	for (i = 0; i < l.n; i++)
		y[i] = l.b[i].y;
	free(l.b);
}

/* map_svg - the picture of `map --svg`, also what `serve` shows */
void map_svg(FILE *out, const struct snap *s, const struct pages *pg)
{
	struct layout l;
	size_t i;

	layout(&l, s);
	svg_header(out, s, &l);
	for (i = 0; i < l.n; i++) {
		if (l.b[i].gap_h)
			svg_gap(out, &l.b[i]);
		svg_block(out, &l.b[i], s, pg, &l);
	}
	if (!l.n)
		fprintf(out, "<text x=\"20\" y=\"%d\">no VMA</text>\n", Y_TOP + 10);
	fputs("</svg>\n", out);
	free(l.b);
}

static void html_write(FILE *out, const struct snap *s, const struct pages *pg)
{
	char perms[8], size[16], rss[16], swap[16];
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ptscope: "
	      "process ", out);
	fprintf(out, "%d (", s->pid);
	xml_escaped(out, s->comm);
	fputs(")</title>\n<style>body{font-family:sans-serif;margin:1em}"
	      "table{border-collapse:collapse;font-size:12px}"
	      "td,th{border:1px solid #ccc;padding:2px 6px}td.n{text-align:right}"
	      "td.a{font-family:monospace}</style>\n</head>\n<body>\n", out);
	map_svg(out, s, pg);
	fputs("<table>\n<tr><th>start</th><th>end</th><th>perms</th><th>size</th><th>rss</th>"
	      "<th>swap</th><th>name</th></tr>\n", out);
	for (i = 0; i < s->nvmas; i++) {
		const struct ptscope_vma *v = &s->vmas[i];
		const __u64 *c = v->counts;

		fprintf(out, "<tr><td class=\"a\">0x%llx</td><td class=\"a\">0x%llx</td>"
			"<td class=\"a\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			"<td class=\"n\">%s</td><td>", (unsigned long long)v->start,
			(unsigned long long)v->end, vma_perms(perms, v),
			size_human(size, sizeof(size), v->end - v->start),
			size_human(rss, sizeof(rss), (c[PTSCOPE_CNT_RSS_PTE] + c[PTSCOPE_CNT_RSS_PMD] +
						      c[PTSCOPE_CNT_RSS_PUD]) * s->page_size),
			size_human(swap, sizeof(swap), c[PTSCOPE_CNT_SWAP] * s->page_size));
		xml_escaped(out, v->name);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</body>\n</html>\n", out);
}

static int write_file(const char *path, const struct snap *s, const struct pages *pg,
		      void (*fn)(FILE *, const struct snap *, const struct pages *))
{
	FILE *out = strcmp(path, "-") ? fopen(path, "w") : stdout;

	if (!out) {
		fprintf(stderr, "ptscope: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	fn(out, s, pg);
	if (out == stdout ? fflush(out) : fclose(out)) {
		fprintf(stderr, "ptscope: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

int cmd_map(void)
{
	struct pages pg;
	struct snap s;
	int err;

	if (!opt.svg && !opt.html) {
		fputs("ptscope map: --svg FILE or --html FILE is needed\n", stderr);
		return EXIT_USAGE;
	}
	err = snap_get(&s, 0, SNAP_VMAS | SNAP_RUNS, 0, 0);
	if (err)
		return err;
	pages_from_snap(&pg, &s);
	if (opt.svg)
		err = write_file(opt.svg, &s, &pg, map_svg);
	if (!err && opt.html)
		err = write_file(opt.html, &s, &pg, html_write);
	pages_free(&pg);
	snap_free(&s);
	return err;
}
