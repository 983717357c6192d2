/* seqa — alignment records, duplicate signatures and the spilling sorter (private). */
#ifndef SEQA_ALIGN_RECORDS_H
#define SEQA_ALIGN_RECORDS_H
#include <stdint.h>
#include <htslib/sam.h>
#include "seqa/align.h"

/** Per pair (or single read): what duplicate marking needs. */
typedef struct {
	uint64_t pid;            /* pair index */
	int64_t pos[2];          /* unclipped 5' position of each mate's primary alignment */
	int32_t tid[2];
	uint8_t rev[2], mapped[2], paired;
	uint32_t score;          /* sum of base qualities >= 15 over the mapped mates */
	int32_t tile, x, y;      /* Illumina name fields; tile < 0 when absent */
} sq_dupsig_t;

/** Parse bwa's SAM text of a pair (sam[1] NULL for single-end) into records appended to
 *  *recs; adds MC/MQ (as samtools fixmate) and the private zp/zs ordering tags; fills sig.
 *  0 or < -1 (logged). */
int sq_rec_from_sam(sam_hdr_t *h, uint64_t pid, const char *name, char *sam[2], bam1_t ***recs, int *n, int *m,
                    sq_dupsig_t *sig);

/** The next record of a unit's list (*recs grown, the bam1_t allocated once and reused):
 *  NULL on ENOMEM. */
bam1_t *sq_rec_slot(bam1_t ***recs, int *n, int *m);
/** The private tags the sorter orders by: zp (pair index), zs (mate << 16 | record index). */
int sq_rec_order_tags(bam1_t *b, uint64_t pid, int mate, int sub);
/** Once the unit's records recs[first, n) exist (with zp/zs): MC (when absent) and MQ on
 *  the primary records, as samtools fixmate, and the duplicate signature.  0 or SQ_ENOMEM. */
int sq_rec_unit_done(bam1_t **recs, int first, int n, uint64_t pid, const char *name, int paired, sq_dupsig_t *sig);

/* ---- sorter ------------------------------------------------------------------------------ */
typedef struct sq_sorter_s sq_sorter_t;
sq_sorter_t *sq_sorter_init(sam_hdr_t *h, const char *tmp_prefix, int64_t mem_limit);
/** Take a record (copied).  May spill a sorted run to a temporary file.  0 or < -1. */
int sq_sorter_add(sq_sorter_t *s, const bam1_t *b);
/** Write everything, merged in coordinate order, to fp; dup(pid, mate) says whether to set
 *  BAM_FDUP on a primary record.  Private tags are removed.  0 or < -1 (logged). */
int sq_sorter_finish(sq_sorter_t *s, htsFile *fp, int (*dup)(void *, uint64_t, int), void *dup_data,
                     int64_t *n_written);
int sq_sorter_n_spills(const sq_sorter_t *s);
/** BGZF threads used to write spills (default 1). */
void sq_sorter_set_threads(sq_sorter_t *s, int n);
/** Remove temporaries, free. */
void sq_sorter_destroy(sq_sorter_t *s);

/* ---- duplicates -------------------------------------------------------------------------- */
/* Duplicate sets in bounded memory: signatures become pair keys (both 5' ends) and fragment
 * ends, held in memory up to mem_limit bytes, past it sorted and appended as runs to two
 * temporary files (TMP_PREFIX.dup-pairs, .dup-ends) that finish merges with a heap; the
 * result is the same as sorting everything in memory (the orders are total). */
typedef struct sq_dupset_s sq_dupset_t;
/** mem_limit <= 0: never spill.  NULL on ENOMEM. */
sq_dupset_t *sq_dupset_init(const char *tmp_prefix, int64_t mem_limit, int optical_dist);
/** Add signatures (any order).  0 or < -1 (logged: ENOMEM, cannot write the run file). */
int sq_dupset_add(sq_dupset_t *d, const sq_dupsig_t *sig, int64_t n);
int64_t sq_dupset_n_spills(const sq_dupset_t *d);
/** The bitmap (2 bits per pid: mate 1, mate 2) sized n_pid, and the metrics.  NULL on error
 *  (logged).  Call once. */
uint8_t *sq_dupset_finish(sq_dupset_t *d, uint64_t n_pid, sq_aln_dup_t *m);
/** Remove the temporary files, free. */
void sq_dupset_destroy(sq_dupset_t *d);
/** All in memory: the same as init(NULL, 0) + add + finish + destroy. */
uint8_t *sq_dup_mark(sq_dupsig_t *sig, int64_t n, uint64_t n_pid, int optical_dist, sq_aln_dup_t *m);
/** Write the metrics JSON durably.  0 or SQ_EOUTPUT. */
int sq_dup_write_json(const char *path, const sq_aln_dup_t *m, const char *library);
#endif
