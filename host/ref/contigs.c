/* seqa — contig table (names, lengths, MD5s, assembly guess) and its JSON file; see seqa/ref.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/ref.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "ref_internal.h"

#define SQ_CONTIGS_FORMAT "seqa-contigs/1"

void sq_ref_destroy(sq_ref_t *r)
{
	if (!r) return;
	for (int i = 0; i < r->n; ++i) free(r->ctg[i].name);
	free(r->ctg);
	free(r->fasta);
	free(r);
}

static int sq_ref_push(sq_ref_t *r, const char *name, int64_t len, const char *md5)
{
	if ((r->n & (r->n - 1)) == 0 || r->n == 0) { /* grow at powers of two */
		int cap = r->n ? r->n * 2 : 16;
		sq_contig_t *c = sq_realloc(r->ctg, (size_t)cap * sizeof *c);
		if (!c) return SQ_ENOMEM;
		r->ctg = c;
	}
	sq_contig_t *c = &r->ctg[r->n];
	c->name = sq_strdup(name);
	if (!c->name) return SQ_ENOMEM;
	c->len = len;
	snprintf(c->md5, sizeof c->md5, "%s", md5 ? md5 : "");
	r->n++;
	r->total_len += len;
	return 0;
}

int sq_ref_find(const sq_ref_t *r, const char *name)
{
	for (int i = 0; i < r->n; ++i)
		if (strcmp(r->ctg[i].name, name) == 0) return i;
	return -1;
}

/* MD5 of the upper-cased sequence, as samtools dict / the SAM spec (M5) */
static void sq_seq_md5(const char *seq, int64_t len, char md5[33])
{
	char buf[65536];
	sq_hash_t *h = sq_hash_init("md5");
	if (!h) { md5[0] = 0; return; }
	for (int64_t i = 0; i < len;) {
		int64_t n = len - i < (int64_t)sizeof buf ? len - i : (int64_t)sizeof buf;
		for (int64_t k = 0; k < n; ++k) buf[k] = (char)toupper((unsigned char)seq[i + k]);
		sq_hash_update(h, buf, (size_t)n);
		i += n;
	}
	sq_hash_final(h, md5);
}

sq_ref_t *sq_ref_scan(const char *fasta, int with_sha256, int *err)
{
	sq_fa_t *fa = 0;
	sq_ref_t *r = sq_calloc(1, sizeof *r);
	sq_fa_rec_t rec;
	int ret = SQ_ENOMEM;
	char abs[PATH_MAX];
	if (!r) goto fail;
	fa = sq_fa_open(fasta);
	if (!fa) { ret = SQ_EIO; goto fail; }
	r->fasta = sq_strdup(realpath(fasta, abs) ? abs : fasta);
	if (!r->fasta) goto fail;
	while ((ret = sq_fa_next(fa, &rec)) == 0) {
		char md5[33];
		sq_seq_md5(rec.seq, rec.len, md5);
		if ((ret = sq_ref_push(r, rec.name, rec.len, md5)) < 0) goto fail;
	}
	if (ret < -1) goto fail;
	if (r->total_len == 0) {
		sq_log_error("%s: the sequences are empty (total length 0)", fasta);
		ret = SQ_EINPUT;
		goto fail;
	}
	if (with_sha256 && (ret = sq_sha256_file(fasta, r->sha256)) < 0) goto fail;
	sq_fa_close(fa);
	sq_ref_guess_assembly(r);
	if (err) *err = 0;
	return r;
fail:
	sq_fa_close(fa);
	sq_ref_destroy(r);
	if (err) *err = ret < -1 ? ret : SQ_EINPUT;
	return 0;
}

/* ---- assembly guess ------------------------------------------------------------------- */

typedef struct { const char *chr; int64_t b37, b38; } sq_chrlen_t;
static const sq_chrlen_t sq_chrlen[] = {
	{ "1", 249250621, 248956422 }, { "2", 243199373, 242193529 }, { "3", 198022430, 198295559 },
	{ "4", 191154276, 190214555 }, { "5", 180915260, 181538259 }, { "6", 171115067, 170805979 },
	{ "7", 159138663, 159345973 }, { "8", 146364022, 145138636 }, { "9", 141213431, 138394717 },
	{ "10", 135534747, 133797422 }, { "11", 135006516, 135086622 }, { "12", 133851895, 133275309 },
	{ "13", 115169878, 114364328 }, { "14", 107349540, 107043718 }, { "15", 102531392, 101991189 },
	{ "16", 90354753, 90338345 }, { "17", 81195210, 83257441 }, { "18", 78077248, 80373285 },
	{ "19", 59128983, 58617616 }, { "20", 63025520, 64444167 }, { "21", 48129895, 46709983 },
	{ "22", 51304566, 50818468 }, { "X", 155270560, 156040895 }, { "Y", 59373566, 57227415 },
	{ 0, 0, 0 }
};

