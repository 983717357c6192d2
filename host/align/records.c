/* seqa — bwa's SAM fields into BAM records, with the tags samtools fixmate adds (MC when bwa has not written it, MQ) and
 * the duplicate signature of the pair. */
#include <stdlib.h>
#include <string.h>
#include "records.h"
#include "seqa/log.h"
#include "seqa/util.h"

/* Illumina read names: ...:<tile>:<x>:<y> (the last three ':' fields, Picard's default). */
static void parse_tile(const char *name, int32_t *tile, int32_t *x, int32_t *y)
{
	const char *f[8];
	int n = 0;
	*tile = -1;
	for (const char *p = name; *p; ++p) if (*p == ':') { if (n < 8) f[n] = p + 1; ++n; }
	if (n != 4 && n != 6) return;        /* 5 or 7 fields */
	char *e;
	long t = strtol(f[n - 3], &e, 10); if (*e != ':') return;
	long xv = strtol(f[n - 2], &e, 10); if (*e != ':') return;
	long yv = strtol(f[n - 1], &e, 10); if (*e != 0 && *e != ' ') return;
	*tile = (int32_t)t; *x = (int32_t)xv; *y = (int32_t)yv;
}

static int64_t unclipped5(const bam1_t *b)
{
	const uint32_t *c = bam_get_cigar(b);
	int nc = (int)b->core.n_cigar;
	if (!(b->core.flag & BAM_FREVERSE)) {
		int64_t p = b->core.pos;
		for (int i = 0; i < nc; ++i) {
			int op = bam_cigar_op(c[i]);
			if (op == BAM_CSOFT_CLIP || op == BAM_CHARD_CLIP) p -= bam_cigar_oplen(c[i]); else break;
		}
		return p;
	}
	int64_t p = bam_endpos(b) - 1;
	for (int i = nc - 1; i >= 0; --i) {
		int op = bam_cigar_op(c[i]);
		if (op == BAM_CSOFT_CLIP || op == BAM_CHARD_CLIP) p += bam_cigar_oplen(c[i]); else break;
	}
	return p;
}

static uint32_t qual_score(const bam1_t *b)
{
	const uint8_t *q = bam_get_qual(b);
	uint32_t s = 0;
	if (q[0] == 0xff) return 0;
	for (int i = 0; i < b->core.l_qseq; ++i) if (q[i] >= 15) s += q[i];
	return s;
}

static int cigar_str(const bam1_t *b, kstring_t *ks)
{
	ks->l = 0;
	const uint32_t *c = bam_get_cigar(b);
	for (uint32_t i = 0; i < b->core.n_cigar; ++i)
		if (ksprintf(ks, "%u%c", bam_cigar_oplen(c[i]), bam_cigar_opchr(c[i])) < 0) return SQ_ENOMEM;
	return 0;
}

bam1_t *sq_rec_slot(bam1_t ***recs, int *n, int *m)
{
	if (*n == *m) {
		int nm = *m ? *m * 2 : 16;
		bam1_t **t = realloc(*recs, (size_t)nm * sizeof *t);
		if (!t) return NULL;
		for (int i = *m; i < nm; ++i) t[i] = NULL;
		*recs = t; *m = nm;
	}
	if (!(*recs)[*n] && !((*recs)[*n] = bam_init1())) return NULL;
	return (*recs)[(*n)++];
}

int sq_rec_order_tags(bam1_t *b, uint64_t pid, int mate, int sub)
{
	uint32_t z = (uint32_t)pid, zs = (uint32_t)(mate << 16 | sub);
	if (bam_aux_append(b, "zp", 'I', 4, (uint8_t *)&z) < 0 || bam_aux_append(b, "zs", 'I', 4, (uint8_t *)&zs) < 0)
		return SQ_ENOMEM;
	return 0;
}

int sq_rec_unit_done(bam1_t **recs, int first, int n, uint64_t pid, const char *name, int paired, sq_dupsig_t *sig)
{
	kstring_t mc[2] = { KS_INITIALIZE, KS_INITIALIZE };
	int pri[2] = { -1, -1 }, r = 0;
	memset(sig, 0, sizeof *sig);
	sig->pid = pid;
	sig->paired = (uint8_t)paired;
	for (int i = first; i < n; ++i) {
		const bam1_t *b = recs[i];
		int mate = paired && (b->core.flag & BAM_FREAD2) ? 1 : 0;
		if (!(b->core.flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)) && pri[mate] < 0) pri[mate] = i;
	}
	/* mate tags on primary records, and the duplicate signature */
	for (int k = 0; k < 2; ++k) {
		if (pri[k] < 0) continue;
		bam1_t *b = recs[pri[k]];
		if (!(b->core.flag & BAM_FUNMAP)) {
			sig->mapped[k] = 1;
			sig->tid[k] = b->core.tid;
			sig->pos[k] = unclipped5(b);
			sig->rev[k] = !!(b->core.flag & BAM_FREVERSE);
			sig->score += qual_score(b);
			if (cigar_str(b, &mc[k]) < 0) { r = SQ_ENOMEM; goto done; }
		}
	}
	if (pri[0] >= 0 && pri[1] >= 0) {
		for (int k = 0; k < 2; ++k) {
			if (!sig->mapped[!k]) continue;
			bam1_t *b = recs[pri[k]], *o = recs[pri[!k]];
			if ((!bam_aux_get(b, "MC") && bam_aux_append(b, "MC", 'Z', (int)mc[!k].l + 1, (uint8_t *)mc[!k].s) < 0) ||
			    bam_aux_update_int(b, "MQ", o->core.qual) < 0) { r = SQ_ENOMEM; goto done; }
		}
	}
	parse_tile(name, &sig->tile, &sig->x, &sig->y);
done:
	free(mc[0].s); free(mc[1].s);
	return r;
}

int sq_rec_from_sam(sam_hdr_t *h, uint64_t pid, const char *name, char *sam[2], bam1_t ***recs, int *n, int *m,
                    sq_dupsig_t *sig)
{
	kstring_t ks = KS_INITIALIZE;
	int first = *n, r = 0;
	for (int mate = 0; mate < 2; ++mate) {
		if (!sam[mate]) continue;
		int sub = 0;
		for (char *p = sam[mate]; *p;) {
			char *e = strchr(p, '\n');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			ks.l = 0;
			if (kputsn(p, l, &ks) < 0) { r = SQ_ENOMEM; goto fail; }
			p += l + (e ? 1 : 0);
			bam1_t *b = sq_rec_slot(recs, n, m);
			if (!b) { r = SQ_ENOMEM; goto fail; }
			if (sam_parse1(&ks, h, b) < 0) {
				sq_log_error("cannot convert the alignment of read '%s' (internal error)", name);
				r = SQ_EINPUT;
				goto fail;
			}
			if ((r = sq_rec_order_tags(b, pid, mate, sub++)) < 0) goto fail;
		}
	}
	if ((r = sq_rec_unit_done(*recs, first, *n, pid, name, sam[1] != NULL, sig)) < 0) goto fail;
	free(ks.s);
	return 0;
fail:
	*n = first;
	free(ks.s);
	return r;
}
