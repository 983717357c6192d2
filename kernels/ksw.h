/* seqa — seed extension kernel: banded local extension with z-drop, bwa's ksw_extend2.
 *
 * The reference is libbwa's own ksw_extend2 (ksw.c of bwa 0.7.17), which bwa mem's
 * mem_chain2aln calls for the left and right extension of every seed it extends: its answer
 * (score, query/target ends, global-end score and row, largest diagonal offset) defines ours.
 * kernels/cpu/ksw_avx2.c computes the same DP a row (one target base) at a time with 16
 * query columns per AVX2 vector; the horizontal gap chain F, the only dependence along a row,
 * is a max-plus prefix scan (F(j+1) = max(F(j) - e_ins, M(j) - o_ins - e_ins, 0)); band, row
 * maximum (last column on ties), z-drop and band shrinking are bwa's, per row.
 *
 * Integration: seqa links with -Wl,--wrap=ksw_extend2, so libbwa's mem_chain2aln calls
 * __wrap_ksw_extend2 (kernels/cpu/ksw_dispatch.c), which runs the AVX2 kernel where the CPU has
 * AVX2 and the scores fit in 16 bits, else libbwa's scalar code (__real_ksw_extend2).
 * SEQA_CPU_ISA=scalar forces the scalar code (as for the pair-HMM).
 *
 * Thread rules: re-entrant; no global state but the dispatch choice (set once).
 */
#ifndef SEQA_KERNELS_KSW_H
#define SEQA_KERNELS_KSW_H

#include <stdint.h>

/* All take libbwa's ksw_extend2 arguments: m the alphabet size (5), mat its m*m scores. */

/** 1 when the AVX2 kernel can take these parameters exactly (16-bit scores, query <= 4096). */
int sq_ksw_avx2_fits(int qlen, int m, const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int h0);
/** The AVX2 kernel (only on AVX2 CPUs, only where sq_ksw_avx2_fits). */
int sq_ksw_extend_avx2(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                       const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w,
                       int end_bonus, int zdrop, int h0, int *qle, int *tle, int *gtle, int *gscore,
                       int *max_off);
/** The implementation seed extension uses here: "avx2" or "scalar" (libbwa). */
const char *sq_ksw_isa(void);
/** The extension every caller gets: the AVX2 kernel where it fits, else libbwa's. */
int sq_ksw_extend(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                  const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w, int end_bonus,
                  int zdrop, int h0, int *qle, int *tle, int *gtle, int *gscore, int *max_off);
/** libbwa's own ksw_extend2 (reachable under --wrap as __real_ksw_extend2). */
int __real_ksw_extend2(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                       const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w,
                       int end_bonus, int zdrop, int h0, int *qle, int *tle, int *gtle, int *gscore,
                       int *max_off);

#endif
