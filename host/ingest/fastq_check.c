/* seqa — paired FASTQ(.gz) validation.
 *
 * Each file is read once, in large blocks: the raw bytes go to SHA-256 (provenance) and, when
 * they start with the gzip magic, through zlib inflate (every member of a multi-member or BGZF
 * file); a stream that ends before its last member is complete is reported as truncated, never
 * taken as a clean end of file.  Records are parsed strictly (4 lines: @name, SEQ, +, QUAL;
 * CR before LF accepted) and R1/R2 are read in lock-step so that mate names are compared record
 * by record without holding the files in memory.  One sample per worker thread (sq_for): the
 * results of a sample never depend on the thread count.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "seqa/hash.h"
#include "seqa/ingest.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"
#include "ingest_internal.h"

#define FQ_IN_SIZE   (1 << 20)         /* raw read block */
#define FQ_MAX_LINE  ((size_t)1 << 28) /* longest line accepted (256 MiB) */

void sq_fq_opt_init(sq_fq_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->n_threads = 1;
	o->max_errors = 10;
	o->buf_size = 4 << 20;
}

int sq_fq_opt_check(const sq_fq_opt_t *o)
{
	if (o->n_threads < 1 || o->n_threads > 1024) { sq_log_error("threads must be in 1..1024 (got %d)", o->n_threads); return SQ_EINVAL; }
	if (o->max_errors < 1) { sq_log_error("max_errors must be >= 1 (got %d)", o->max_errors); return SQ_EINVAL; }
	if (o->buf_size < 4096) { sq_log_error("buffer size must be >= 4096 (got %zu)", o->buf_size); return SQ_EINVAL; }
	return 0;
}

/* ---- base classes ------------------------------------------------------------------------ */

/* 0: A C G T N (any case); 1: other IUPAC code; 2: anything else */
static unsigned char base_class[256];
static pthread_once_t base_class_once = PTHREAD_ONCE_INIT; /* batches may be validated concurrently */

static void base_class_init(void)
{
	static const char iupac[] = "RYKMSWBDHVU";
	memset(base_class, 2, sizeof base_class);
	for (const char *p = "ACGTN"; *p; ++p) base_class[(unsigned char)*p] = base_class[(unsigned char)(*p + 32)] = 0;
	for (const char *p = iupac; *p; ++p) base_class[(unsigned char)*p] = base_class[(unsigned char)(*p + 32)] = 1;
}

/* ---- one input stream ------------------------------------------------------------------- */

typedef struct {
	sq_fq_sample_t *s;
	sq_fq_file_t *f;
	int role;         /* 1: R1, 2: R2 */
	int max_errors;
	int fd;
	sq_hash_t *sha;
	int gz, z_init, z_end, raw_eof;
	z_stream zs;
	unsigned char *in;
	char *buf;
	size_t cap, beg, end, scan;
	int eof;          /* no more decompressed bytes */
	int dead;         /* a stream error was reported: stop parsing */
	int pend_code;    /* stream error waiting for a record number */
	char pend_msg[256];
	int64_t line;     /* lines consumed */
	int64_t n_crlf;
	int64_t hi_rec, hi_line; /* first record with a quality above 'K' (phred+64 evidence) */
	uint64_t out_bytes;
	/* problems of this file (merged into the sample at the end: no sharing between threads) */
	sq_fq_err_t *err;
	int n_err, m_err;
	/* current record */
	char *name;
	size_t name_len, name_cap;
	int64_t rec_line;
} fq_in_t;

