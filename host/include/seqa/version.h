/* seqa — version and build features. */
#ifndef SEQA_VERSION_H
#define SEQA_VERSION_H

/** "0.1.0" */
const char *sq_version(void);
/** git describe at build time, e.g. "a1b2c3d" or "a1b2c3d-dirty". */
const char *sq_commit(void);
/** Space-separated features built into this binary, e.g. "htslib-1.16 opencl cuda-dl avx2 avx512". */
const char *sq_features(void);

#endif
