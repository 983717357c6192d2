/* seqa — pair-HMM input sets: the GATK test format loader and the fixed-seed realistic
 * workload generator used by tests, `seqa pairhmm` and bench/pairhmm. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pairhmm.h"
#include "seqa/log.h"
#include "seqa/util.h"

/* ---- building -------------------------------------------------------------------------- */

typedef struct {
	sq_phmm_set_t *s;
	int64_t r_cap, r_len;       /* read bases */
	int64_t h_cap, h_len;       /* hap bases */
	int32_t nr_cap, nh_cap;
	uint8_t *bq, *iq, *dq, *gq; /* separate during building, packed at the end */
} builder_t;

static int grow(void **p, int64_t *cap, int64_t need, size_t elt)
{
	if (need <= *cap) return 0;
	int64_t c = *cap ? *cap : 256;
	while (c < need) c *= 2;
	void *q = realloc(*p, (size_t)c * elt);
	if (!q) return SQ_ENOMEM;
	*p = q, *cap = c;
	return 0;
}

static int add_read(builder_t *B, const char *seq, const uint8_t *bq, const uint8_t *iq,
                    const uint8_t *dq, const uint8_t *gq, int len)
{
	sq_phmm_set_t *s = B->s;
	int64_t rc = B->r_cap;
	if (grow((void **)&s->read_seq, &rc, B->r_len + len + 1, 1) < 0) return SQ_ENOMEM;
	int64_t c2;
	c2 = B->r_cap; if (grow((void **)&B->bq, &c2, B->r_len + len + 1, 1) < 0) return SQ_ENOMEM;
	c2 = B->r_cap; if (grow((void **)&B->iq, &c2, B->r_len + len + 1, 1) < 0) return SQ_ENOMEM;
	c2 = B->r_cap; if (grow((void **)&B->dq, &c2, B->r_len + len + 1, 1) < 0) return SQ_ENOMEM;
	c2 = B->r_cap; if (grow((void **)&B->gq, &c2, B->r_len + len + 1, 1) < 0) return SQ_ENOMEM;
	B->r_cap = rc;
	int64_t nc = B->nr_cap;
	if (grow((void **)&s->read_off, &nc, s->b.n_reads + 2, sizeof(int32_t)) < 0) return SQ_ENOMEM;
	B->nr_cap = (int32_t)nc;
	if (B->r_len + len > INT32_MAX / 2) return SQ_EINVAL;
	memcpy(s->read_seq + B->r_len, seq, (size_t)len);
	memcpy(B->bq + B->r_len, bq, (size_t)len);
	memcpy(B->iq + B->r_len, iq, (size_t)len);
	memcpy(B->dq + B->r_len, dq, (size_t)len);
	memcpy(B->gq + B->r_len, gq, (size_t)len);
	s->read_off[s->b.n_reads] = (int32_t)B->r_len;
	B->r_len += len;
	s->read_off[++s->b.n_reads] = (int32_t)B->r_len;
	return 0;
}

static int add_hap(builder_t *B, const char *seq, int len)
{
	sq_phmm_set_t *s = B->s;
	if (grow((void **)&s->hap_seq, &B->h_cap, B->h_len + len + 1, 1) < 0) return SQ_ENOMEM;
	int64_t nc = B->nh_cap;
	if (grow((void **)&s->hap_off, &nc, s->b.n_haps + 2, sizeof(int32_t)) < 0) return SQ_ENOMEM;
	B->nh_cap = (int32_t)nc;
	if (B->h_len + len > INT32_MAX / 2) return SQ_EINVAL;
	memcpy(s->hap_seq + B->h_len, seq, (size_t)len);
	s->hap_off[s->b.n_haps] = (int32_t)B->h_len;
	B->h_len += len;
	s->hap_off[++s->b.n_haps] = (int32_t)B->h_len;
	return 0;
}

static builder_t *builder_new(void)
{
	builder_t *B = calloc(1, sizeof *B);
	if (!B || !(B->s = calloc(1, sizeof *B->s))) { free(B); return NULL; }
	return B;
}

