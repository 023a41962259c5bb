// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope - show what virtual memory looks like inside a live process.
 *
 * Talks to /dev/ptscope through the binary ABI in include/uapi/ptscope.h
 * only; tables and JSON are libsmartcols'.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libsmartcols.h>
#include <uapi/ptscope.h>

#define PTSCOPE_DEV "/dev/ptscope"

/* Exit codes, as documented in ptscope(1). */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* the request failed */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NODEV	= 3,	/* module not loaded or no permission */
};

struct output {
	int json;
	int raw;
	int noheadings;
};

static void usage(FILE *out)
{
	fputs("Usage: ptscope [options] COMMAND [ARGS]\n\n"
	      "Commands:\n"
	      "  version          ABI version and features of the loaded module\n\n"
	      "Options:\n"
	      "  -J, --json       JSON output\n"
	      "  -r, --raw        raw output\n"
	      "  -n, --noheadings no column headings\n"
	      "  -h, --help       this text\n", out);
}

/* dev_open - open the device, or explain why it cannot be opened */
static int dev_open(void)
{
	int fd = open(PTSCOPE_DEV, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		fprintf(stderr, "ptscope: %s missing: the module is not loaded "
			"(load it with: insmod module/ptscope.ko)\n", PTSCOPE_DEV);
	else if (errno == EACCES || errno == EPERM)
		fprintf(stderr, "ptscope: %s: %s: the device is root-only "
			"(needs CAP_SYS_ADMIN): run as root\n", PTSCOPE_DEV, strerror(errno));
	else
		fprintf(stderr, "ptscope: %s: %s\n", PTSCOPE_DEV, strerror(errno));
	return -1;
}

static struct libscols_table *table_new(const struct output *o)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb) {
		perror("ptscope");
		exit(EXIT_FAIL);
	}
	scols_table_enable_json(tb, o->json);
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_noheadings(tb, o->noheadings);
	return tb;
}

static void add_kv(struct libscols_table *tb, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_kv(struct libscols_table *tb, const char *key, const char *fmt, ...)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char *val;
	va_list ap;

	va_start(ap, fmt);
	if (!ln || vasprintf(&val, fmt, ap) < 0) {
		perror("ptscope");
		exit(EXIT_FAIL);
	}
	va_end(ap);
	scols_line_set_data(ln, 0, key);
	scols_line_refer_data(ln, 1, val);
}

static int cmd_version(const struct output *o)
{
	struct ptscope_version v = { .size = sizeof(v) };
	struct libscols_table *tb;
	int fd = dev_open();

	if (fd < 0)
		return EXIT_NODEV;
	if (ioctl(fd, PTSCOPE_IOC_VERSION, &v)) {
		fprintf(stderr, "ptscope: version: %s\n", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);

	tb = table_new(o);
	scols_table_set_name(tb, "version");
	scols_table_new_column(tb, "KEY", 0, 0);
	scols_table_new_column(tb, "VALUE", 0, 0);
	add_kv(tb, "abi", "%u.%u", v.abi_major, v.abi_minor);
	add_kv(tb, "features", "0x%llx", (unsigned long long)v.features);
	add_kv(tb, "page_size", "%u", v.page_size);
	add_kv(tb, "pgtable_levels", "%u", v.pgtable_levels);
	scols_print_table(tb);
	scols_unref_table(tb);
	return v.abi_major == PTSCOPE_ABI_MAJOR ? EXIT_OK : EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument, NULL, 'J' },
		{ "raw",	no_argument, NULL, 'r' },
		{ "noheadings",	no_argument, NULL, 'n' },
		{ "help",	no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct output o = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "+Jrnh", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = 1; break;
		case 'r': o.raw = 1; break;
		case 'n': o.noheadings = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "version"))
		return cmd_version(&o);
	fprintf(stderr, "ptscope: unknown command '%s' (see ptscope --help)\n", argv[optind]);
	return EXIT_USAGE;
}
