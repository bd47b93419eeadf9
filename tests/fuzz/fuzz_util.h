/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the libFuzzer targets of user input (tests/fuzz/fuzz_*.c): the
 * INVARIANT check. libFuzzer's -close_fd_mask=3 (which keeps xdpctl's own
 * messages out of the log) also closes the target's stderr, so the report
 * goes to a copy of stderr taken before that, in fuzz_keep_stderr().
 */
#ifndef XDPCTL_FUZZ_UTIL_H
#define XDPCTL_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fuzz_report_fd = 2;

/* Call from LLVMFuzzerInitialize(), which runs before stderr is closed. */
static inline void fuzz_keep_stderr(void)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 100);

	if (fd >= 0)
		fuzz_report_fd = fd;
}

#define INVARIANT(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond)) {                                                 \
			dprintf(fuzz_report_fd, "INVARIANT %s:%d: %s: ",       \
				__FILE__, __LINE__, #cond);                    \
			dprintf(fuzz_report_fd, __VA_ARGS__);                  \
			dprintf(fuzz_report_fd, "\n");                         \
			abort();                                               \
		}                                                              \
	} while (0)

#endif /* XDPCTL_FUZZ_UTIL_H */
