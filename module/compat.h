/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything ptscope knows about kernel differences lives here, as feature
 * tests (Kbuild probes the kernel's headers and passes PTSCOPE_HAVE_*), never
 * as version tests in the logic. Kbuild force-includes this file into every
 * object and refuses kernels outside 6.1 to 6.12.
 */
#ifndef _PTSCOPE_COMPAT_H
#define _PTSCOPE_COMPAT_H

#endif /* _PTSCOPE_COMPAT_H */
