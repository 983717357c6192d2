/* seqa — alignment core (private to host/align): libbwa-facing, no htslib here. */
#ifndef SEQA_ALIGN_CORE_H
#define SEQA_ALIGN_CORE_H
#include <stdint.h>
#include <bwa/bwa.h>
#include <bwa/bwamem.h>
#include "align_internal.h"

typedef struct {
	bwaidx_t *idx;
	mem_opt_t *mopt;
	sq_fmi_t fmi;
	sq_smem_opt_t so;
	sq_seeder_t *be, *be_cpu;   /* be_cpu: fallback when a device fails a batch */
	int n_threads, paired, n_fallbacks;
	double t_seed, t_extend;
} sq_aln_ctx_t;

/** Load the bwa index (the caller has validated the files: libbwa exits on bad ones) and open
 *  the seeding backend (tuned for input_bytes of FASTQ).  0, SQ_EIO, SQ_EDEVICE, SQ_EUNSUPP, SQ_ENOMEM. */
int  sq_aln_ctx_open(sq_aln_ctx_t *cx, const char *ref, const char *backend, int n_threads, int paired,
                     int64_t input_bytes);
void sq_aln_ctx_close(sq_aln_ctx_t *cx);
/** Called once per unit (a pair: s[0], s[1], regs[0], regs[1]; or a single read) from the
 *  worker threads (tid in [0, n_threads)), any order, after seeding, chaining, extension and
 *  the batch's insert-size estimate: pairing/primary marking and the records are the
 *  callback's.  It may free the read's name/seq/qual (set them NULL); regs are freed after.
 *  0 or < -1 (stops the batch). */
typedef int (*sq_aln_emit_f)(void *ud, int tid, int64_t unit, const mem_pestat_t pes[4], bseq1_t *s, mem_alnreg_v *regs);

/** Align n reads (pairs interleaved when paired); id0 = global index of the first pair (read
 *  when single-end): bwa's tie-breaking hashes depend on it.  Turns reads[i].seq into 0..4
 *  codes and hands every unit to emit.  0 or < -1. */
int  sq_aln_core_batch(sq_aln_ctx_t *cx, bseq1_t *reads, int n, int64_t id0, sq_aln_emit_f emit, void *ud);

/** bwa mem's own SAM text for one unit (mem_sam_pe, or primary marking + mem_reg2sam when
 *  single-end) into s[k].sam: the reference the direct records are tested against
 *  (SEQA_ALIGN_SAMTEXT=1). */
void sq_aln_sam_text(const sq_aln_ctx_t *cx, const mem_pestat_t pes[4], uint64_t id, bseq1_t *s, mem_alnreg_v *regs);
#endif