/* Report a problem of this file; stored up to max_errors per code, counted always. */
static void fq_report(fq_in_t *r, int code, int64_t record, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fq_report(fq_in_t *r, int code, int64_t record, int64_t line, const char *fmt, ...)
{
	if (++r->f->n_errors[code] > r->max_errors) return;
	va_list ap;
	va_start(ap, fmt);
	sq_fq_err_vadd(&r->err, &r->n_err, &r->m_err, code, r->f->path, record, line, fmt, ap);
	va_end(ap);
}

static ssize_t raw_read(fq_in_t *r, unsigned char *dst, size_t n)
{
	ssize_t k;
	do k = read(r->fd, dst, n); while (k < 0 && errno == EINTR);
	if (k < 0) return -1;
	if (k == 0) r->raw_eof = 1;
	sq_hash_update(r->sha, dst, (size_t)k);
	r->f->bytes += (uint64_t)k;
	return k;
}

static void stream_error(fq_in_t *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void stream_error(fq_in_t *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->pend_msg, sizeof r->pend_msg, fmt, ap);
	va_end(ap);
	r->pend_code = code;
	r->dead = 1;
	r->eof = 1;
}

/* Append decompressed bytes at buf+end.  >0 bytes added, 0 at a clean end, <0 on error (the
 * error is pending in r->pend_*). */
static ssize_t fq_fill(fq_in_t *r)
{
	if (r->eof) return 0;
	if (!r->gz) {
		ssize_t k = raw_read(r, (unsigned char *)r->buf + r->end, r->cap - r->end);
		if (k < 0) { stream_error(r, SQ_FQ_FILE_UNREADABLE, "read error: %s", strerror(errno)); return -1; }
		if (k == 0) { r->eof = 1; return 0; }
		r->end += (size_t)k, r->out_bytes += (uint64_t)k;
		return k;
	}
	for (;;) {
		if (r->zs.avail_in == 0 && !r->raw_eof) {
			ssize_t k = raw_read(r, r->in, FQ_IN_SIZE);
			if (k < 0) { stream_error(r, SQ_FQ_FILE_UNREADABLE, "read error: %s", strerror(errno)); return -1; }
			r->zs.next_in = r->in, r->zs.avail_in = (uInt)k;
		}
		if (r->z_end) { /* between members: another member, or the end */
			if (r->zs.avail_in == 0 && r->raw_eof) { r->eof = 1; return 0; }
			if (r->zs.avail_in == 1 && !r->raw_eof) {
				r->in[0] = r->zs.next_in[0];
				ssize_t k = raw_read(r, r->in + 1, FQ_IN_SIZE - 1);
				if (k < 0) { stream_error(r, SQ_FQ_FILE_UNREADABLE, "read error: %s", strerror(errno)); return -1; }
				r->zs.next_in = r->in, r->zs.avail_in = 1 + (uInt)k;
				continue;
			}
			if (r->zs.avail_in < 2 || r->zs.next_in[0] != 0x1f || r->zs.next_in[1] != 0x8b) {
				stream_error(r, SQ_FQ_GZIP_CORRUPT, "non-gzip data after the end of the gzip stream (at compressed byte %llu)",
				             (unsigned long long)(r->zs.total_in));
				return -1;
			}
			inflateReset(&r->zs);
			r->z_end = 0;
		}
		r->zs.next_out = (Bytef *)r->buf + r->end;
		r->zs.avail_out = (uInt)(r->cap - r->end);
		int ret = inflate(&r->zs, Z_NO_FLUSH);
		size_t got = (r->cap - r->end) - r->zs.avail_out;
		r->end += got, r->out_bytes += got;
		if (ret == Z_STREAM_END) {
			r->z_end = 1;
			if (got) return (ssize_t)got;
			continue;
		}
		if (ret == Z_OK) {
			if (got) return (ssize_t)got;
			continue;
		}
		if (ret == Z_BUF_ERROR && r->zs.avail_in == 0 && r->raw_eof) {
			stream_error(r, SQ_FQ_GZIP_TRUNCATED, "gzip stream ends unexpectedly after %llu compressed bytes (%llu bytes decompressed): the file is truncated",
			             (unsigned long long)r->f->bytes, (unsigned long long)r->out_bytes);
			return -1;
		}
		if (ret == Z_BUF_ERROR) continue;
		stream_error(r, SQ_FQ_GZIP_CORRUPT, "gzip data error after %llu decompressed bytes: %s",
		             (unsigned long long)r->out_bytes, r->zs.msg ? r->zs.msg : "corrupt data");
		return -1;
	}
}

/* Next line (without LF and CR).  0, -1 at the end, < -1 on a stream error (pending). */
static int fq_getline(fq_in_t *r, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		size_t n;
		if (nl || (r->eof && !r->pend_code && r->beg < r->end)) {
			*line = r->buf + r->beg;
			n = nl ? (size_t)(nl - *line) : r->end - r->beg;
			r->beg = r->scan = nl ? (size_t)(nl - r->buf) + 1 : r->end;
			if (n > 0 && (*line)[n - 1] == '\r') --n, ++r->n_crlf;
			(*line)[n] = 0; /* the LF (or spare byte) becomes NUL */
			*len = n;
			++r->line;
			return 0;
		}
		if (r->eof) return r->pend_code ? -2 : -1;
		if (r->beg > 0) {
			memmove(r->buf, r->buf + r->beg, r->end - r->beg);
			r->end -= r->beg, r->beg = 0;
		}
		r->scan = r->end;
		if (r->end + 1 >= r->cap) { /* keep one spare byte for the NUL of a last line */
			if (r->cap >= FQ_MAX_LINE) {
				stream_error(r, SQ_FQ_HEADER, "line %lld is longer than %zu bytes", (long long)r->line + 1, FQ_MAX_LINE);
				return -2;
			}
			char *nb = sq_realloc(r->buf, r->cap * 2);
			if (!nb) { stream_error(r, SQ_FQ_FILE_UNREADABLE, "out of memory"); return -2; }
			r->buf = nb, r->cap *= 2;
		}
		{
			size_t keep = r->cap;
			r->cap -= 1; /* fill at most cap-1 so a final unterminated line can be NUL-terminated */
			ssize_t k = fq_fill(r);
			r->cap = keep;
			if (k < 0) return -2;
		}
	}
}

