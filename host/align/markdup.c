/* seqa — duplicate marking with Picard MarkDuplicates semantics (samtools markdup counts).
 *
 * Pairs with both mates mapped are duplicates when the unclipped 5' ends (contig, position,
 * strand) of both mates agree; in each set the pair with the highest sum of base qualities
 * >= 15 is kept (ties: the earlier pair).  A mapped read whose mate is unmapped (or a single-end
 * read) is a duplicate when a pair has a mate at its 5' end and strand, or when another such
 * read there scores higher.  Only primary records are flagged.  Optical duplicates: within a
 * duplicate set of pairs, a member on the same tile as an earlier member, within optical_dist
 * pixels in x and y (Illumina names ...:tile:x:y), as Picard's OPTICAL_DUPLICATE_PIXEL_DISTANCE.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "records.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

typedef struct { int32_t tid; uint8_t rev; int64_t pos; } end_t;

static int end_cmp(const end_t *a, const end_t *b)
{
	if (a->tid != b->tid) return a->tid < b->tid ? -1 : 1;
	if (a->pos != b->pos) return a->pos < b->pos ? -1 : 1;
	if (a->rev != b->rev) return a->rev < b->rev ? -1 : 1;
	return 0;
}

typedef struct { end_t a, b; uint32_t score; uint64_t pid; int32_t tile, x, y; } pkey_t;

static int pkey_cmp(const void *x, const void *y)
{
	const pkey_t *p = x, *q = y;
	int c = end_cmp(&p->a, &q->a);
	if (c) return c;
	if ((c = end_cmp(&p->b, &q->b))) return c;
	if (p->score != q->score) return p->score > q->score ? -1 : 1;   /* best first */
	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

typedef struct { end_t e; int is_pair; uint32_t score; uint64_t pid; int mate; } fkey_t;