static int sq_strcasestr_any(const char *s, const char *const *needles)
{
	for (; *needles; ++needles)
		if (strcasestr(s, *needles)) return 1;
	return 0;
}

void sq_ref_guess_assembly(sq_ref_t *r)
{
	int n37 = 0, n38 = 0, chr_prefix = 0, bare = 0;
	static const char *const h38[] = { "GRCh38", "hg38", "GCA_000001405.15", 0 };
	static const char *const h37[] = { "GRCh37", "hg19", "b37", "v37", "hs37", 0 };
	for (int i = 0; i < r->n; ++i) {
		const char *nm = r->ctg[i].name;
		int has_chr = strncmp(nm, "chr", 3) == 0;
		const char *c = has_chr ? nm + 3 : nm;
		for (const sq_chrlen_t *k = sq_chrlen; k->chr; ++k) {
			if (strcmp(c, k->chr) != 0) continue;
			if (has_chr) ++chr_prefix; else ++bare;
			if (r->ctg[i].len == k->b37) ++n37;
			if (r->ctg[i].len == k->b38) ++n38;
		}
	}
	const char *base = r->fasta ? strrchr(r->fasta, '/') : 0;
	base = base ? base + 1 : (r->fasta ? r->fasta : "");
	if (n38 > n37) {
		strcpy(r->assembly, "GRCh38"); strcpy(r->assembly_evidence, "contig lengths");
	} else if (n37 > n38) {
		strcpy(r->assembly, "GRCh37"); strcpy(r->assembly_evidence, "contig lengths");
	} else if (sq_strcasestr_any(base, h38)) {
		strcpy(r->assembly, "GRCh38"); strcpy(r->assembly_evidence, "file name");
	} else if (sq_strcasestr_any(base, h37)) {
		strcpy(r->assembly, "GRCh37"); strcpy(r->assembly_evidence, "file name");
	} else if (chr_prefix > 0 && bare == 0) { /* UCSC-style names: hg38 is the common case */
		strcpy(r->assembly, "GRCh38"); strcpy(r->assembly_evidence, "contig names");
	} else if (bare > 0 && chr_prefix == 0) { /* Ensembl/1000 Genomes names: b37 */
		strcpy(r->assembly, "GRCh37"); strcpy(r->assembly_evidence, "contig names");
	} else {
		strcpy(r->assembly, "unknown"); strcpy(r->assembly_evidence, "none");
	}
}

/* ---- JSON ----------------------------------------------------------------------------- */

int sq_ref_save(const sq_ref_t *r, const char *path)
{
	json_t *j = json_object(), *arr = json_array();
	int ret;
	if (!j || !arr) { json_decref(j); json_decref(arr); return SQ_ENOMEM; }
	json_object_set_new(j, "format", json_string(SQ_CONTIGS_FORMAT));
	json_object_set_new(j, "fasta", json_string(r->fasta ? r->fasta : ""));
	json_object_set_new(j, "fasta_sha256", json_string(r->sha256));
	json_object_set_new(j, "assembly", json_string(r->assembly));
	json_object_set_new(j, "assembly_evidence", json_string(r->assembly_evidence));
	json_object_set_new(j, "n_contigs", json_integer(r->n));
	json_object_set_new(j, "total_length", json_integer(r->total_len));
	for (int i = 0; i < r->n; ++i) {
		json_t *c = json_object();
		json_object_set_new(c, "name", json_string(r->ctg[i].name));
		json_object_set_new(c, "length", json_integer(r->ctg[i].len));
		json_object_set_new(c, "md5", json_string(r->ctg[i].md5));
		json_array_append_new(arr, c);
	}
	json_object_set_new(j, "contigs", arr);
	ret = sq_json_save(j, path);
	json_decref(j);
	return ret;
}

sq_ref_t *sq_ref_load(const char *prefix) { return sq_ref_load_q(prefix, 0); }