static int fq_open(fq_in_t *r, sq_fq_sample_t *s, sq_fq_file_t *f, const sq_fq_opt_t *opt)
{
	int role = r->role;
	memset(r, 0, sizeof *r);
	r->role = role;
	r->s = s, r->f = f, r->max_errors = opt->max_errors, r->fd = -1;
	f->bytes = 0;
	if ((r->fd = open(f->path, O_RDONLY)) < 0) {
		sq_fq_sample_err(s, errno == ENOENT ? SQ_FQ_FILE_MISSING : SQ_FQ_FILE_UNREADABLE, f->path, 0, 0,
		                 "cannot open: %s", strerror(errno));
		return SQ_EIO;
	}
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	r->cap = opt->buf_size;
	r->in = sq_malloc(FQ_IN_SIZE);
	r->buf = sq_malloc(r->cap);
	r->sha = sq_hash_init("sha256");
	r->name_cap = 256;
	r->name = sq_malloc(r->name_cap);
	if (!r->in || !r->buf || !r->sha || !r->name) return SQ_ENOMEM;
	/* sniff the gzip magic from the first block */
	ssize_t k = raw_read(r, r->in, r->cap - 1 < FQ_IN_SIZE ? r->cap - 1 : FQ_IN_SIZE);
	if (k < 0) {
		sq_fq_sample_err(s, SQ_FQ_FILE_UNREADABLE, f->path, 0, 0, "read error: %s", strerror(errno));
		return SQ_EIO;
	}
	if (k >= 1 && r->in[0] == 0x1f && (k == 1 || r->in[1] == 0x8b)) { /* 1 byte: a cut gzip */
		r->gz = 1;
		if (inflateInit2(&r->zs, 15 + 16) != Z_OK) return SQ_ENOMEM;
		r->z_init = 1;
		r->zs.next_in = r->in, r->zs.avail_in = (uInt)k;
	} else if (k > 0) {
		memcpy(r->buf, r->in, (size_t)k); /* k <= cap - 1 */
		r->end = (size_t)k;
		r->out_bytes = (uint64_t)k;
	}
	f->gzip = r->gz;
	return 0;
}

