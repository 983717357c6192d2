/* seqa — validating FASTA reader (plain, gzip, bgzip) over htslib BGZF; see seqa/ref.h. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <stdlib.h>
#include <htslib/bgzf.h>
#include <htslib/kstring.h>
#include <htslib/khash.h>
#include "seqa/ref.h"
#include "seqa/log.h"
#include "seqa/util.h"

KHASH_SET_INIT_STR(sq_nameset)

struct sq_fa_s {
	BGZF *fp;
	char *path;
	int64_t lineno;      /* 1-based number of the line in `line` */
	int have_hdr;        /* `line` holds the next record's header */
	int done, n_rec, comp, crlf;
	kstring_t line, name, comment, seq;
	khash_t(sq_nameset) *names;
};

/* IUPAC nucleotide codes (both cases), gap '-' and '*': a table, as this runs once per base */
static unsigned char sq_fa_ok[256];
static void sq_fa_init_table(void)
{
	static const char ok[] = "ACGTUNRYKMSWBDHVacgtunrykmswbdhv-*";
	for (const char *p = ok; *p; ++p) sq_fa_ok[(unsigned char)*p] = 1;
}
static inline int sq_fa_valid(unsigned char c) { return sq_fa_ok[c]; }

sq_fa_t *sq_fa_open(const char *path)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_fa_init_table);
	sq_fa_t *fa = sq_calloc(1, sizeof *fa);
	if (!fa) return 0;
	fa->path = sq_strdup(path);
	fa->names = kh_init(sq_nameset);
	if (!fa->path || !fa->names) goto fail;
	errno = 0;
	if (!sq_file_readable(path)) {
		sq_log_error("cannot open reference '%s': %s", path, errno ? strerror(errno) : "not a readable file");
		goto fail;
	}
	fa->fp = bgzf_open(path, "r");
	if (!fa->fp) {
		sq_log_error("cannot open reference '%s': %s", path, strerror(errno));
		goto fail;
	}
	fa->comp = bgzf_compression(fa->fp);
	return fa;
fail:
	sq_fa_close(fa);
	return 0;
}

int sq_fa_compression(const sq_fa_t *fa) { return fa->comp; }

/* next line into fa->line: 0, -1 EOF, SQ_EIO (logged) */
static int sq_fa_getline(sq_fa_t *fa)
{
	fa->line.l = 0;
	int64_t u0 = bgzf_utell(fa->fp);
	int r = bgzf_getline(fa->fp, '\n', &fa->line);
	if (r == -1) return -1;
	/* htslib drops a '\r' before '\n' silently, but bwa would index it as a base: detect it from
	 * the bytes consumed */
	if (r >= 0 && bgzf_utell(fa->fp) - u0 == (int64_t)fa->line.l + 2) fa->crlf = 1;
	if (r < -1) {
		sq_log_error("%s: read error after line %lld (truncated or corrupt compressed file?)",
		             fa->path, (long long)fa->lineno);
		return SQ_EIO;
	}
	++fa->lineno;
	return 0;
}

