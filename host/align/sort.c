/* seqa — in-process coordinate sort with bounded memory.
 *
 * Records are packed into an arena (no per-record malloc); past mem_limit the arena is sorted
 * and written as a temporary BAM run (level 1), then reused.  Finishing merges the runs and
 * the in-memory rest with a heap.  Order: (tid, pos, strand) as samtools sort, ties by pair
 * index and record index within the pair (input order), so the result does not depend on
 * thread count or batch timing.  Unmapped pairs (tid -1) come last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "records.h"
#include "seqa/log.h"
#include "seqa/util.h"

typedef struct { uint64_t k1, k2; const uint8_t *p; } ent_t;

#define ARENA_BLOCK (64LL << 20)

struct sq_sorter_s {
	sam_hdr_t *h;
	char *prefix;
	int64_t limit, used;
	uint8_t **blk; int n_blk, m_blk; int64_t blk_used;   /* current block fill */
	ent_t *e; int64_t n_e, m_e;
	int n_spill;
	int n_threads;                                        /* BGZF threads for spills */
};

static void rec_key(const bam1_t *b, uint64_t *k1, uint64_t *k2)
{
	const uint8_t *zp = bam_aux_get(b, "zp"), *zs = bam_aux_get(b, "zs");
	uint64_t pid = zp ? (uint64_t)bam_aux2i(zp) : 0, sub = zs ? (uint64_t)bam_aux2i(zs) : 0;
	if (b->core.tid < 0) *k1 = UINT64_MAX;
	else *k1 = (uint64_t)b->core.tid << 32 | (uint32_t)(b->core.pos < 0 ? 0 : b->core.pos);
	*k2 = (uint64_t)!!(b->core.flag & BAM_FREVERSE) << 63 | pid << 20 | sub;
}

static int ent_cmp(const void *a, const void *b)
{
	const ent_t *x = a, *y = b;
	if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2) return x->k2 < y->k2 ? -1 : 1;
	return 0;
}

sq_sorter_t *sq_sorter_init(sam_hdr_t *h, const char *tmp_prefix, int64_t mem_limit)
{
	sq_sorter_t *s = sq_calloc(1, sizeof *s);
	if (!s) return NULL;
	s->h = h;
	s->limit = mem_limit < (256LL << 10) ? (256LL << 10) : mem_limit;
	s->prefix = sq_strdup(tmp_prefix);
	if (!s->prefix) { free(s); return NULL; }
	return s;
}

int sq_sorter_n_spills(const sq_sorter_t *s) { return s->n_spill; }

void sq_sorter_set_threads(sq_sorter_t *s, int n) { s->n_threads = n; }

static void view(bam1_t *v, const uint8_t *p)
{
	memset(v, 0, sizeof *v);
	memcpy(&v->l_data, p, 4);
	memcpy(&v->core, p + 8, sizeof v->core);
	v->m_data = (uint32_t)v->l_data;
	v->data = (uint8_t *)p + 8 + sizeof v->core;
}

static void spill_name(const sq_sorter_t *s, int i, char *buf, size_t n)
{
	snprintf(buf, n, "%s.sort%04d.bam", s->prefix, i);
}

static int spill(sq_sorter_t *s)
{
	char path[4096];
	qsort(s->e, (size_t)s->n_e, sizeof *s->e, ent_cmp);
	spill_name(s, s->n_spill, path, sizeof path);
	htsFile *fp = hts_open(path, "wb1");
	if (!fp) { sq_log_error("cannot create temporary sort file '%s'", path); return SQ_EOUTPUT; }
	++s->n_spill;
	if (s->n_threads > 1) hts_set_threads(fp, s->n_threads);   /* the workers wait for the spill anyway */
	int r = sam_hdr_write(fp, s->h) < 0 ? SQ_EOUTPUT : 0;
	for (int64_t i = 0; r == 0 && i < s->n_e; ++i) {
		bam1_t v;
		view(&v, s->e[i].p);
		if (sam_write1(fp, s->h, &v) < 0) r = SQ_EOUTPUT;
	}
	if (hts_close(fp) != 0) r = SQ_EOUTPUT;
	if (r < 0) { sq_log_error("cannot write temporary sort file '%s' (disk full?)", path); return r; }
	s->n_e = 0; s->used = 0;
	s->blk_used = 0;
	for (int i = 1; i < s->n_blk; ++i) free(s->blk[i]);   /* keep one block */
	s->n_blk = s->n_blk ? 1 : 0;
	return 0;
}