/* Finish: drain what was not read (so the SHA-256 covers the whole file), set stats, free. */
static void fq_close(fq_in_t *r, int ok)
{
	if (r->fd >= 0) {
		if (ok && r->sha) {
			while (!r->raw_eof) if (raw_read(r, r->in, FQ_IN_SIZE) < 0) break;
			sq_hash_final(r->sha, r->f->sha256);
			r->f->checked = 1;
		} else if (r->sha) {
			char junk[65];
			sq_hash_final(r->sha, junk);
		}
		close(r->fd);
	} else if (r->sha) {
		char junk[65];
		sq_hash_final(r->sha, junk);
	}
	if (r->z_init) inflateEnd(&r->zs);
	free(r->in), free(r->buf), free(r->name);
	/* move this file's problems into its sample, counting every one found */
	for (int i = 0; i < r->n_err; ++i) {
		sq_fq_sample_t *s = r->s;
		if (s->n_err == s->m_err) {
			int nm = s->m_err ? s->m_err * 2 : 8;
			sq_fq_err_t *na = sq_realloc(s->err, (size_t)nm * sizeof *na);
			if (!na) { free(r->err[i].file), free(r->err[i].message); continue; }
			s->err = na, s->m_err = nm;
		}
		s->err[s->n_err++] = r->err[i];
	}
	free(r->err);
	r->err = 0, r->n_err = 0;
	for (int c = 0; c < SQ_FQ_N_CODES; ++c) {
		if (sq_fq_code_is_warning(c)) r->s->n_warnings += r->f->n_errors[c];
		else r->s->n_errors += r->f->n_errors[c];
	}
}

/* Read number (1 or 2) told by a name's /1 /2 suffix or an Illumina comment "1:N:0:..."; 0 when
 * neither is there.  h is the header after '@' (len bytes), its name part name_len bytes. */
static int read_number(const char *h, size_t name_len, size_t len)
{
	if (name_len >= 2 && h[name_len - 2] == '/' && (h[name_len - 1] == '1' || h[name_len - 1] == '2'))
		return h[name_len - 1] - '0';
	if (len >= name_len + 5) {
		const char *c = h + name_len + 1;
		if ((c[0] == '1' || c[0] == '2') && c[1] == ':' && (c[2] == 'N' || c[2] == 'Y') && c[3] == ':') return c[0] - '0';
	}
	return 0;
}

static int set_name(fq_in_t *r, const char *s, size_t n)
{
	if (n + 1 > r->name_cap) {
		size_t nc = (n + 1) * 2;
		char *nn = sq_realloc(r->name, nc);
		if (!nn) return SQ_ENOMEM;
		r->name = nn, r->name_cap = nc;
	}
	memcpy(r->name, s, n);
	r->name[n] = 0;
	r->name_len = n;
	return 0;
}

/* 1 if every byte is A C G T N in either case.  SSE2 (x86-64 baseline) 16 bytes at a time. */
static int seq_all_acgtn(const unsigned char *s, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i lc = _mm_set1_epi8(0x20), A = _mm_set1_epi8('a'), C = _mm_set1_epi8('c'),
	              G = _mm_set1_epi8('g'), T = _mm_set1_epi8('t'), N = _mm_set1_epi8('n');
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_or_si128(_mm_loadu_si128((const __m128i *)(s + i)), lc);
		__m128i ok = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, A), _mm_cmpeq_epi8(v, C)),
		                          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, G), _mm_cmpeq_epi8(v, T)), _mm_cmpeq_epi8(v, N)));
		if (_mm_movemask_epi8(ok) != 0xFFFF) return 0;
	}
#endif
	for (; i < n; ++i) if (base_class[s[i]] != 0) return 0;
	return 1;
}

/* Smallest and largest byte of s[0..n) (255 and 0 when n == 0). */
static void qual_minmax(const unsigned char *s, size_t n, unsigned char *lo_, unsigned char *hi_)
{
	unsigned char lo = 255, hi = 0;
	size_t i = 0;
#ifdef __SSE2__
	if (n >= 16) {
		__m128i vlo = _mm_set1_epi8((char)0xFF), vhi = _mm_setzero_si128();
		unsigned char b[16];
		for (; i + 16 <= n; i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
			vlo = _mm_min_epu8(vlo, v), vhi = _mm_max_epu8(vhi, v);
		}
		_mm_storeu_si128((__m128i *)b, vlo);
		for (int k = 0; k < 16; ++k) lo = b[k] < lo ? b[k] : lo;
		_mm_storeu_si128((__m128i *)b, vhi);
		for (int k = 0; k < 16; ++k) hi = b[k] > hi ? b[k] : hi;
	}
#endif
	for (; i < n; ++i) {
		lo = s[i] < lo ? s[i] : lo;
		hi = s[i] > hi ? s[i] : hi;
	}
	*lo_ = lo, *hi_ = hi;
}

