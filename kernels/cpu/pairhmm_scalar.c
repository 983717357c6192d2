/* seqa — pair-HMM float kernel, portable scalar: one read at a time (see pairhmm_cpu.h).
 * Multiply-add is a separate multiply and add here (no FMA assumed), so its float results
 * differ from the SIMD kernels' in the last bits; each backend is compared with kernels/ref. */
#include "pairhmm_cpu.h"

typedef float vf;
#define KW 1
#define VLD(p) (*(p))
#define VST(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define KNAME sq_phmm_kern_scalar
#include "pairhmm_kern.h"
