/* The file a fuzz target's round trip writes to: on tmpfs when there is one
 * (every accepted input is written, and each save syncs), one per process so
 * that libFuzzer's -jobs and -fork workers do not share it. */
#ifndef STRIDE_FUZZ_SCRATCH_H
#define STRIDE_FUZZ_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void fuzz_scratch_path(char *buf, size_t len, const char *extension)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(buf, len, "%s/stride-fuzz-%ld%s", dir ? dir : "/tmp", (long)getpid(), extension);
}

#endif /* STRIDE_FUZZ_SCRATCH_H */