static unsigned char seq_classes(const char *s, size_t n)
{
	unsigned char acc = 0;
	for (size_t i = 0; i < n; ++i) acc |= base_class[(unsigned char)s[i]];
	return acc;
}

static void first_bad(const char *s, size_t n, int want, size_t *pos)
{
	for (size_t i = 0; i < n; ++i)
		if (base_class[(unsigned char)s[i]] == want) { *pos = i; return; }
	*pos = 0;
}

static const char *show_char(int c, char buf[16])
{
	if (c > 32 && c < 127) snprintf(buf, 16, "'%c'", c);
	else snprintf(buf, 16, "byte %d", c);
	return buf;
}

/* Parse one record.  0: a record (possibly with problems reported), -1: clean end, -2: the file
 * cannot be read further (problem reported). */
static int fq_next(fq_in_t *r)
{
	char *l, cb[16];
	size_t n, seq_len = 0, pos;
	int ret;
	int64_t rec = r->f->reads + 1;
	/* line 1: @name; blank lines are allowed only at the end of the file */
	int64_t blank_at = 0;
	for (;;) {
		if ((ret = fq_getline(r, &l, &n)) < 0) goto eof;
		if (n > 0) break;
		if (!blank_at) blank_at = r->line;
	}
	if (blank_at)
		fq_report(r, SQ_FQ_HEADER, rec, blank_at, "empty line where a record header '@name' was expected");
	r->rec_line = r->line;
	if (l[0] != '@') {
		fq_report(r, SQ_FQ_HEADER, rec, r->line, "record header starts with %s instead of '@': '%.40s'", show_char((unsigned char)l[0], cb), l);
		set_name(r, l, strcspn(l, " \t"));
	} else {
		size_t nl = strcspn(l + 1, " \t");
		if (nl == 0) fq_report(r, SQ_FQ_HEADER, rec, r->line, "empty read name after '@'");
		if (set_name(r, l + 1, nl) < 0) return -2;
		int rn = read_number(l + 1, nl, n - 1);
		if (rn && rn != r->role)
			fq_report(r, SQ_FQ_MATE_ORDER, rec, r->line, "record of the R%d file is read %d ('%.60s')", r->role, rn, l);
	}
	/* line 2: SEQ */
	if ((ret = fq_getline(r, &l, &n)) < 0) goto trunc;
	{
		unsigned char acc = seq_all_acgtn((const unsigned char *)l, n) ? 0 : seq_classes(l, n);
		if (acc & 2) {
			first_bad(l, n, 2, &pos);
			fq_report(r, SQ_FQ_BASE, rec, r->line, "invalid base %s at position %zu of the sequence", show_char((unsigned char)l[pos], cb), pos + 1);
		} else if (acc & 1) {
			first_bad(l, n, 1, &pos);
			fq_report(r, SQ_FQ_IUPAC, rec, r->line, "IUPAC ambiguity code '%c' at position %zu of the sequence (only A, C, G, T, N accepted)", l[pos], pos + 1);
		}
		seq_len = n;
	}
	/* line 3: + */
	if ((ret = fq_getline(r, &l, &n)) < 0) goto trunc;
	if (l[0] != '+')
		fq_report(r, SQ_FQ_SEPARATOR, rec, r->line, "separator line starts with %s instead of '+': '%.40s'", n ? show_char((unsigned char)l[0], cb) : "nothing", l);
	/* line 4: QUAL */
	if ((ret = fq_getline(r, &l, &n)) < 0) goto trunc;
	if (n != seq_len)
		fq_report(r, SQ_FQ_LENGTH, rec, r->line, "sequence has %zu bases but quality has %zu characters", seq_len, n);
	{
		unsigned char lo, hi;
		qual_minmax((const unsigned char *)l, n, &lo, &hi);
		if (n && (lo < '!' || hi > '~')) {
			size_t i = 0;
			while (i < n && (unsigned char)l[i] >= '!' && (unsigned char)l[i] <= '~') ++i;
			fq_report(r, SQ_FQ_QUAL_RANGE, rec, r->line, "quality %s at position %zu is %s (phred+33 range is '!'..'~')",
			          show_char((unsigned char)l[i], cb), i + 1, (unsigned char)l[i] < '!' ? "below '!'" : "above '~'");
		}
		if (hi > 'K' && !r->hi_rec) r->hi_rec = rec, r->hi_line = r->line;
		if (n) {
			if (!r->f->max_qual || lo < r->f->min_qual) r->f->min_qual = lo;
			if (hi > r->f->max_qual) r->f->max_qual = hi;
		}
	}
	r->f->reads++;
	r->f->bases += (int64_t)seq_len;
	if (r->f->reads == 1 || (int64_t)seq_len < r->f->min_len) r->f->min_len = (int64_t)seq_len;
	if ((int64_t)seq_len > r->f->max_len) r->f->max_len = (int64_t)seq_len;
	return 0;
eof:
	if (ret == -1) return -1;
	fq_report(r, r->pend_code, rec, r->line + 1, "%s", r->pend_msg);
	return -2;
trunc:
	if (ret == -1) {
		fq_report(r, SQ_FQ_TRUNCATED, rec, r->line, "file ends inside record %lld after %lld of its 4 lines",
		          (long long)rec, (long long)(r->line - r->rec_line + 1));
		return -2;
	}
	fq_report(r, r->pend_code, rec, r->line + 1, "%s", r->pend_msg);
	return -2;
}

