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
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	if (p->pid != q->pid) return p->pid < q->pid ? -1 : 1;
	return p->mate < q->mate ? -1 : p->mate > q->mate;   /* a pair with both ends at one place */
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

/* ---- bounded memory: sorted runs in two temporary files, merged by a heap ------------------- */

typedef struct {                /* one sorted run inside a run file, read through a small buffer */
	int64_t off, end;           /* byte range left in the file */
	uint8_t *buf; int nb, ib;   /* nb records buffered, ib the next */
} run_t;

typedef struct {                /* the runs of one kind (pair keys or fragment ends) */
	size_t size;                /* record size */
	int (*cmp)(const void *, const void *);
	char *path; int fd;         /* run file, created at the first spill */
	int64_t *run_off; int n_run, m_run;   /* start offset of each run; + total at the end */
	void *mem; int64_t n, m;    /* records in memory (sorted at a spill or at the end) */
	/* merge state */
	run_t *r; int *heap, nh;
	int64_t im;                 /* in-memory cursor when nothing was spilled */
} kind_t;

struct sq_dupset_s {
	kind_t pk, fk;
	int64_t mem_limit;
	int optical_dist;
	sq_aln_dup_t mt;
	int64_t n_spills;
};

enum { RUN_BUF = 32 << 10 };

static int write_all(int fd, const void *buf, size_t len)
{
	for (const uint8_t *q = buf; len > 0;) {
		ssize_t w = write(fd, q, len);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) { if (w == 0) errno = ENOSPC; return -1; }
		q += w, len -= (size_t)w;
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t len, int64_t off)
{
	for (uint8_t *q = buf; len > 0;) {
		ssize_t n = pread(fd, q, len, (off_t)off);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) { if (n == 0) errno = EIO; return -1; }
		q += n, len -= (size_t)n, off += n;
	}
	return 0;
}

static char *path_with(const char *prefix, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(suffix) + 1;
	char *p = sq_malloc(n);
	if (p) snprintf(p, n, "%s%s", prefix, suffix);
	return p;
}

