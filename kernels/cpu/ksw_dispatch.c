/* seqa — seed extension dispatch: libbwa's mem_chain2aln calls ksw_extend2; seqa links with
 * -Wl,--wrap=ksw_extend2 so that the call lands here (kernels/ksw.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "ksw.h"

static int g_avx2;

static void pick_isa(void)
{
#if defined(__x86_64__) || defined(__i386__)
	const char *cap = getenv("SEQA_CPU_ISA");
	__builtin_cpu_init();
	g_avx2 = !(cap && strcmp(cap, "scalar") == 0) && __builtin_cpu_supports("avx2");
#endif
}

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

const char *sq_ksw_isa(void)
{
	pthread_once(&isa_once, pick_isa);
	return g_avx2 ? "avx2" : "scalar";
}

int sq_ksw_extend(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                  const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w, int end_bonus,
                  int zdrop, int h0, int *qle, int *tle, int *gtle, int *gscore, int *max_off)
{
	pthread_once(&isa_once, pick_isa);
	if (g_avx2 && sq_ksw_avx2_fits(qlen, m, mat, o_del, e_del, o_ins, e_ins, h0))
		return sq_ksw_extend_avx2(qlen, query, tlen, target, m, mat, o_del, e_del, o_ins, e_ins, w, end_bonus,
		                          zdrop, h0, qle, tle, gtle, gscore, max_off);
	return __real_ksw_extend2(qlen, query, tlen, target, m, mat, o_del, e_del, o_ins, e_ins, w, end_bonus,
	                          zdrop, h0, qle, tle, gtle, gscore, max_off);
}

int __wrap_ksw_extend2(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                       const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w, int end_bonus,
                       int zdrop, int h0, int *qle, int *tle, int *gtle, int *gscore, int *max_off);
int __wrap_ksw_extend2(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                       const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w, int end_bonus,
                       int zdrop, int h0, int *qle, int *tle, int *gtle, int *gscore, int *max_off)
{
	return sq_ksw_extend(qlen, query, tlen, target, m, mat, o_del, e_del, o_ins, e_ins, w, end_bonus, zdrop,
	                     h0, qle, tle, gtle, gscore, max_off);
}
