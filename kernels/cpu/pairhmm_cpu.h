/* seqa — pair-HMM CPU kernels: what the ISA-specific kernels (pairhmm_avx512.c, pairhmm_avx2.c,
 * pairhmm_scalar.c) share with the dispatcher (pairhmm_dispatch.c).  Private to kernels/cpu.
 *
 * Vectorisation (inter-pair, GKL-style "many reads against one haplotype"): W lanes = W reads
 * against the same haplotype, one float per lane.  The read axis is cut into strips of
 * PHMM_STRIP rows; a strip sweeps the whole haplotype keeping its PHMM_STRIP x 3 states in
 * registers, reading the row above from and writing its last row to a boundary buffer (one load
 * and one store of M, X, Y per strip and column), so the inner loop has no gathers: per-row
 * transitions and a per-row table of priors indexed by the haplotype base code are precomputed
 * in SoA form by the dispatcher.
 */
#ifndef SEQA_KERNELS_CPU_PAIRHMM_CPU_H
#define SEQA_KERNELS_CPU_PAIRHMM_CPU_H

#include <stddef.h>
#include <stdint.h>

#define PHMM_STRIP 4       /* rows per register-resident strip */
#define PHMM_NPAR 11       /* per row: mm gm mx xx my yy, prior for hap code A C G T N */
#define PHMM_MAXW 16

enum { PP_MM, PP_GM, PP_MX, PP_XX, PP_MY, PP_YY, PP_PRIOR };

typedef struct {
	int    W;              /* lanes */
	int    R;              /* rows, a multiple of PHMM_STRIP */
	float *par;            /* R x PHMM_NPAR x W, 64-byte aligned */
	float *endw;           /* R x W: 1.0 where a lane's read ends on that row, else 0 */
	uint8_t *strip_end;    /* R / PHMM_STRIP flags: the strip holds some lane's last row */
	float *bnd;            /* (H + 1) x 3 x W boundary row (M, X, Y), 64-byte aligned */
} phmm_prep_t;

/* Float forward pass for W lanes against one haplotype (codes 0-4, length H >= 1); writes the
 * scaled likelihood sum of each lane into res[W] (caller removes the initial constant). */
typedef void (*phmm_kern_f)(const phmm_prep_t *p, const uint8_t *hap, int H, float init, float *res);

void sq_phmm_kern_avx512(const phmm_prep_t *p, const uint8_t *hap, int H, float init, float *res);
void sq_phmm_kern_avx2(const phmm_prep_t *p, const uint8_t *hap, int H, float init, float *res);
void sq_phmm_kern_scalar(const phmm_prep_t *p, const uint8_t *hap, int H, float init, float *res);

#endif