static int kind_spill(kind_t *k)
{
	if (k->n == 0) return 0;
	qsort(k->mem, (size_t)k->n, k->size, k->cmp);
	if (k->fd < 0 && (k->fd = open(k->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		sq_log_error("cannot create '%s': %s", k->path, strerror(errno));
		return SQ_EOUTPUT;
	}
	off_t at = lseek(k->fd, 0, SEEK_END);
	size_t len = (size_t)k->n * k->size;
	if (at < 0 || write_all(k->fd, k->mem, len) < 0) {
		sq_log_error("cannot write '%s' (disk full?): %s", k->path, strerror(errno));
		return SQ_EOUTPUT;
	}
	if (k->n_run + 2 > k->m_run) {
		int m = k->m_run ? 2 * k->m_run : 64;
		int64_t *t = sq_realloc(k->run_off, (size_t)m * sizeof *t);
		if (!t) return SQ_ENOMEM;
		k->run_off = t; k->m_run = m;
	}
	k->run_off[k->n_run++] = (int64_t)at;
	k->run_off[k->n_run] = (int64_t)at + (int64_t)len;
	k->n = 0;
	return 0;
}

static void *kind_push(kind_t *k)
{
	if (k->n == k->m) {
		int64_t m = k->m ? k->m + k->m / 2 : 4096;
		void *t = sq_realloc(k->mem, (size_t)m * k->size);
		if (!t) return NULL;
		k->mem = t; k->m = m;
	}
	return (uint8_t *)k->mem + (size_t)(k->n++) * k->size;
}

static int run_fill(kind_t *k, run_t *r)
{
	int64_t left = (r->end - r->off) / (int64_t)k->size, want = RUN_BUF / (int64_t)k->size;
	if (left > want) left = want;
	r->ib = 0; r->nb = (int)left;
	if (left == 0) return 0;
	size_t len = (size_t)left * k->size;
	if (pread_all(k->fd, r->buf, len, r->off) < 0) { sq_log_error("cannot read '%s': %s", k->path, strerror(errno)); return SQ_EIO; }
	r->off += (int64_t)len;
	return 0;
}

static inline const void *run_head(const kind_t *k, const run_t *r) { return r->buf + (size_t)r->ib * k->size; }

static int heap_less(const kind_t *k, int a, int b)
{
	int c = k->cmp(run_head(k, &k->r[a]), run_head(k, &k->r[b]));
	return c < 0 || (c == 0 && a < b);
}

static void heap_down(kind_t *k, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i;
		if (l < k->nh && heap_less(k, k->heap[l], k->heap[m])) m = l;
		if (l + 1 < k->nh && heap_less(k, k->heap[l + 1], k->heap[m])) m = l + 1;
		if (m == i) return;
		int t = k->heap[i]; k->heap[i] = k->heap[m]; k->heap[m] = t;
		i = m;
	}
}

/* Prepare to read all records of k in comparator order. */
static int kind_start(kind_t *k)
{
	if (k->fd < 0) {   /* never spilled: sort in memory */
		if (k->n) qsort(k->mem, (size_t)k->n, k->size, k->cmp);   /* qsort(NULL, 0): UB (UBSan, single-end) */
		k->im = 0;
		return 0;
	}
	int r;
	if ((r = kind_spill(k)) < 0) return r;
	free(k->mem); k->mem = NULL; k->m = 0;
	if (!(k->r = sq_calloc((size_t)k->n_run + 1, sizeof *k->r)) || !(k->heap = sq_malloc((size_t)(k->n_run + 1) * sizeof *k->heap)))
		return SQ_ENOMEM;
	for (int i = 0; i < k->n_run; ++i) {
		run_t *u = &k->r[i];
		u->off = k->run_off[i]; u->end = k->run_off[i + 1];
		if (!(u->buf = sq_malloc(RUN_BUF))) return SQ_ENOMEM;
		if ((r = run_fill(k, u)) < 0) return r;
		if (u->nb > 0) k->heap[k->nh++] = i;
	}
	for (int i = k->nh / 2 - 1; i >= 0; --i) heap_down(k, i);
	return 0;
}

/* The next record in order into out: 1, 0 at the end, < 0 on error. */
static int kind_next(kind_t *k, void *out)
{
	if (k->fd < 0) {
		if (k->im >= k->n) return 0;
		memcpy(out, (uint8_t *)k->mem + (size_t)(k->im++) * k->size, k->size);
		return 1;
	}
	if (k->nh == 0) return 0;
	run_t *u = &k->r[k->heap[0]];
	memcpy(out, run_head(k, u), k->size);
	if (++u->ib == u->nb) {
		int r = run_fill(k, u);
		if (r < 0) return r;
		if (u->nb == 0) k->heap[0] = k->heap[--k->nh];
	}
	heap_down(k, 0);
	return 1;
}

static void kind_free(kind_t *k)
{
	if (k->fd >= 0) { close(k->fd); unlink(k->path); }
	for (int i = 0; k->r && i < k->n_run; ++i) free(k->r[i].buf);
	free(k->r); free(k->heap); free(k->run_off); free(k->mem); free(k->path);
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

sq_dupset_t *sq_dupset_init(const char *tmp_prefix, int64_t mem_limit, int optical_dist)
{
	sq_dupset_t *d = sq_calloc(1, sizeof *d);
	if (!d) return NULL;
	d->pk.fd = d->fk.fd = -1;
	d->pk.size = sizeof(pkey_t); d->pk.cmp = pkey_cmp;
	d->fk.size = sizeof(fkey_t); d->fk.cmp = fkey_cmp;
	d->pk.path = path_with(tmp_prefix ? tmp_prefix : "seqa", ".dup-pairs");
	d->fk.path = path_with(tmp_prefix ? tmp_prefix : "seqa", ".dup-ends");
	d->mem_limit = mem_limit > 0 ? mem_limit : INT64_MAX;
	d->optical_dist = optical_dist;
	if (!d->pk.path || !d->fk.path) { sq_dupset_destroy(d); return NULL; }
	return d;
}

int sq_dupset_add(sq_dupset_t *d, const sq_dupsig_t *sig, int64_t n)
{
	sq_aln_dup_t *mt = &d->mt;
	for (int64_t i = 0; i < n; ++i) {
		const sq_dupsig_t *s = &sig[i];
		for (int k = 0; k < 1 + s->paired; ++k) if (!s->mapped[k]) ++mt->unmapped;
		if (s->paired && s->mapped[0] && s->mapped[1]) {
			end_t e0 = { s->tid[0], s->rev[0], s->pos[0] }, e1 = { s->tid[1], s->rev[1], s->pos[1] };
			pkey_t *p = kind_push(&d->pk);
			if (!p) return SQ_ENOMEM;
			memset(p, 0, sizeof *p);   /* padding too: runs are written as bytes */
			if (end_cmp(&e0, &e1) <= 0) p->a = e0, p->b = e1; else p->a = e1, p->b = e0;
			p->score = s->score; p->pid = s->pid; p->tile = s->tile; p->x = s->x; p->y = s->y;
			++mt->pairs_examined;
			for (int k = 0; k < 2; ++k) {
				fkey_t *f = kind_push(&d->fk);
				if (!f) return SQ_ENOMEM;
				memset(f, 0, sizeof *f);
				f->e = k ? e1 : e0; f->is_pair = 1; f->score = s->score; f->pid = s->pid; f->mate = k;
			}
		} else {
			for (int k = 0; k < 1 + s->paired; ++k) {
				if (!s->mapped[k]) continue;
				fkey_t *f = kind_push(&d->fk);
				if (!f) return SQ_ENOMEM;
				memset(f, 0, sizeof *f);
				f->e = (end_t){ s->tid[k], s->rev[k], s->pos[k] };
				f->is_pair = 0; f->score = s->score; f->pid = s->pid; f->mate = k;
				++mt->unpaired_examined;
			}
		}
	}
	if ((int64_t)(d->pk.n * d->pk.size + d->fk.n * d->fk.size) > d->mem_limit) {
		int r;
		if ((r = kind_spill(&d->pk)) < 0 || (r = kind_spill(&d->fk)) < 0) return r;
		++d->n_spills;
	}
	return 0;
}

int64_t sq_dupset_n_spills(const sq_dupset_t *d) { return d->n_spills; }

uint8_t *sq_dupset_finish(sq_dupset_t *d, uint64_t n_pid, sq_aln_dup_t *m)
{
	sq_aln_dup_t *mt = &d->mt;
	uint8_t *bm = sq_calloc((size_t)(n_pid / 4 + 1), 1);
	pkey_t *grp = NULL, cur;
	int64_t ng = 0, mg = 0;
	int r = 0;
	if (!bm) goto fail;
	/* pairs: a set is a run of equal ends (best first); all but the first are duplicates */
	if ((r = kind_start(&d->pk)) < 0) goto fail;
	for (;;) {
		int got = kind_next(&d->pk, &cur);
		if (got < 0) { r = got; goto fail; }
		if (ng > 0 && (!got || end_cmp(&cur.a, &grp[0].a) != 0 || end_cmp(&cur.b, &grp[0].b) != 0)) {
			for (int64_t k = 1; k < ng; ++k) {
				set_dup(bm, grp[k].pid, 0); set_dup(bm, grp[k].pid, 1);
				++mt->pair_dups;
			}
			for (int64_t k = 1; k < ng && d->optical_dist > 0; ++k) {
				if (grp[k].tile < 0) continue;
				for (int64_t l = 0; l < ng; ++l) {
					if (l == k || grp[l].tile != grp[k].tile) continue;
					if (abs(grp[l].x - grp[k].x) <= d->optical_dist && abs(grp[l].y - grp[k].y) <= d->optical_dist) {
						++mt->pair_optical_dups;
						break;
					}
				}
			}
			ng = 0;
		}
		if (!got) break;
		if (ng == mg) {
			mg = mg ? 2 * mg : 16;
			pkey_t *t = sq_realloc(grp, (size_t)mg * sizeof *t);
			if (!t) { r = SQ_ENOMEM; goto fail; }
			grp = t;
		}
		grp[ng++] = cur;
	}
	kind_free(&d->pk);
	/* fragment ends: at a 5' end holding a pair's mate every fragment is a duplicate, else all
	 * but the best fragment */
	if ((r = kind_start(&d->fk)) < 0) goto fail;
	fkey_t f, first;
	int have = 0;
	for (;;) {
		int got = kind_next(&d->fk, &f);
		if (got < 0) { r = got; goto fail; }
		if (!got) break;
		if (!have || end_cmp(&f.e, &first.e) != 0) { first = f; have = 1; if (!f.is_pair) continue; }
		if (!f.is_pair) { set_dup(bm, f.pid, f.mate); ++mt->unpaired_dups; }
	}
	kind_free(&d->fk);
	int64_t reads = mt->unpaired_examined + 2 * mt->pairs_examined;
	mt->percent_dup = reads ? (double)(mt->unpaired_dups + 2 * mt->pair_dups) / (double)reads : 0;
	mt->est_library_size = library_size(mt->pairs_examined - mt->pair_optical_dups, mt->pairs_examined - mt->pair_dups);
	*m = *mt;
	free(grp);
	return bm;
fail:
	if (r == SQ_ENOMEM || r == 0) sq_log_error("out of memory marking duplicates");
	free(grp); free(bm);
	return NULL;
}

void sq_dupset_destroy(sq_dupset_t *d)
{
	if (!d) return;
	kind_free(&d->pk);
	kind_free(&d->fk);
	free(d);
}

uint8_t *sq_dup_mark(sq_dupsig_t *sig, int64_t n, uint64_t n_pid, int optical_dist, sq_aln_dup_t *mt)
{
	memset(mt, 0, sizeof *mt);
	sq_dupset_t *d = sq_dupset_init(NULL, 0, optical_dist);
	uint8_t *bm = d && sq_dupset_add(d, sig, n) == 0 ? sq_dupset_finish(d, n_pid, mt) : NULL;
	sq_dupset_destroy(d);
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
