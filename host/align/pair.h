/* seqa — pairing and BAM records from bwa's alignment regions (private to host/align). */
#ifndef SEQA_ALIGN_PAIR_H
#define SEQA_ALIGN_PAIR_H
#include "core.h"
#include "records.h"

/** The records of one unit, appended to *recs (n, m as sq_rec_slot), with the private ordering
 *  tags, MC/MQ and the duplicate signature (as sq_rec_from_sam gives for bwa's SAM text of the
 *  same unit).  Paired (pes != NULL): s[0..1], a[0..1], id = pair index (bwa mem_sam_pe);
 *  single-end (pes NULL): s[0], a[0], id = read index.  s[k].seq holds 0..4 codes.  a is
 *  modified (rescued mates, primary marks).  0 or < -1 (logged). */
int sq_rec_build(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, const mem_pestat_t *pes, uint64_t id,
                 bseq1_t *s, mem_alnreg_v *a, bam1_t ***recs, int *n, int *m, sq_dupsig_t *sig);
#endif