static int fkey_cmp(const void *x, const void *y)
{
	const fkey_t *p = x, *q = y;
	int c = end_cmp(&p->e, &q->e);
	if (c) return c;
	if (p->is_pair != q->is_pair) return p->is_pair > q->is_pair ? -1 : 1;   /* pair ends first */
	if (p->score != q->score) return p->score > q->score ? -1 : 1;
	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

static void set_dup(uint8_t *bm, uint64_t pid, int mate) { bm[pid >> 2] |= (uint8_t)(1u << ((pid & 3) * 2 + mate)); }

/* Picard's library-size estimate: solve c/x = 1 - exp(-n/x). */
static int64_t library_size(int64_t n, int64_t c)
{
	if (c <= 0 || n <= c) return 0;
	double m = 1.0, M = 100.0;
	#define F(x) ((double)c / ((x) * c) - 1 + exp(-(double)n / ((x) * c)))
	if (F(m) < 0) return 0;
	while (F(M) > 0) M *= 10.0;
	for (int i = 0; i < 40; ++i) {
		double r = (m + M) / 2.0, u = F(r);
		if (u == 0) break;
		if (u > 0) m = r; else M = r;
	}
	return (int64_t)(c * (m + M) / 2.0);
	#undef F
}

uint8_t *sq_dup_mark(sq_dupsig_t *sig, int64_t n, uint64_t n_pid, int optical_dist, sq_aln_dup_t *mt)
{
	uint8_t *bm = sq_calloc((size_t)(n_pid / 4 + 1), 1);
	pkey_t *pk = sq_malloc((size_t)(n + 1) * sizeof *pk);
	fkey_t *fk = sq_malloc((size_t)(2 * n + 1) * sizeof *fk);
	int64_t np = 0, nf = 0;
	memset(mt, 0, sizeof *mt);
	if (!bm || !pk || !fk) { free(bm); free(pk); free(fk); return NULL; }
	for (int64_t i = 0; i < n; ++i) {
		const sq_dupsig_t *s = &sig[i];
		for (int k = 0; k < 1 + s->paired; ++k) if (!s->mapped[k]) ++mt->unmapped;
		if (s->paired && s->mapped[0] && s->mapped[1]) {
			end_t e0 = { s->tid[0], s->rev[0], s->pos[0] }, e1 = { s->tid[1], s->rev[1], s->pos[1] };
			pkey_t *p = &pk[np++];
			if (end_cmp(&e0, &e1) <= 0) p->a = e0, p->b = e1; else p->a = e1, p->b = e0;
			p->score = s->score; p->pid = s->pid; p->tile = s->tile; p->x = s->x; p->y = s->y;
			for (int k = 0; k < 2; ++k) {
				fkey_t *f = &fk[nf++];
				f->e = k ? e1 : e0; f->is_pair = 1; f->score = s->score; f->pid = s->pid; f->mate = k;
			}
		} else {
			for (int k = 0; k < 1 + s->paired; ++k) {
				if (!s->mapped[k]) continue;
				fkey_t *f = &fk[nf++];
				f->e = (end_t){ s->tid[k], s->rev[k], s->pos[k] };
				f->is_pair = 0; f->score = s->score; f->pid = s->pid; f->mate = k;
				++mt->unpaired_examined;
			}
		}
	}
	mt->pairs_examined = np;
	qsort(pk, (size_t)np, sizeof *pk, pkey_cmp);
	for (int64_t i = 0; i < np;) {
		int64_t j = i + 1;
		while (j < np && end_cmp(&pk[j].a, &pk[i].a) == 0 && end_cmp(&pk[j].b, &pk[i].b) == 0) ++j;
		for (int64_t k = i + 1; k < j; ++k) {
			set_dup(bm, pk[k].pid, 0); set_dup(bm, pk[k].pid, 1);
			++mt->pair_dups;
		}
		if (j - i > 1 && optical_dist > 0) {
			for (int64_t k = i + 1; k < j; ++k) {
				if (pk[k].tile < 0) continue;
				for (int64_t l = i; l < j; ++l) {
					if (l == k || pk[l].tile != pk[k].tile) continue;
					if (abs(pk[l].x - pk[k].x) <= optical_dist && abs(pk[l].y - pk[k].y) <= optical_dist) {
						++mt->pair_optical_dups;
						break;
					}
				}
			}
		}
		i = j;
	}
	qsort(fk, (size_t)nf, sizeof *fk, fkey_cmp);
	for (int64_t i = 0; i < nf;) {
		int64_t j = i + 1;
		while (j < nf && end_cmp(&fk[j].e, &fk[i].e) == 0) ++j;
		for (int64_t k = fk[i].is_pair ? i : i + 1; k < j; ++k)   /* a pair end beats all fragments */
			if (!fk[k].is_pair) { set_dup(bm, fk[k].pid, fk[k].mate); ++mt->unpaired_dups; }
		i = j;
	}
	int64_t reads = mt->unpaired_examined + 2 * mt->pairs_examined;
	mt->percent_dup = reads ? (double)(mt->unpaired_dups + 2 * mt->pair_dups) / (double)reads : 0;
	mt->est_library_size = library_size(mt->pairs_examined - mt->pair_optical_dups, mt->pairs_examined - mt->pair_dups);
	free(pk); free(fk);
	return bm;
}

int sq_dup_write_json(const char *path, const sq_aln_dup_t *m, const char *library)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I}",
		"tool", "seqa align", "metrics", "MarkDuplicates", "LIBRARY", library ? library : "",
		"UNPAIRED_READS_EXAMINED", (json_int_t)m->unpaired_examined,
		"READ_PAIRS_EXAMINED", (json_int_t)m->pairs_examined,
		"SECONDARY_OR_SUPPLEMENTARY_RDS", (json_int_t)m->secondary_supp,
		"UNMAPPED_READS", (json_int_t)m->unmapped,
		"UNPAIRED_READ_DUPLICATES", (json_int_t)m->unpaired_dups,
		"READ_PAIR_DUPLICATES", (json_int_t)m->pair_dups,
		"READ_PAIR_OPTICAL_DUPLICATES", (json_int_t)m->pair_optical_dups,
		"PERCENT_DUPLICATION", m->percent_dup,
		"ESTIMATED_LIBRARY_SIZE", (json_int_t)m->est_library_size,
		"DUPLICATE_RECORDS_MARKED", (json_int_t)(m->unpaired_dups + 2 * m->pair_dups));
	if (!j) { sq_log_error("out of memory writing duplicate metrics '%s'", path); return SQ_ENOMEM; }
	int r = sq_json_save(j, path);
	json_decref(j);
	if (r < 0) sq_log_error("cannot write duplicate metrics '%s'", path);
	return r < 0 ? SQ_EOUTPUT : 0;
}
