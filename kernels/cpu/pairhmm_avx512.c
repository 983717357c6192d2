/* seqa — pair-HMM float kernel, AVX-512: 16 reads per vector (see pairhmm_cpu.h). */
#include <immintrin.h>
#include "pairhmm_cpu.h"

typedef __m512 vf;
#define KW 16
#define VLD(p) _mm512_load_ps(p)
#define VST(p, v) _mm512_store_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define KNAME sq_phmm_kern_avx512
#include "pairhmm_kern.h"
