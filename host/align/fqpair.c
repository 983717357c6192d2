/* seqa — paired FASTQ reader for alignment: batches of bwa's bseq1_t, mates checked in step.
 *
 * Plain or gzip (zlib).  Four-line records; names are the first word after '@' with a trailing
 * "/1" or "/2" removed (as bwa does); comments are dropped.  Errors (all SQ_EINPUT, logged with
 * file and record number): bad record syntax, SEQ/QUAL length mismatch, mates with different
 * names, one file ending before the other, truncated or corrupt gzip, no reads at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "fqpair.h"
#include "seqa/log.h"
#include "seqa/util.h"

typedef struct {
	gzFile fp;
	const char *path;
	char *buf;                  /* read buffer */
	int64_t cap, beg, end;
	int eof;
	int64_t n_rec;
	char *line; int64_t line_m;
} fq_t;

struct sq_fqp_s {
	fq_t f[2];
	int n_files;
	int64_t n_pairs;
};

static int fq_open(fq_t *f, const char *path)
{
	memset(f, 0, sizeof *f);
	f->path = path;
	if (!sq_file_readable(path)) { sq_log_error("cannot open FASTQ '%s'", path); return SQ_EIO; }
	f->fp = gzopen(path, "rb");
	if (!f->fp) { sq_log_error("cannot open FASTQ '%s'", path); return SQ_EIO; }
	gzbuffer(f->fp, 1 << 17);
	f->cap = 1 << 20;
	f->buf = sq_malloc((size_t)f->cap);
	return f->buf ? 0 : SQ_ENOMEM;
}

/* Next line without its newline into f->line (NUL-terminated); length, -1 at EOF, < -1 error. */
static int64_t fq_line(fq_t *f)
{
	int64_t l = 0;
	for (;;) {
		if (f->beg >= f->end) {
			if (f->eof) break;
			int r = gzread(f->fp, f->buf, (unsigned)f->cap);
			if (r < 0) {
				int e; const char *m = gzerror(f->fp, &e);
				sq_log_error("%s: corrupt or truncated input (%s)", f->path, m);
				return SQ_EINPUT;
			}
			if (r == 0) {
				int e; const char *m = gzerror(f->fp, &e);
				if (e != Z_OK && e != Z_STREAM_END) {
					sq_log_error("%s: corrupt or truncated input (%s)", f->path, m);
					return SQ_EINPUT;
				}
				f->eof = 1;
				break;
			}
			f->beg = 0; f->end = r;
		}
		char *p = memchr(f->buf + f->beg, '\n', (size_t)(f->end - f->beg));
		int64_t n = p ? p - (f->buf + f->beg) : f->end - f->beg;
		if (l + n + 1 > f->line_m) {
			int64_t m = (l + n + 1) * 2;
			char *t = sq_realloc(f->line, (size_t)m);
			if (!t) return SQ_ENOMEM;
			f->line = t; f->line_m = m;
		}
		memcpy(f->line + l, f->buf + f->beg, (size_t)n);
		l += n;
		f->beg += n + (p ? 1 : 0);
		if (p) { f->line[l] = 0; if (l && f->line[l - 1] == '\r') f->line[--l] = 0; return l; }
	}
	if (l == 0) return -1;
	f->line[l] = 0;
	return l;
}