int sq_sorter_add(sq_sorter_t *s, const bam1_t *b)
{
	int64_t need = 8 + (int64_t)sizeof b->core + b->l_data;
	need = (need + 7) & ~7LL;
	if (s->used + need > s->limit && s->n_e > 0) { int r = spill(s); if (r < 0) return r; }
	if (s->n_blk == 0 || s->blk_used + need > ARENA_BLOCK) {
		int64_t sz = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		if (s->n_blk == s->m_blk) {
			int m = s->m_blk ? s->m_blk * 2 : 16;
			uint8_t **t = sq_realloc(s->blk, (size_t)m * sizeof *t);
			if (!t) return SQ_ENOMEM;
			s->blk = t; s->m_blk = m;
		}
		if (s->n_blk == 1 && s->blk_used == 0 && sz == ARENA_BLOCK) { /* reuse the kept block */ }
		else {
			if (!(s->blk[s->n_blk] = sq_malloc((size_t)sz))) return SQ_ENOMEM;
			++s->n_blk;
		}
		s->blk_used = 0;
	}
	uint8_t *p = s->blk[s->n_blk - 1] + s->blk_used;
	uint32_t l = (uint32_t)b->l_data;
	memcpy(p, &l, 4);
	memcpy(p + 8, &b->core, sizeof b->core);
	memcpy(p + 8 + sizeof b->core, b->data, (size_t)b->l_data);
	s->blk_used += need;
	s->used += need + (int64_t)sizeof(ent_t);
	if (s->n_e == s->m_e) {
		int64_t m = s->m_e ? s->m_e * 2 : 1 << 16;
		ent_t *t = sq_realloc(s->e, (size_t)m * sizeof *t);
		if (!t) return SQ_ENOMEM;
		s->e = t; s->m_e = m;
	}
	ent_t *e = &s->e[s->n_e++];
	rec_key(b, &e->k1, &e->k2);
	e->p = p;
	return 0;
}

/* ---- merge ------------------------------------------------------------------------------ */

typedef struct { htsFile *fp; bam1_t *b; uint64_t k1, k2; int live; } src_t;

static int src_next(src_t *r, sam_hdr_t *h)
{
	int x = sam_read1(r->fp, h, r->b);
	if (x < -1) { sq_log_error("cannot read back a temporary sort file"); return SQ_EIO; }
	r->live = x >= 0;
	if (r->live) rec_key(r->b, &r->k1, &r->k2);
	return 0;
}

static int out_rec(htsFile *fp, sam_hdr_t *h, bam1_t *b, int (*dup)(void *, uint64_t, int), void *dd)
{
	uint8_t *zp = bam_aux_get(b, "zp"), *zs = bam_aux_get(b, "zs");
	if (dup && zp && zs && !(b->core.flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY))) {
		uint64_t pid = (uint64_t)bam_aux2i(zp);
		int mate = (int)(bam_aux2i(zs) >> 16);
		if (dup(dd, pid, mate)) b->core.flag |= BAM_FDUP;
	}
	if (zp) bam_aux_del(b, zp);
	if ((zs = bam_aux_get(b, "zs"))) bam_aux_del(b, zs);
	return sam_write1(fp, h, b) < 0 ? SQ_EOUTPUT : 0;
}

int sq_sorter_finish(sq_sorter_t *s, htsFile *fp, int (*dup)(void *, uint64_t, int), void *dd, int64_t *n_written)
{
	int r = 0, ns = s->n_spill;
	src_t *src = sq_calloc((size_t)ns + 1, sizeof *src);
	bam1_t *tmp = bam_init1();
	*n_written = 0;
	if (!src || !tmp) { r = SQ_ENOMEM; goto done; }
	qsort(s->e, (size_t)s->n_e, sizeof *s->e, ent_cmp);
	for (int i = 0; i < ns; ++i) {
		char path[4096];
		spill_name(s, i, path, sizeof path);
		src[i].fp = hts_open(path, "rb");
		src[i].b = bam_init1();
		if (!src[i].fp || !src[i].b) { sq_log_error("cannot reopen temporary '%s'", path); r = SQ_EIO; goto done; }
		sam_hdr_t *hh = sam_hdr_read(src[i].fp);
		if (!hh) { r = SQ_EIO; goto done; }
		sam_hdr_destroy(hh);
		if ((r = src_next(&src[i], s->h)) < 0) goto done;
	}
	int64_t mi = 0;
	for (;;) {
		int best = -1;
		uint64_t b1 = 0, b2 = 0;
		for (int i = 0; i < ns; ++i)          /* few runs: a linear scan beats a heap here */
			if (src[i].live && (best < 0 || src[i].k1 < b1 || (src[i].k1 == b1 && src[i].k2 < b2)))
				best = i, b1 = src[i].k1, b2 = src[i].k2;
		if (mi < s->n_e && (best < 0 || s->e[mi].k1 < b1 || (s->e[mi].k1 == b1 && s->e[mi].k2 < b2))) {
			bam1_t v;
			view(&v, s->e[mi].p);
			if (!bam_copy1(tmp, &v)) { r = SQ_ENOMEM; goto done; }
			++mi;
			if ((r = out_rec(fp, s->h, tmp, dup, dd)) < 0) goto done;
		} else if (best >= 0) {
			if ((r = out_rec(fp, s->h, src[best].b, dup, dd)) < 0) goto done;
			if ((r = src_next(&src[best], s->h)) < 0) goto done;
		} else break;
		++*n_written;
	}
done:
	if (r == SQ_EOUTPUT) sq_log_error("cannot write the output BAM (disk full?)");
	if (src) for (int i = 0; i < ns; ++i) { if (src[i].fp) hts_close(src[i].fp); if (src[i].b) bam_destroy1(src[i].b); }
	free(src);
	if (tmp) bam_destroy1(tmp);
	return r;
}

void sq_sorter_destroy(sq_sorter_t *s)
{
	if (!s) return;
	for (int i = 0; i < s->n_spill; ++i) {
		char path[4096];
		spill_name(s, i, path, sizeof path);
		unlink(path);
	}
	for (int i = 0; i < s->n_blk; ++i) free(s->blk[i]);
	free(s->blk); free(s->e); free(s->prefix);
	free(s);
}