/* Pack the quality arrays into s->quals and point the batch at the storage. */
static sq_phmm_set_t *builder_finish(builder_t *B)
{
	sq_phmm_set_t *s = B->s;
	int64_t n = B->r_len;
	if (!s->read_off && !(s->read_off = calloc(1, sizeof(int32_t)))) goto fail;
	if (!s->hap_off && !(s->hap_off = calloc(1, sizeof(int32_t)))) goto fail;
	if (!(s->quals = malloc((size_t)(4 * n + 4)))) goto fail;
	if (n) {
		memcpy(s->quals, B->bq, (size_t)n);
		memcpy(s->quals + n, B->iq, (size_t)n);
		memcpy(s->quals + 2 * n, B->dq, (size_t)n);
		memcpy(s->quals + 3 * n, B->gq, (size_t)n);
	}
	s->b.read_seq = s->read_seq, s->b.hap_seq = s->hap_seq;
	s->b.base_q = s->quals, s->b.ins_q = s->quals + n;
	s->b.del_q = s->quals + 2 * n, s->b.gcp = s->quals + 3 * n;
	s->b.read_off = s->read_off, s->b.hap_off = s->hap_off;
	s->b.pair_read = s->pair_read, s->b.pair_hap = s->pair_hap;
	int64_t n_out = sq_phmm_batch_n_out(&s->b);
	if (!(s->b.out = calloc((size_t)(n_out ? n_out : 1), sizeof(double)))) goto fail;
	free(B->bq), free(B->iq), free(B->dq), free(B->gq), free(B);
	return s;
fail:
	free(B->bq), free(B->iq), free(B->dq), free(B->gq);
	sq_phmm_set_free(s);
	free(B);
	return NULL;
}

static void builder_abort(builder_t *B)
{
	if (!B) return;
	free(B->bq), free(B->iq), free(B->dq), free(B->gq);
	sq_phmm_set_free(B->s);
	free(B);
}

void sq_phmm_set_free(sq_phmm_set_t *s)
{
	if (!s) return;
	free(s->expected), free(s->read_seq), free(s->hap_seq), free(s->quals);
	free(s->read_off), free(s->hap_off), free(s->pair_read), free(s->pair_hap);
	free(s->b.out);
	free(s);
}

int64_t sq_phmm_batch_cells(const sq_phmm_batch_t *b)
{
	int64_t cells = 0;
	if (b->pair_read) {
		for (int64_t k = 0; k < b->n_pairs; ++k) {
			int32_t r = b->pair_read[k], h = b->pair_hap[k];
			cells += (int64_t)(b->read_off[r + 1] - b->read_off[r]) * (b->hap_off[h + 1] - b->hap_off[h]);
		}
	} else {
		int64_t rl = b->read_off[b->n_reads] - b->read_off[0];
		int64_t hl = b->hap_off[b->n_haps] - b->hap_off[0];
		cells = rl * hl;
	}
	return cells;
}

/* ---- GATK test format ----------------------------------------------------------------- */

/* Identical haplotypes are stored once (a file lists the same haplotype on many lines), so the
 * pairs of a region share a haplotype index and SIMD/GPU backends batch them together. */
typedef struct { int64_t cap; int32_t *slot; } hap_index_t;   /* open addressing, -1 empty */

static uint64_t str_hash(const char *s, int n)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (int i = 0; i < n; ++i) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Index of hap (len n) in B, adding it if new; < 0 on allocation failure. */
static int32_t hap_intern(builder_t *B, hap_index_t *ix, const char *hap, int n)
{
	sq_phmm_set_t *s = B->s;
	if ((int64_t)(s->b.n_haps + 1) * 2 > ix->cap) {   /* grow and rehash */
		int64_t cap = ix->cap ? ix->cap * 2 : 1024;
		int32_t *slot = malloc(sizeof(int32_t) * (size_t)cap);
		if (!slot) return SQ_ENOMEM;
		for (int64_t i = 0; i < cap; ++i) slot[i] = -1;
		for (int32_t h = 0; h < s->b.n_haps; ++h) {
			int32_t o = s->hap_off[h];
			uint64_t k = str_hash(s->hap_seq + o, s->hap_off[h + 1] - o) & (uint64_t)(cap - 1);
			while (slot[k] >= 0) k = (k + 1) & (uint64_t)(cap - 1);
			slot[k] = h;
		}
		free(ix->slot);
		ix->slot = slot, ix->cap = cap;
	}
	uint64_t k = str_hash(hap, n) & (uint64_t)(ix->cap - 1);
	for (; ix->slot[k] >= 0; k = (k + 1) & (uint64_t)(ix->cap - 1)) {
		int32_t h = ix->slot[k], o = s->hap_off[h];
		if (s->hap_off[h + 1] - o == n && memcmp(s->hap_seq + o, hap, (size_t)n) == 0) return h;
	}
	if (add_hap(B, hap, n) < 0) return SQ_ENOMEM;
	ix->slot[k] = s->b.n_haps - 1;
	return s->b.n_haps - 1;
}

static int parse_quals(const char *s, int len, uint8_t *q)
{
	for (int i = 0; i < len; ++i) {
		int v = (unsigned char)s[i] - 33;
		if (v < 0 || v > 126 - 33) return SQ_EINPUT;
		q[i] = (uint8_t)v;
	}
	return 0;
}

