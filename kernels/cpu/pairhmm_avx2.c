/* seqa — pair-HMM float kernel, AVX2 + FMA: 8 reads per vector (see pairhmm_cpu.h). */
#include <immintrin.h>
#include "pairhmm_cpu.h"

typedef __m256 vf;
#define KW 8
#define VLD(p) _mm256_load_ps(p)
#define VST(p, v) _mm256_store_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define KNAME sq_phmm_kern_avx2
#include "pairhmm_kern.h"