int sq_fa_next(sq_fa_t *fa, sq_fa_rec_t *rec)
{
	int r;
	if (fa->done) return -1;
	if (!fa->have_hdr) { /* first record: skip leading empty lines */
		while ((r = sq_fa_getline(fa)) == 0 && fa->line.l == 0) {}
		if (r == -1) {
			fa->done = 1;
			sq_log_error("%s: no sequences (empty file or not FASTA)", fa->path);
			return SQ_EINPUT;
		}
		if (r < -1) return r;
		if (fa->line.s[0] != '>') {
			sq_log_error("%s:%lld: expected a '>' header line, found '%.20s' (not a FASTA file?)",
			             fa->path, (long long)fa->lineno, fa->line.s);
			return SQ_EINPUT;
		}
	}
	/* parse the header in fa->line */
	{
		char *p = fa->line.s + 1, *q;
		int64_t hdr_line = fa->lineno;
		if (fa->crlf || (fa->line.l && fa->line.s[fa->line.l - 1] == '\r')) {
			sq_log_error("%s:%lld: Windows (CRLF) line endings; convert with dos2unix", fa->path, (long long)hdr_line);
			return SQ_EINPUT;
		}
		for (q = p; *q && *q != ' ' && *q != '\t'; ++q) {}
		if (q == p) {
			sq_log_error("%s:%lld: empty sequence name after '>'", fa->path, (long long)hdr_line);
			return SQ_EINPUT;
		}
		fa->name.l = fa->comment.l = 0;
		kputsn(p, q - p, &fa->name);
		while (*q == ' ' || *q == '\t') ++q;
		kputs(q, &fa->comment);
		if (!fa->comment.s) kputs("", &fa->comment);
		int absent;
		char *key = strdup(fa->name.s);
		if (!key) return SQ_ENOMEM;
		kh_put(sq_nameset, fa->names, key, &absent);
		if (!absent) {
			free(key);
			sq_log_error("%s:%lld: duplicate sequence name '%s'", fa->path, (long long)hdr_line, fa->name.s);
			return SQ_EINPUT;
		}
	}
	/* sequence lines up to the next header */
	fa->seq.l = 0;
	fa->have_hdr = 0;
	size_t width = 0;   /* length of the record's first sequence line */
	int short_seen = 0; /* a line shorter than width (must be the last of the record) */
	while ((r = sq_fa_getline(fa)) == 0) {
		if (fa->line.l && fa->line.s[0] == '>') { fa->have_hdr = 1; break; }
		if (fa->crlf) {
			sq_log_error("%s:%lld: Windows (CRLF) line endings; convert with dos2unix", fa->path, (long long)fa->lineno);
			return SQ_EINPUT;
		}
		/* samtools faidx needs equal line lengths within a record (the last may be shorter) */
		if (width == 0) width = fa->line.l;
		else if (fa->line.l > width || (short_seen && fa->line.l > 0)) {
			if (short_seen)
				sq_log_error("%s:%lld: sequence line after a shorter one inside '%s' (samtools faidx needs "
				             "equal line lengths; rewrap, e.g. 'seqtk seq -l 60')", fa->path, (long long)fa->lineno, fa->name.s);
			else
				sq_log_error("%s:%lld: line of %zu bases longer than the %zu of the first line of '%s' (samtools "
				             "faidx needs equal line lengths; rewrap, e.g. 'seqtk seq -l 60')",
				             fa->path, (long long)fa->lineno, fa->line.l, width, fa->name.s);
			return SQ_EINPUT;
		}
		if (fa->line.l < width) short_seen = 1;
		for (size_t i = 0; i < fa->line.l; ++i) {
			unsigned char c = (unsigned char)fa->line.s[i];
			if (!sq_fa_valid(c)) {
				if (c == '\r')
					sq_log_error("%s:%lld: Windows (CRLF) line endings; convert with dos2unix",
					             fa->path, (long long)fa->lineno);
				else if (c >= 33 && c < 127)
					sq_log_error("%s:%lld: invalid sequence character '%c' in '%s' (IUPAC nucleotide codes only)",
					             fa->path, (long long)fa->lineno, c, fa->name.s);
				else
					sq_log_error("%s:%lld: invalid byte 0x%02x in sequence '%s' (binary file or bad encoding?)",
					             fa->path, (long long)fa->lineno, c, fa->name.s);
				return SQ_EINPUT;
			}
		}
		if (kputsn(fa->line.s, fa->line.l, &fa->seq) < 0) return SQ_ENOMEM;
	}
	if (r < -1) return r;
	if (r == -1) fa->done = 1;
	if (!fa->seq.s) kputs("", &fa->seq);
	fa->n_rec++;
	rec->name = fa->name.s;
	rec->comment = fa->comment.s;
	rec->seq = fa->seq.s;
	rec->len = (int64_t)fa->seq.l;
	return 0;
}

void sq_fa_close(sq_fa_t *fa)
{
	if (!fa) return;
	if (fa->fp) bgzf_close(fa->fp);
	if (fa->names) {
		for (khint_t k = kh_begin(fa->names); k != kh_end(fa->names); ++k)
			if (kh_exist(fa->names, k)) free((char *)kh_key(fa->names, k));
		kh_destroy(sq_nameset, fa->names);
	}
	free(fa->line.s), free(fa->name.s), free(fa->comment.s), free(fa->seq.s);
	free(fa->path);
	free(fa);
}