sq_phmm_set_t *sq_phmm_set_load_gatk(const char *path, int *err)
{
	FILE *fp = NULL;
	builder_t *B = NULL;
	char *line = NULL;
	size_t cap = 0;
	uint8_t *q = NULL;
	int64_t n_lines = 0, exp_cap = 0, pr_cap = 0, ph_cap = 0, q_cap = 0;
	int rc = SQ_EINPUT, any_expected = 0;
	ssize_t len;
	hap_index_t hix = { 0, NULL };

	if (!(fp = fopen(path, "r"))) {
		sq_log_error("cannot open '%s': %s", path, strerror(errno));
		rc = SQ_EIO;
		goto fail;
	}
	if (!(B = builder_new())) { rc = SQ_ENOMEM; goto fail; }
	sq_phmm_set_t *s = B->s;
	for (int64_t lineno = 1; (len = getline(&line, &cap, fp)) >= 0; ++lineno) {
		char *col[8];
		int nc = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
			if (nc < 8) col[nc] = t;
			++nc;
		}
		if (nc == 0 || col[0][0] == '#') continue;
		if (nc != 6 && nc != 7) {
			sq_log_error("%s:%lld: expected 6 or 7 columns, found %d", path, (long long)lineno, nc);
			goto fail;
		}
		int rl = (int)strlen(col[1]), hl = (int)strlen(col[0]);
		for (int c = 2; c < 6; ++c)
			if ((int)strlen(col[c]) != rl) {
				sq_log_error("%s:%lld: quality column %d has length %d, read has %d", path,
				             (long long)lineno, c + 1, (int)strlen(col[c]), rl);
				goto fail;
			}
		for (int c = 0; c < 2; ++c)
			for (const char *p = col[c]; *p; ++p)
				if (!strchr("ACGTNacgtn", *p)) {
					sq_log_error("%s:%lld: invalid base '%c'", path, (long long)lineno, *p);
					goto fail;
				}
		if (grow((void **)&q, &q_cap, 4 * (int64_t)rl + 4, 1) < 0) { rc = SQ_ENOMEM; goto fail; }
		for (int c = 0; c < 4; ++c)
			if (parse_quals(col[2 + c], rl, q + (int64_t)c * rl) < 0) {
				sq_log_error("%s:%lld: invalid quality character", path, (long long)lineno);
				goto fail;
			}
		double e = NAN;
		if (nc == 7) {
			char *end;
			e = strtod(col[6], &end);
			if (*end) {
				sq_log_error("%s:%lld: invalid expected value '%s'", path, (long long)lineno, col[6]);
				goto fail;
			}
			any_expected = 1;
		}
		int32_t hid;
		if (add_read(B, col[1], q, q + rl, q + 2 * rl, q + 3 * rl, rl) < 0 || (hid = hap_intern(B, &hix, col[0], hl)) < 0 ||
		    grow((void **)&s->expected, &exp_cap, n_lines + 1, sizeof(double)) < 0 ||
		    grow((void **)&s->pair_read, &pr_cap, n_lines + 1, sizeof(int32_t)) < 0 ||
		    grow((void **)&s->pair_hap, &ph_cap, n_lines + 1, sizeof(int32_t)) < 0) {
			rc = SQ_ENOMEM;
			goto fail;
		}
		s->expected[n_lines] = e;
		s->pair_read[n_lines] = (int32_t)n_lines, s->pair_hap[n_lines] = hid;
		++n_lines;
	}
	if (ferror(fp)) {
		sq_log_error("read error on '%s'", path);
		rc = SQ_EIO;
		goto fail;
	}
	fclose(fp), fp = NULL;
	free(line), free(q), free(hix.slot);
	line = NULL, q = NULL, hix.slot = NULL;
	s->b.n_pairs = n_lines;
	if (!s->pair_read) {   /* empty file: still explicit-pairs mode with zero pairs */
		s->pair_read = calloc(1, sizeof(int32_t));
		s->pair_hap = calloc(1, sizeof(int32_t));
		if (!s->pair_read || !s->pair_hap) { rc = SQ_ENOMEM; goto fail; }
	}
	if (!any_expected) free(s->expected), s->expected = NULL;
	sq_phmm_set_t *out = builder_finish(B);
	if (!out && err) *err = SQ_ENOMEM;
	return out;
fail:
	if (fp) fclose(fp);
	free(line), free(q), free(hix.slot);
	builder_abort(B);
	if (err) *err = rc;
	return NULL;
}