/* Name without a trailing /1 or /2. */
static size_t mate_len(const char *s, size_t n)
{
	return n >= 2 && s[n - 2] == '/' && (s[n - 1] == '1' || s[n - 1] == '2') ? n - 2 : n;
}

static void end_checks(fq_in_t *r)
{
	sq_fq_file_t *f = r->f;
	if (f->bytes == 0)
		fq_report(r, SQ_FQ_EMPTY, 0, 0, "file is empty (0 bytes)");
	else if (r->out_bytes == 0 && !r->pend_code)
		fq_report(r, SQ_FQ_EMPTY, 0, 0, "file decompresses to 0 bytes: no reads");
	else if (f->reads == 0 && !r->pend_code && f->n_errors[SQ_FQ_TRUNCATED] == 0)
		fq_report(r, SQ_FQ_EMPTY, 0, 0, "file holds no FASTQ record");
	/* phred+64: nothing below '@' (Q31 in phred+33) and characters above 'K' (Q42) */
	if (f->max_qual && f->min_qual >= '@' && f->max_qual > 'K')
		fq_report(r, SQ_FQ_PHRED64, r->hi_rec, r->hi_line, "qualities span '%c'..'%c' (ASCII %d..%d), none below '@': this looks like phred+64, seqa needs phred+33",
		          f->min_qual, f->max_qual, f->min_qual, f->max_qual);
	if (r->n_crlf)
		fq_report(r, SQ_FQ_CRLF, 0, 0, "%lld lines end with CR LF (Windows line endings); accepted", (long long)r->n_crlf);
}

/* ---- per sample ------------------------------------------------------------------------- */

/* R1 and R2 are parsed in chunks of FQ_CHUNK records, each file by its own thread when the
 * sample has two, then the chunk's mate names are compared.  Chunk boundaries and every report
 * are the same with one thread or two, so results never depend on the thread count. */
#define FQ_CHUNK 4096

typedef struct {
	fq_in_t in;
	int live;             /* still parsing */
	int n;                /* records in the current chunk */
	char *names;          /* their mate names (no /1 /2), NUL-separated */
	size_t names_len, names_cap;
	size_t off[FQ_CHUNK];
	int64_t line[FQ_CHUNK]; /* line of each record's header */
} side_t;

typedef struct {
	side_t side[2];
	int paired;
	pthread_barrier_t bar;
} pair_t;

static void side_chunk(side_t *sd, int keep_names)
{
	sd->n = 0, sd->names_len = 0;
	while (sd->live && sd->n < FQ_CHUNK) {
		if (fq_next(&sd->in) != 0) { sd->live = 0; break; }
		if (!keep_names) continue;
		size_t l = mate_len(sd->in.name, sd->in.name_len);
		if (sd->names_len + l + 1 > sd->names_cap) {
			size_t nc = (sd->names_len + l + 1) * 2;
			char *nn = sq_realloc(sd->names, nc);
			if (!nn) { sd->live = 0; break; }
			sd->names = nn, sd->names_cap = nc;
		}
		sd->line[sd->n] = sd->in.rec_line;
		sd->off[sd->n++] = sd->names_len;
		memcpy(sd->names + sd->names_len, sd->in.name, l);
		sd->names[sd->names_len + l] = 0;
		sd->names_len += l + 1;
	}
}

