/* seqa — version and build features; see seqa/version.h. */
#include <stdio.h>
#include <htslib/hts.h>
#include "seqa/version.h"

#ifndef SEQA_VERSION
#define SEQA_VERSION "0.0.0"
#endif
#ifndef SEQA_COMMIT
#define SEQA_COMMIT "unknown"
#endif

const char *sq_version(void) { return SEQA_VERSION; }
const char *sq_commit(void) { return SEQA_COMMIT; }

const char *sq_features(void)
{
	static char buf[256];
	if (!buf[0]) {
		snprintf(buf, sizeof buf, "htslib-%s libbwa opencl cuda-dlopen cpu-sse cpu-avx2 cpu-avx512 fpga-csim",
		         hts_version());
	}
	return buf;
}