/* ---- generated workloads --------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)   /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static int rng_int(uint64_t *s, int n) { return (int)(rng_next(s) % (uint64_t)n); }

sq_phmm_set_t *sq_phmm_set_realistic(int n_reads, int read_len, int n_haps, int hap_len,
                                     uint64_t seed)
{
	static const char ACGT[4] = { 'A', 'C', 'G', 'T' };
	builder_t *B = builder_new();
	char *hap = malloc((size_t)hap_len + 1), *read = malloc((size_t)read_len + 1);
	char *base = malloc((size_t)hap_len + 1);
	uint8_t *q = malloc((size_t)read_len * 4 + 4);
	uint64_t rs = seed;
	if (!B || !hap || !read || !base || !q || read_len <= 0 || hap_len < read_len + 10) goto fail;
	/* Haplotypes: one random base sequence, the others differ from it by a few SNVs and one
	 * small indel each (as an active region's candidate haplotypes do). */
	for (int j = 0; j < hap_len; ++j) base[j] = ACGT[rng_int(&rs, 4)];
	for (int h = 0; h < n_haps; ++h) {
		int n = 0;
		int ipos = h ? 20 + rng_int(&rs, hap_len - 40) : -1, ilen = 1 + rng_int(&rs, 5);
		int is_del = rng_int(&rs, 2);
		for (int j = 0; j < hap_len && n < hap_len; ++j) {
			if (j == ipos) {
				if (is_del) { j += ilen - 1; continue; }
				for (int k = 0; k < ilen && n < hap_len; ++k) hap[n++] = ACGT[rng_int(&rs, 4)];
			}
			char c = base[j];
			if (h && rng_int(&rs, 100) == 0)
				do c = ACGT[rng_int(&rs, 4)]; while (c == base[j]);
			hap[n++] = c;
		}
		while (n < hap_len) hap[n++] = ACGT[rng_int(&rs, 4)];
		if (add_hap(B, hap, hap_len) < 0) goto fail;
	}
	for (int r = 0; r < n_reads; ++r) {
		const char *src = B->s->hap_seq + B->s->hap_off[rng_int(&rs, n_haps)];
		int start = rng_int(&rs, hap_len - read_len - 5), n = 0;
		for (int j = start; n < read_len && j < hap_len; ++j) {
			int u = rng_int(&rs, 1000);
			if (u < 10) {                               /* ~1% substitutions */
				char c = src[j];
				do c = ACGT[rng_int(&rs, 4)]; while (c == src[j]);
				read[n++] = c;
			} else if (u < 11) {                        /* occasional insertion 1-5 bp */
				for (int k = 1 + rng_int(&rs, 5); k > 0 && n < read_len; --k) read[n++] = ACGT[rng_int(&rs, 4)];
				if (n < read_len) read[n++] = src[j];
			} else if (u < 12) {                        /* occasional deletion 1-5 bp */
				j += rng_int(&rs, 5);
			} else read[n++] = src[j];
		}
		while (n < read_len) read[n++] = ACGT[rng_int(&rs, 4)];
		for (int i = 0; i < read_len; ++i) {
			q[i] = (uint8_t)(20 + rng_int(&rs, 21));
			q[read_len + i] = 45, q[2 * read_len + i] = 45, q[3 * read_len + i] = 10;
		}
		if (add_read(B, read, q, q + read_len, q + 2 * read_len, q + 3 * read_len, read_len) < 0) goto fail;
	}
	free(hap), free(read), free(base), free(q);
	return builder_finish(B);
fail:
	free(hap), free(read), free(base), free(q);
	builder_abort(B);
	return NULL;
}

sq_phmm_set_t *sq_phmm_set_from(const sq_phmm_batch_t *src)
{
	builder_t *B = builder_new();
	if (!B) return NULL;
	for (int32_t r = 0; r < src->n_reads; ++r) {
		int32_t o = src->read_off[r], l = src->read_off[r + 1] - o;
		if (add_read(B, src->read_seq + o, src->base_q + o, src->ins_q + o, src->del_q + o,
		             src->gcp + o, l) < 0) goto fail;
	}
	for (int32_t h = 0; h < src->n_haps; ++h) {
		int32_t o = src->hap_off[h];
		if (add_hap(B, src->hap_seq + o, src->hap_off[h + 1] - o) < 0) goto fail;
	}
	if (src->pair_read) {
		int64_t n = src->n_pairs;
		B->s->pair_read = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
		B->s->pair_hap = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
		if (!B->s->pair_read || !B->s->pair_hap) goto fail;
		if (n) {
			memcpy(B->s->pair_read, src->pair_read, sizeof(int32_t) * (size_t)n);
			memcpy(B->s->pair_hap, src->pair_hap, sizeof(int32_t) * (size_t)n);
		}
		B->s->b.n_pairs = n;
	}
	return builder_finish(B);
fail:
	builder_abort(B);
	return NULL;
}