/* Compare the mate names of the current chunks; problems go to R2's list. */
static void compare_chunk(pair_t *p)
{
	side_t *a = &p->side[0], *b = &p->side[1];
	int n = a->n < b->n ? a->n : b->n;
	for (int i = 0; i < n; ++i) {
		const char *x = a->names + a->off[i], *y = b->names + b->off[i];
		if (strcmp(x, y) != 0) {
			int64_t rec = b->in.f->reads - b->n + i + 1;
			fq_report(&b->in, SQ_FQ_MATE_NAME, rec, b->line[i], "mate names differ at record %lld: R1 '%.100s' vs R2 '%.100s' (/1 /2 and comments ignored)",
			          (long long)rec, x, y);
		}
	}
}

static void *side_thread(void *arg)
{
	pair_t *p = arg;
	for (;;) {
		side_chunk(&p->side[1], 1);
		pthread_barrier_wait(&p->bar);
		int done = !p->side[0].live && !p->side[1].live;
		compare_chunk(p);
		pthread_barrier_wait(&p->bar);
		if (done) break;
	}
	return 0;
}

typedef struct {
	sq_fq_batch_t *b;
	const sq_fq_opt_t *opt;
	unsigned char *use;   /* use[2*i+k]: 1 if file k of sample i is to be read */
	int two_threads;      /* each sample may use a second thread for R2 */
	volatile int oom;     /* a sample could not be validated (out of memory): the batch fails */
} val_ctx_t;

static void validate_sample(void *data, int64_t i, int tid)
{
	val_ctx_t *c = data;
	sq_fq_sample_t *s = &c->b->samples[i];
	pair_t *p = sq_calloc(1, sizeof *p);
	int open_ok[2] = { 0, 0 }, threaded = 0;
	pthread_t th;
	(void)tid;
	if (!p) { sq_log_error("out of memory validating sample %s", s->id); c->oom = 1; return; }
	for (int k = 0; k < 2; ++k) {
		p->side[k].in.fd = -1;
		if (!c->use[2 * i + k]) continue;
		p->side[k].in.role = k + 1;
		int r = fq_open(&p->side[k].in, s, &s->files[k], c->opt);
		open_ok[k] = p->side[k].live = r == 0;
		if (r == SQ_ENOMEM) { sq_log_error("out of memory validating sample %s", s->id); c->oom = 1; }
	}
	p->paired = open_ok[0] && open_ok[1];
	if (p->paired && c->two_threads && pthread_barrier_init(&p->bar, 0, 2) == 0) {
		if (pthread_create(&th, 0, side_thread, p) == 0) threaded = 1;
		else pthread_barrier_destroy(&p->bar);
	}
	if (threaded) {
		for (;;) {
			side_chunk(&p->side[0], 1);
			pthread_barrier_wait(&p->bar);
			int done = !p->side[0].live && !p->side[1].live;
			pthread_barrier_wait(&p->bar);
			if (done) break;
		}
		pthread_join(th, 0);
		pthread_barrier_destroy(&p->bar);
	} else {
		while (p->side[0].live || p->side[1].live) {
			side_chunk(&p->side[0], p->paired);
			side_chunk(&p->side[1], p->paired);
			if (p->paired) compare_chunk(p);
		}
	}
	fq_in_t *r1 = &p->side[0].in, *r2 = &p->side[1].in;
	for (int k = 0; k < 2; ++k) if (open_ok[k]) end_checks(&p->side[k].in);
	if (p->paired && r1->f->reads != r2->f->reads && !r1->dead && !r2->dead) {
		/* reported in the longer file, at its first read without a mate */
		fq_in_t *lg = r1->f->reads > r2->f->reads ? r1 : r2, *sh = lg == r1 ? r2 : r1;
		fq_report(lg, SQ_FQ_MATE_COUNT, sh->f->reads + 1, 0, "R1 has %lld reads but R2 has %lld: read %lld of R%d has no mate",
		          (long long)r1->f->reads, (long long)r2->f->reads, (long long)sh->f->reads + 1, lg->role);
	}
	for (int k = 0; k < 2; ++k) {
		if (c->use[2 * i + k]) fq_close(&p->side[k].in, open_ok[k]);
		if (c->use[2 * i + k] && open_ok[k] && !s->files[k].sha256[0]) {   /* the digest failed (out of memory) */
			sq_log_error("out of memory validating sample %s", s->id);
			c->oom = 1;
		}
		free(p->side[k].names);
	}
	free(p);
}

