// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope - show what virtual memory looks like inside a live process.
 *
 * Talks to /dev/ptscope through the binary ABI in include/uapi/ptscope.h
 * only; tables, trees and JSON are libsmartcols'. This file parses the
 * command line and dispatches to one file per group of commands.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common.h"

enum {
	OPT_SVG = 'S', OPT_HTML = 'H', OPT_LISTEN = 'L', OPT_FOLLOW = 'W',
	OPT_TEXTFILE = 'T', OPT_BY = 'B', OPT_MAX_GROUPS = 'G',
};

struct command {
	const char *name;
	int (*fn)(void);
	const char *synopsis;
	const char *help;
	const char *options;	/* the short options it takes */
	int targets;		/* PIDs (or --from FILEs) it reads; -1: any --from */
	int min_extra, max_extra;	/* positional arguments after them */
	struct view *view;	/* its columns, selected here */
};

static const struct command commands[] = {
	{ "version", cmd_version, "", "ABI version and features of the loaded module",
	  "Jrn", 0, 0, 0, NULL },
	{ "maps", cmd_maps, "PID | --from FILE",
	  "one row per VMA: /proc/PID/maps plus residency, swap, huge pages, page-table cost",
	  "Jrnbof", 1, 0, 0, &maps_view },
	{ "walk", cmd_walk, "PID | --from FILE [START[-END]]",
	  "the page-table tree, level by level, in merged runs", "Jrnbof", 1, 0, 1, &walk_view },
	{ "vtop", cmd_vtop, "PID | --from FILE ADDR",
	  "every level of the translation of one address, decoded", "Jrnbof", 1, 1, 1,
	  &vtop_view },
	{ "shared", cmd_shared, "PID1 PID2 | --from FILE1 --from FILE2",
	  "physical pages two processes both map", "Jrnbof", 2, 0, 0, &shared_view },
	{ "map", cmd_map, "PID | --from FILE --svg FILE | --html FILE",
	  "a picture of the address space", "fSH", 1, 0, 0, NULL },
	{ "snapshot", cmd_snapshot, "PID | --from FILE -o FILE",
	  "save the VMAs and page tables of PID to FILE (- for stdout)", "of", 1, 0, 0, NULL },
	{ "diff", cmd_diff, "A B",
	  "what changed between two snapshots (files, or a PID for now)", "Jrnbo", 0, 2, 2,
	  &diff_view },
	{ "faults", cmd_faults, "PID [-i SECONDS] [-c COUNT]",
	  "page faults of PID with their rates, refreshed; Ctrl-C quits", "Jrnoic", 1, 0, 0,
	  &faults_view },
	{ "tlb", cmd_tlb, "PID [-i SECONDS] [-c COUNT]",
	  "TLB flushes of PID by reason, with their rates, refreshed", "Jrnoic", 1, 0, 0,
	  &tlb_view },
	{ "top", cmd_top, "PID [-i SECONDS] [-c COUNT]",
	  "the VMAs of PID that take the most page faults, refreshed", "Jrnoic", 1, 0, 0,
	  &top_view },
	{ "huge", cmd_huge, "[PID]",
	  "huge pages: the system's THP counters and hugetlb pools, or each VMA of PID",
	  "Jrnbo", 0, 0, 1, NULL },
	{ "serve", cmd_serve, "PID | --from FILE | --follow FILE [--listen ADDR:PORT] [-i SECONDS]",
	  "a live view in a web browser: the map redrawn as PID changes, walk, vtop, counters",
	  "fiLW", 1, 0, 0, NULL },
	{ "metrics", cmd_metrics, "[--textfile DIR] [-i SECONDS] [--by comm|cgroup] [--max-groups N]",
	  "the counters in Prometheus text format: system-wide TLB flushes and page-fault "
	  "exceptions, hugetlb pools, THP events, and per workload resident memory by page "
	  "size, huge coverage and page tables; --textfile: for node_exporter", "icfTBG",
	  -1, 0, 0, NULL },
};