/* One record into s (name, seq, qual malloc'ed).  0, -1 EOF, < -1 error. */
static int fq_record(fq_t *f, bseq1_t *s)
{
	int64_t l;
	memset(s, 0, sizeof *s);
	do l = fq_line(f); while (l == 0);        /* tolerate blank lines between records */
	if (l < 0) return (int)l;
	++f->n_rec;
	if (f->line[0] != '@') {
		sq_log_error("%s: record %lld: expected '@' at the start of a FASTQ record", f->path, (long long)f->n_rec);
		return SQ_EINPUT;
	}
	int64_t nl = 1;
	while (nl < l && f->line[nl] != ' ' && f->line[nl] != '\t') ++nl;
	nl -= 1;
	if (nl >= 2 && f->line[nl - 1] == '/' && (f->line[nl] == '1' || f->line[nl] == '2')) nl -= 2;
	if (nl <= 0) { sq_log_error("%s: record %lld: empty read name", f->path, (long long)f->n_rec); return SQ_EINPUT; }
	s->name = sq_malloc((size_t)nl + 1);
	if (!s->name) return SQ_ENOMEM;
	memcpy(s->name, f->line + 1, (size_t)nl);
	s->name[nl] = 0;
	if ((l = fq_line(f)) < 0) goto trunc;
	s->seq = sq_malloc((size_t)l + 1);
	if (!s->seq) return SQ_ENOMEM;
	memcpy(s->seq, f->line, (size_t)l + 1);
	s->l_seq = (int)l;
	if ((l = fq_line(f)) < 0) goto trunc;
	if (f->line[0] != '+') {
		sq_log_error("%s: record %lld ('%s'): expected '+' line", f->path, (long long)f->n_rec, s->name);
		return SQ_EINPUT;
	}
	if ((l = fq_line(f)) < 0) goto trunc;
	if (l != s->l_seq) {
		sq_log_error("%s: record %lld ('%s'): %d bases but %lld qualities", f->path, (long long)f->n_rec,
		             s->name, s->l_seq, (long long)l);
		return SQ_EINPUT;
	}
	for (int64_t i = 0; i < l; ++i)
		if (f->line[i] < 33 || f->line[i] > 126) {
			sq_log_error("%s: record %lld ('%s'): invalid quality character", f->path, (long long)f->n_rec, s->name);
			return SQ_EINPUT;
		}
	for (int i = 0; i < s->l_seq; ++i)
		if (s->seq[i] < 33 || s->seq[i] > 126) {
			sq_log_error("%s: record %lld ('%s'): invalid base character", f->path, (long long)f->n_rec, s->name);
			return SQ_EINPUT;
		}
	s->qual = sq_malloc((size_t)l + 1);
	if (!s->qual) return SQ_ENOMEM;
	memcpy(s->qual, f->line, (size_t)l + 1);
	return 0;
trunc:
	if (l < -1) return (int)l;
	sq_log_error("%s: record %lld: file ends inside a record (truncated?)", f->path, (long long)f->n_rec);
	return SQ_EINPUT;
}

sq_fqp_t *sq_fqp_open(const char *r1, const char *r2, int *err)
{
	sq_fqp_t *p = sq_calloc(1, sizeof *p);
	int r;
	if (!p) { *err = SQ_ENOMEM; return NULL; }
	p->n_files = r2 ? 2 : 1;
	if ((r = fq_open(&p->f[0], r1)) < 0 || (r2 && (r = fq_open(&p->f[1], r2)) < 0)) {
		*err = r;
		sq_fqp_close(p);
		return NULL;
	}
	return p;
}

void sq_fqp_free_seqs(bseq1_t *s, int n)
{
	if (!s) return;
	for (int i = 0; i < n; ++i) { free(s[i].name); free(s[i].comment); free(s[i].seq); free(s[i].qual); free(s[i].sam); }
	free(s);
}

int sq_fqp_read(sq_fqp_t *p, int64_t max_bases, bseq1_t **seqs_, int *n_)
{
	bseq1_t *s = NULL;
	int n = 0, m = 0, r = 0;
	int64_t bases = 0;
	*seqs_ = NULL; *n_ = 0;
	while (bases < max_bases) {
		if (n + 2 > m) {
			m = m ? m * 2 : 4096;
			bseq1_t *t = sq_realloc(s, (size_t)m * sizeof *s);
			if (!t) { r = SQ_ENOMEM; goto fail; }
			s = t;
		}
		r = fq_record(&p->f[0], &s[n]);
		if (r < -1) { ++n; goto fail; }
		if (p->n_files == 2) {
			int r2 = fq_record(&p->f[1], &s[n + 1]);
			if (r2 < -1) { n += 2; r = r2; goto fail; }
			if (r != r2) {
				const fq_t *shorter = r == -1 ? &p->f[0] : &p->f[1];
				sq_log_error("mate files differ in length: '%s' ends after %lld records, its mate has more",
				             shorter->path, (long long)shorter->n_rec);
				n += 2;
				r = SQ_EINPUT;
				goto fail;
			}
			if (r == -1) break;
			if (strcmp(s[n].name, s[n + 1].name) != 0) {
				sq_log_error("mates out of step at pair %lld: '%s' in %s vs '%s' in %s", (long long)p->n_pairs + 1,
				             s[n].name, p->f[0].path, s[n + 1].name, p->f[1].path);
				n += 2;
				r = SQ_EINPUT;
				goto fail;
			}
			bases += s[n].l_seq + s[n + 1].l_seq;
			n += 2;
			++p->n_pairs;
		} else {
			if (r == -1) break;
			bases += s[n].l_seq;
			++n;
		}
	}
	if (n == 0) { free(s); return -1; }
	*seqs_ = s; *n_ = n;
	return 0;
fail:
	/* free what was read, including the partial record(s) at n-1 / n-2 */
	for (int i = 0; i < n; ++i) { free(s[i].name); free(s[i].seq); free(s[i].qual); }
	free(s);
	return r;
}

void sq_fqp_close(sq_fqp_t *p)
{
	if (!p) return;
	for (int i = 0; i < 2; ++i) {
		if (p->f[i].fp) gzclose(p->f[i].fp);
		free(p->f[i].buf); free(p->f[i].line);
	}
	free(p);
}