/* ---- batch ------------------------------------------------------------------------------ */

int sq_fq_batch_validate(sq_fq_batch_t *b, const sq_fq_opt_t *opt)
{
	val_ctx_t c = { b, opt, 0, 0, 0 };
	struct stat *st = 0;
	int ret = 0, nt;
	if (sq_fq_opt_check(opt) < 0) return SQ_EINVAL;
	if (b->validated) { sq_log_error("batch '%s' was already validated", b->path); return SQ_EINVAL; }
	pthread_once(&base_class_once, base_class_init);
	if (!(c.use = sq_calloc((size_t)b->n_samples * 2 + 1, 1)) ||
	    !(st = sq_calloc((size_t)b->n_samples * 2 + 1, sizeof *st))) { ret = SQ_ENOMEM; goto fail; }
	/* existence, same file, file listed twice: decided before reading anything */
	for (int i = 0; i < b->n_samples; ++i) {
		sq_fq_sample_t *s = &b->samples[i];
		for (int k = 0; k < 2; ++k) {
			sq_fq_file_t *f = &s->files[k];
			int j = 2 * i + k;
			if (!f->path) continue;
			if (stat(f->path, &st[j]) != 0) {
				sq_fq_sample_err(s, errno == ENOENT ? SQ_FQ_FILE_MISSING : SQ_FQ_FILE_UNREADABLE, f->path, 0, 0,
				                 "R%d file %s: %s", k + 1, errno == ENOENT ? "not found" : "cannot be read", strerror(errno));
				continue;
			}
			if (!S_ISREG(st[j].st_mode)) {
				sq_fq_sample_err(s, SQ_FQ_FILE_UNREADABLE, f->path, 0, 0, "R%d path is not a regular file", k + 1);
				continue;
			}
			if (access(f->path, R_OK) != 0) {
				sq_fq_sample_err(s, SQ_FQ_FILE_UNREADABLE, f->path, 0, 0, "R%d file cannot be read: %s", k + 1, strerror(errno));
				continue;
			}
			c.use[j] = 1;
		}
		if (c.use[2 * i] && c.use[2 * i + 1] && st[2 * i].st_dev == st[2 * i + 1].st_dev && st[2 * i].st_ino == st[2 * i + 1].st_ino) {
			sq_fq_sample_err(s, SQ_FQ_SAME_FILE, s->files[1].path, 0, 0, "R1 and R2 are the same file ('%s' and '%s')",
			                 s->files[0].given, s->files[1].given);
			c.use[2 * i + 1] = 0;
		}
		for (int k = 0; k < 2; ++k) {
			int j = 2 * i + k;
			if (!c.use[j]) continue;
			for (int q = 0; q < 2 * i; ++q)
				if (c.use[q] && st[q].st_dev == st[j].st_dev && st[q].st_ino == st[j].st_ino) {
					sq_fq_sample_err(s, SQ_FQ_FILE_REUSED, s->files[k].path, 0, 0, "R%d file is also R%d of sample '%s'",
					                 k + 1, q % 2 + 1, b->samples[q / 2].id);
					break;
				}
		}
	}
	/* with 2+ threads each sample reads R1 and R2 on two threads: n_threads/2 samples at once */
	c.two_threads = opt->n_threads >= 2;
	nt = c.two_threads ? opt->n_threads / 2 : 1;
	if (nt > b->n_samples) nt = b->n_samples;
	if (b->n_samples > 0 && (ret = sq_for(nt, validate_sample, &c, b->n_samples)) < 0) goto fail;
	if (c.oom) { ret = SQ_ENOMEM; goto fail; }   /* a sample not (fully) read must not pass */
	b->validated = 1;
fail:
	free(c.use);
	free(st);
	return ret;
}