/* The options, as --help shows them; a command's --help shows its own. */
static const struct {
	int ch;
	const char *text;
} option_help[] = {
	{ 'J', "  -J, --json          JSON output (sizes in bytes, addresses as \"0x...\")\n" },
	{ 'r', "  -r, --raw           raw output\n" },
	{ 'n', "  -n, --noheadings    no column headings\n" },
	{ 'b', "  -b, --bytes         sizes in bytes\n" },
	{ 'o', "  -o, --output LIST   columns to show (+LIST adds to the defaults);\n"
	       "                      for snapshot: the FILE to write\n" },
	{ 'f', "  -f, --from FILE     read a snapshot file instead of a live process\n" },
	{ OPT_SVG, "      --svg FILE      map: write an SVG picture\n" },
	{ OPT_HTML, "      --html FILE     map: write an HTML page with the picture\n" },
	{ 'i', "  -i, --interval SEC  faults, tlb, top, serve, metrics: seconds between samples (1)\n" },
	{ 'c', "  -c, --count N       faults, tlb, top, metrics: stop after N samples\n" },
	{ OPT_LISTEN, "      --listen ADDR:PORT  serve: where to listen (127.0.0.1:8642)\n" },
	{ OPT_FOLLOW, "      --follow FILE   serve: the process whose PID FILE holds, as it changes\n" },
	{ OPT_TEXTFILE, "      --textfile DIR  metrics: rewrite DIR/ptscope.prom every interval\n"
			"                      (default 60 s), for node_exporter\n" },
	{ OPT_BY, "      --by comm|cgroup\n"
		  "                      metrics: group processes by command or cgroup\n" },
	{ OPT_MAX_GROUPS, "      --max-groups N  metrics: name N groups, sum the rest as other (20)\n" },
	{ 'h', "  -h, --help          this text; after a command: its usage and columns\n" },
};

/* print_options - the options in OPTIONS (all when NULL), then --help */
static void print_options(FILE *out, const char *options)
{
	size_t i;

	fputs("\nOptions:\n", out);
	for (i = 0; i < ARRAY_SIZE(option_help); i++)
		if (!options || option_help[i].ch == 'h' || strchr(options, option_help[i].ch))
			fputs(option_help[i].text, out);
}

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: ptscope COMMAND [options] [ARGS]\n\nCommands:\n", out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %s%s%s\n      %s\n", commands[i].name,
			*commands[i].synopsis ? " " : "", commands[i].synopsis, commands[i].help);
	print_options(out, NULL);
	fputs("  -V, --version       the tool's version (ptscope version: the module's too)\n"
	      "\n'ptscope help COMMAND' is 'ptscope COMMAND --help'.\n"
	      "\nExit status: 0 ok, 1 failure, 2 bad usage, 3 module not loaded or no\n"
	      "permission to open " PTSCOPE_DEV ", 4 no such process or not allowed to\n"
	      "inspect it. See ptscope(1).\n", out);
}

static void command_help(const struct command *c)
{
	printf("Usage: ptscope %s %s\n\n%s.\n", c->name, c->synopsis, c->help);
	print_options(stdout, c->options);
	if (c->view)
		view_help(stdout, c->view);
	if (c->fn == cmd_huge) {	/* a view without PID, another with */
		view_help(stdout, &huge_system_view);
		view_help(stdout, &huge_view);
	}
}

/* usage_error - a wrong command line: what was wrong was said; where to look */
static int usage_error(const struct command *c)
{
	fprintf(stderr, "Try 'ptscope %s --help'.\n", c->name);
	return EXIT_USAGE;
}

static const char *option_name(const struct option *o, int ch)
{
	for (; o->name; o++)
		if (o->val == ch)
			return o->name;
	return "?";
}