sq_ref_t *sq_ref_load_q(const char *prefix, int quiet)
{
	char path[PATH_MAX];
	json_t *j = 0, *arr;
	sq_ref_t *r = 0;
	snprintf(path, sizeof path, "%s.contigs.json", prefix);
	if (!sq_file_readable(path)) {
		if (!quiet) sq_log_warn("missing contig table '%s': run 'seqa index' on the reference first", path);
		return 0;
	}
	if (!(j = quiet ? json_load_file(path, JSON_REJECT_DUPLICATES, NULL) : sq_json_load(path))) goto fail;
	if (strcmp(sq_json_str(j, "format", ""), SQ_CONTIGS_FORMAT) != 0) {
		if (!quiet) sq_log_error("%s: not a seqa contig table (format '%s'); rerun 'seqa index --force'",
		             path, sq_json_str(j, "format", ""));
		goto fail;
	}
	if (!(r = sq_calloc(1, sizeof *r))) goto fail;
	r->fasta = sq_strdup(sq_json_str(j, "fasta", ""));
	snprintf(r->sha256, sizeof r->sha256, "%s", sq_json_str(j, "fasta_sha256", ""));
	snprintf(r->assembly, sizeof r->assembly, "%s", sq_json_str(j, "assembly", "unknown"));
	snprintf(r->assembly_evidence, sizeof r->assembly_evidence, "%s", sq_json_str(j, "assembly_evidence", "none"));
	arr = json_object_get(j, "contigs");
	if (!r->fasta || !json_is_array(arr) || json_array_size(arr) == 0) {
		if (!quiet) sq_log_error("%s: no contigs; rerun 'seqa index --force'", path);
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(arr); ++i) {
		json_t *c = json_array_get(arr, i);
		const char *nm = sq_json_str(c, "name", 0), *md5 = sq_json_str(c, "md5", "");
		long long len = sq_json_int(c, "length", -1);
		if (!nm || len < 0 || strlen(md5) != 32) {
			if (!quiet) sq_log_error("%s: contig %zu lacks name/length/md5; rerun 'seqa index --force'", path, i + 1);
			goto fail;
		}
		if (sq_ref_push(r, nm, len, md5) < 0) goto fail;
	}
	json_decref(j);
	return r;
fail:
	json_decref(j);
	sq_ref_destroy(r);
	return 0;
}

/* ---- bwa .ann ------------------------------------------------------------------------- */

sq_ref_t *sq_ref_read_ann(const char *prefix) { return sq_ref_read_ann_q(prefix, 0); }

sq_ref_t *sq_ref_read_ann_q(const char *prefix, int quiet)
{
	char path[PATH_MAX], *line = 0, *name = 0;
	size_t cap = 0;
	long long l_pac, off, len;
	int n_seqs, n_amb;
	unsigned seed;
	FILE *fp;
	sq_ref_t *r = 0;
	snprintf(path, sizeof path, "%s.ann", prefix);
	if (!(fp = fopen(path, "r"))) {
		if (!quiet) sq_log_error("cannot open '%s': %s; run 'seqa index' on the reference", path, strerror(errno));
		return 0;
	}
	if (getline(&line, &cap, fp) < 0 || sscanf(line, "%lld %d %u", &l_pac, &n_seqs, &seed) != 3 || n_seqs <= 0)
		goto bad;
	if (!(r = sq_calloc(1, sizeof *r))) goto fail;
	for (int i = 0; i < n_seqs; ++i) {
		int gi;
		ssize_t l = getline(&line, &cap, fp);
		if (l < 0) goto bad;
		free(name);
		if (!(name = sq_malloc((size_t)l + 1))) goto fail;
		if (sscanf(line, "%d %s", &gi, name) != 2) goto bad;
		if (getline(&line, &cap, fp) < 0 || sscanf(line, "%lld %lld %d", &off, &len, &n_amb) != 3) goto bad;
		if (sq_ref_push(r, name, len, 0) < 0) goto fail;
	}
	if (r->total_len != l_pac) goto bad;
	fclose(fp);
	free(line), free(name);
	return r;
bad:
	if (!quiet) sq_log_error("'%s' is truncated or not a bwa .ann file; rebuild with 'seqa index --force'", path);
fail:
	fclose(fp);
	free(line), free(name);
	sq_ref_destroy(r);
	return 0;
}
