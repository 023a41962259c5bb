/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the ptscope selftests, named by what they read. */
#ifndef _PTSCOPE_UTIL_H
#define _PTSCOPE_UTIL_H

#include <stdio.h>
#include <string.h>

#define PTSCOPE_DEV	"/dev/ptscope"
#define PTSCOPE_DEBUGFS	"/sys/kernel/debug/ptscope"

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
		snprintf(buf, len, "%s", line + klen + 1);
		ret = buf;
		break;
	}
	fclose(f);
	return ret;
}

#endif /* _PTSCOPE_UTIL_H */