/* parse_options - the options after COMMAND; 0, or an exit code */
static int parse_options(const struct command *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'J' },
		{ "raw",	no_argument,		NULL, 'r' },
		{ "noheadings",	no_argument,		NULL, 'n' },
		{ "bytes",	no_argument,		NULL, 'b' },
		{ "output",	required_argument,	NULL, 'o' },
		{ "from",	required_argument,	NULL, 'f' },
		{ "svg",	required_argument,	NULL, OPT_SVG },
		{ "html",	required_argument,	NULL, OPT_HTML },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "listen",	required_argument,	NULL, OPT_LISTEN },
		{ "follow",	required_argument,	NULL, OPT_FOLLOW },
		{ "textfile",	required_argument,	NULL, OPT_TEXTFILE },
		{ "by",		required_argument,	NULL, OPT_BY },
		{ "max-groups",	required_argument,	NULL, OPT_MAX_GROUPS },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char prog[64];
	int ch, extra, stands;
	char *end;

	/* getopt's messages start with argv[0]: "ptscope COMMAND". */
	snprintf(prog, sizeof(prog), "ptscope %s", c->name);
	argv[0] = prog;
	optind = 1;
	opt.interval = 1;
	opt.by = "comm";
	opt.max_groups = 20;
	while ((ch = getopt_long(argc, argv, "Jrnbo:f:i:c:h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			command_help(c);
			exit(EXIT_OK);
		}
		if (ch == '?')
			return usage_error(c);
		if (!strchr(c->options, ch)) {
			fprintf(stderr, "ptscope %s: option --%s does not apply (see ptscope %s "
				"--help)\n", c->name, option_name(longopts, ch), c->name);
			return EXIT_USAGE;
		}
		switch (ch) {
		case 'J': opt.json = 1; break;
		case 'r': opt.raw = 1; break;
		case 'n': opt.noheadings = 1; break;
		case 'b': opt.bytes = 1; break;
		case 'o': opt.columns = opt.outfile = optarg; break;
		case OPT_SVG: opt.svg = optarg; break;
		case OPT_TEXTFILE: opt.textfile = optarg; break;
		case OPT_BY:
			if (strcmp(optarg, "comm") && strcmp(optarg, "cgroup")) {
				fprintf(stderr, "ptscope: --by takes comm or cgroup: '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			opt.by = optarg;
			break;
		case OPT_MAX_GROUPS:
			opt.max_groups = strtol(optarg, &end, 10);
			if (*end || opt.max_groups < 1 || opt.max_groups > 10000) {
				fprintf(stderr, "ptscope: --max-groups takes 1 to 10000: '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			opt.interval_set = 1;
			opt.interval = strtod(optarg, &end);
			if (*end || !(opt.interval >= 0.1 && opt.interval <= 3600)) {
				fprintf(stderr, "ptscope: -i takes seconds, 0.1 to 3600: '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			opt.count = strtol(optarg, &end, 10);
			if (*end || opt.count < 1) {
				fprintf(stderr, "ptscope: -c takes a number of samples: '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_HTML: opt.html = optarg; break;
		case OPT_LISTEN: opt.listen = optarg; break;
		case OPT_FOLLOW: opt.follow = optarg; break;
		case 'f':
			if (opt.nfrom == (int)ARRAY_SIZE(opt.from)) {
				fputs("ptscope: --from given too often\n", stderr);
				return EXIT_USAGE;
			}
			opt.from[opt.nfrom++] = optarg;
			break;
		}
	}
	if (opt.json && opt.raw) {
		fputs("ptscope: --json and --raw are mutually exclusive\n", stderr);
		return EXIT_USAGE;
	}
	opt.args = argv + optind;
	opt.nargs = argc - optind;
	/* --from (or --follow) stands for the PIDs: a PID as well would be ambiguous. */
	stands = opt.nfrom + !!opt.follow;
	if (stands && c->targets >= 0 &&
	    (stands != c->targets || opt.nargs > c->max_extra)) {
		fprintf(stderr, "ptscope %s: %s\n", c->name, c->targets > 1 ?
			"give PIDs or as many --from FILEs, not a mix" :
			opt.follow ? "a PID, --from and --follow are mutually exclusive" :
			"a PID and --from are mutually exclusive");
		return EXIT_USAGE;
	}
	extra = opt.nargs - (c->targets < 0 ? 0 : c->targets - stands);
	if (extra < c->min_extra || extra > c->max_extra) {
		fprintf(stderr, "Usage: ptscope %s %s\n", c->name, c->synopsis);
		return usage_error(c);
	}
	opt.extra = opt.args + (opt.nargs - extra);
	opt.nextra = extra;
	if (c->view)
		return view_columns(c->view, opt.columns);
	return 0;
}

/* The module's MODULE_VERSION, as sysfs shows it. */
static const char *module_version(char *buf, size_t len)
{
	FILE *f = fopen("/sys/module/ptscope/version", "r");

	if (!f || !fgets(buf, len, f))
		snprintf(buf, len, "unknown");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* "PGD 512G, PUD 1G, PMD 2M, PTE 4K" from shifts by level (0: none) */
static void level_sizes(char *buf, size_t len, const __u32 *shift)
{
	size_t off = 0;
	int level;
	char size[16];

	buf[0] = '\0';
	for (level = PTSCOPE_LEVEL_PGD; level >= PTSCOPE_LEVEL_PTE && off < len; level--)
		if (shift[level] && shift[level] < 64)
			off += snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "",
					level_names[level],
					size_human(size, sizeof(size), 1ULL << shift[level]));
}

int cmd_version(void)
{
	char modver[64], sizes[128], conts[128];
	static const struct colinfo cols[] = {
		{ "KEY", 0, 0, SCOLS_JSON_STRING, "" },
		{ "VALUE", 0, 0, SCOLS_JSON_STRING, "" },
	};
	struct view v = {
		.name = "version", .cols = cols, .ncols = ARRAY_SIZE(cols), .defaults = "KEY,VALUE",
	};
	struct ptscope_version ver = { .size = sizeof(ver) };
	struct libscols_table *tb;
	struct libscols_line *ln;
	int fd = dev_open();

	if (fd < 0)
		return -fd;
	if (ioctl(fd, PTSCOPE_IOC_VERSION, &ver)) {
		perror("ptscope: version");
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	if (ver.arch == PTSCOPE_ARCH_UNKNOWN)	/* a module before ABI 1.3: x86-64 */
		ver.arch = PTSCOPE_ARCH_X86_64;
	level_sizes(sizes, sizeof(sizes), ver.level_shift);
	level_sizes(conts, sizeof(conts), ver.cont_shift);
	view_columns(&v, NULL);
	tb = view_table(&v);
#define KV(k, ...) do { ln = scols_table_new_line(tb, NULL); \
		scols_line_set_data(ln, 0, k); cell(ln, 1, __VA_ARGS__); } while (0)
	KV("tool", "%s", PTSCOPE_TOOL_VERSION);
	KV("tool_abi", "%u.%u", PTSCOPE_ABI_MAJOR, PTSCOPE_ABI_MINOR);
	KV("module", "%s", module_version(modver, sizeof(modver)));
	KV("abi", "%u.%u", ver.abi_major, ver.abi_minor);
	KV("features", "0x%llx", (unsigned long long)ver.features);
	KV("page_size", "%u", ver.page_size);
	KV("pgtable_levels", "%u", ver.pgtable_levels);
	KV("arch", "%s", arch_name(ver.arch));
	KV("level_sizes", "%s", sizes[0] ? sizes : "?");	/* before ABI 1.3: unknown */
	KV("contiguous", "%s", conts[0] ? conts : "none");
#undef KV
	table_print(tb);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ptscope %s (ABI %u.%u)\n", PTSCOPE_TOOL_VERSION, PTSCOPE_ABI_MAJOR,
		       PTSCOPE_ABI_MINOR);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help") && argc == 3) {	/* help COMMAND */
		argv[1] = argv[2];
		argv[2] = "--help";
	} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
		   !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		int err = parse_options(&commands[i], argc - 1, argv + 1);

		return err ? err : commands[i].fn();
	}
	if (argv[1][0] == '-')
		fprintf(stderr, "ptscope: '%s' before a command: give the COMMAND first, "
			"then its options (see ptscope --help)\n", argv[1]);
	else
		fprintf(stderr, "ptscope: unknown command '%s' (see ptscope --help)\n", argv[1]);
	return EXIT_USAGE;
}
