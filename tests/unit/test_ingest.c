/* Unit tests of host/ingest: indication table, batch parsing edge cases, FASTQ stream checks
 * through the public API (seqa/ingest.h), real reads against samtools, thread/buffer-size
 * independence, gzip cut at many points, and random damage that must never crash. */
#include <strings.h>
#include "harness.h"
#include "seqa/hash.h"
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/util.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static void write_file(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	SQ_REQUIRE(fp);
	size_t w = fwrite(s, 1, n, fp);
	int rc = fclose(fp);   /* SQ_REQUIRE evaluates its argument twice: no side effects in it */
	SQ_REQUIRE(w == n && rc == 0);
}

/* n records of length len, mate m (1/2), names frag<i>/<m> with an Illumina comment */
static void write_fq(const char *path, int n, int len, int m, char qual)
{
	FILE *fp = fopen(path, "wb");
	SQ_REQUIRE(fp);
	for (int i = 0; i < n; ++i) {
		fprintf(fp, "@frag%d/%d %d:N:0:ACGT\n", i, m, m);
		for (int j = 0; j < len; ++j) fputc("ACGTN"[(i + j) % 5], fp);
		fputs("\n+\n", fp);
		for (int j = 0; j < len; ++j) fputc(qual, fp);
		fputc('\n', fp);
	}
	int rc = fclose(fp);
	SQ_REQUIRE(rc == 0);
}

/* A JSON batch of samples S0..S(n-1) with the given R1/R2 paths (relative to dir). */
static sq_fq_batch_t *json_batch(const char *dir, int n, char *const *r1, char *const *r2)
{
	json_t *doc = json_pack("{s:i,s:[]}", "seqa_batch", 1, "samples");
	json_t *a = json_object_get(doc, "samples");
	for (int i = 0; i < n; ++i) {
		char id[32], ps[32];
		snprintf(id, sizeof id, "S%d", i), snprintf(ps, sizeof ps, "PSN-%04d", i);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "pseudonym", ps,
		                                   "indication", "RD-MITO", "sex", "unknown", "r1", r1[i], "r2", r2[i]));
	}
	sq_fq_batch_t *b = sq_fq_batch_from_json(doc, "test.json", dir);
	json_decref(doc);
	return b;
}

static int has_code(const sq_fq_batch_t *b, int code)
{
	for (int i = 0; i < b->n_err; ++i) if (b->err[i].code == code) return 1;
	for (int i = 0; i < b->n_samples; ++i)
		for (int j = 0; j < b->samples[i].n_err; ++j) if (b->samples[i].err[j].code == code) return 1;
	return 0;
}

static sq_fq_batch_t *validate_pair(const char *dir, const char *r1, const char *r2, int threads, size_t buf)
{
	char *a[1] = { (char *)r1 }, *c[1] = { (char *)r2 };
	sq_fq_opt_t opt;
	sq_fq_batch_t *b = json_batch(dir, 1, a, c);
	SQ_REQUIRE(b);
	sq_fq_opt_init(&opt);
	opt.n_threads = threads;
	if (buf) opt.buf_size = buf;
	int rc = sq_fq_batch_validate(b, &opt);
	SQ_REQUIRE(rc == 0);
	return b;
}

/* ---- indications, sex, codes -------------------------------------------------------------- */

static void test_indication_table(void)
{
	int n, launch = 0, rd = 0, ca = 0;
	const sq_indication_t *t = sq_indication_table(&n);
	SQ_CHECK(n == 15);
	for (int i = 0; i < n; ++i) {
		launch += t[i].launch;
		rd += t[i].launch && strcmp(t[i].group, "rare-disease") == 0;
		ca += t[i].launch && strcmp(t[i].group, "cancer") == 0;
		SQ_CHECKF(t[i].id == i + 1, "ids are 1..n in order (%d at %d)", t[i].id, i);
		SQ_CHECK(t[i].name && *t[i].name && t[i].name_fr && *t[i].name_fr);
		for (int j = 0; j < i; ++j) SQ_CHECKF(strcasecmp(t[i].code, t[j].code) != 0, "code %s twice", t[i].code);
		SQ_CHECK(sq_indication_find(t[i].code) == &t[i]);
		SQ_CHECK(sq_indication_by_id(t[i].id) == &t[i]);
	}
	SQ_CHECKF(launch == 14 && rd == 9 && ca == 5, "launch=%d rare=%d cancer=%d", launch, rd, ca);
	SQ_CHECK(t[n].code == NULL);
	/* stable codes: these strings are in batches and reports; changing them breaks users */
	SQ_CHECK(sq_indication_find("RD-BONE")->id == 1 && sq_indication_find("CA-AYA")->id == 14);
	SQ_CHECK(sq_indication_find(" rd-mito ") && sq_indication_find(" rd-mito ")->id == 2);
	SQ_CHECK(sq_indication_find("RD-BONES") == NULL && sq_indication_find("") == NULL && sq_indication_find(NULL) == NULL);
	SQ_CHECK(sq_indication_find("RD-DIAB") && !sq_indication_find("RD-DIAB")->launch);
	SQ_CHECK(sq_indication_by_id(0) == NULL && sq_indication_by_id(99) == NULL);
}

static void test_sex_and_codes(void)
{
	SQ_CHECK(sq_sex_parse("female") == SQ_SEX_FEMALE && sq_sex_parse("F") == SQ_SEX_FEMALE);
	SQ_CHECK(sq_sex_parse("Male") == SQ_SEX_MALE && sq_sex_parse("m") == SQ_SEX_MALE);
	SQ_CHECK(sq_sex_parse("unknown") == SQ_SEX_UNKNOWN && sq_sex_parse("U") == SQ_SEX_UNKNOWN);
	SQ_CHECK(sq_sex_parse("") == SQ_SEX_INVALID && sq_sex_parse("x") == SQ_SEX_INVALID && sq_sex_parse(NULL) == SQ_SEX_INVALID);
	SQ_CHECK(strcmp(sq_sex_name(SQ_SEX_MALE), "male") == 0);
	for (int c = 0; c < SQ_FQ_N_CODES; ++c) {
		SQ_CHECKF(strcmp(sq_fq_code_name(c), "UNKNOWN") != 0 && strlen(sq_fq_code_hint(c)) > 10, "code %d", c);
		for (int d = 0; d < c; ++d) SQ_CHECK(strcmp(sq_fq_code_name(c), sq_fq_code_name(d)) != 0);
	}
	SQ_CHECK(sq_fq_code_is_warning(SQ_FQ_CRLF) && !sq_fq_code_is_warning(SQ_FQ_QUAL_RANGE));
}

/* ---- sample sheet ------------------------------------------------------------------------- */

static void test_sheet_excel_export(void)
{
	/* BOM, CRLF, trailing commas, one sample over two lanes, a comment, quoted field */
	const char *d = sq_test_tmpdir();
	char p[1200];
	const char *sheet =
		"\xEF\xBB\xBF[Header],,,,,\r\nFileFormatVersion,2,,,,\r\nRunName,R1,,,,\r\n,,,,,\r\n"
		"[Reads],,,,,\r\nRead1Cycles,151,,,,\r\nRead2Cycles,151,,,,\r\n"
		"[BCLConvert_Data],,,,,\r\nLane,Sample_ID,Index,,,\r\n1,A-1,ACGT,,,\r\n2,A-1,ACGT,,,\r\n"
		"# note\r\n[Seqa_Data],,,,,\r\nSample_ID,Pseudonym,Indication,Sex,R1,R2\r\n"
		"A-1,\"PSN-9\",ca-extr,Female,a1.fq,sub/a2.fq\r\n";
	snprintf(p, sizeof p, "%s/s.csv", d);
	write_file(p, sheet, strlen(sheet));
	int err = 0;
	sq_fq_batch_t *b = sq_fq_batch_load(p, &err);
	SQ_REQUIRE(b);
	SQ_CHECKF(b->n_err == 0, "batch errors: %d (%s)", b->n_err, b->n_err ? b->err[0].message : "");
	SQ_REQUIRE(b->n_samples == 1);
	sq_fq_sample_t *s = &b->samples[0];
	SQ_CHECK(s->n_err == 0 && strcmp(s->pseudonym, "PSN-9") == 0 && s->ind && s->ind->id == 12 && s->sex == SQ_SEX_FEMALE);
	char want[1300];
	snprintf(want, sizeof want, "%s/sub/a2.fq", d);
	SQ_CHECKF(strcmp(s->files[1].path, want) == 0, "R2 resolved to %s", s->files[1].path);
	SQ_CHECK(strcmp(s->files[1].given, "sub/a2.fq") == 0);
	SQ_CHECK(strcmp(sq_json_str(b->run, "RunName", ""), "R1") == 0 && strcmp(sq_json_str(b->run, "Read2Cycles", ""), "151") == 0);
	SQ_CHECK(sq_fq_batch_status(b) == 0);   /* nothing validated yet: no file problem known */
	sq_fq_batch_destroy(b);
	SQ_CHECK(sq_fq_batch_load("tests/out/no/such/sheet.csv", &err) == NULL && err == SQ_EIO);
}

static void test_sheet_many_problems(void)
{
	/* every problem of the sheet is listed, not only the first */
	const char *d = sq_test_tmpdir();
	char p[1200];
	const char *sheet =
		"stray line\n[Header]\nFileFormatVersion,3\n[BCLConvert_Data]\nLane,Index\n1,ACGT\n"
		"[Seqa_Data]\nSample_ID,Pseudonym,Indication,Sex,R1\nS1,,XX,robot,a.fq\nS1,P,RD-BONE,male,b.fq\n[Broken\n";
	snprintf(p, sizeof p, "%s/s.csv", d);
	write_file(p, sheet, strlen(sheet));
	sq_fq_batch_t *b = sq_fq_batch_load(p, 0);
	SQ_REQUIRE(b);
	int want[] = { SQ_FQ_SHEET_SYNTAX, SQ_FQ_SHEET_VERSION, SQ_FQ_SHEET_SECTION, SQ_FQ_SHEET_COLUMN,
	               SQ_FQ_SAMPLE_DUP, SQ_FQ_SHEET_VALUE, SQ_FQ_INDICATION, SQ_FQ_SEX };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i)
		SQ_CHECKF(has_code(b, want[i]), "missing %s", sq_fq_code_name(want[i]));
	SQ_CHECK(sq_fq_batch_status(b) == SQ_EINPUT);
	SQ_CHECK(sq_fq_batch_n_errors(b) >= 10);
	json_t *r = sq_fq_batch_report(b);
	SQ_CHECK(r && strcmp(sq_json_str(r, "status", ""), "fail") == 0);
	json_decref(r);
	sq_fq_batch_destroy(b);
}

static void test_sheet_random_damage(void)
{
	/* 500 damaged copies of a valid sheet and JSON batch: loading always returns a batch (no
	 * crash, no NULL), and its report is valid JSON with a status */
	const char *d = sq_test_tmpdir();
	char p[1200];
	const char *txt[2] = {
		"[Header]\nFileFormatVersion,2\nRunName,R\n[Reads]\nRead1Cycles,151\nRead2Cycles,151\n"
		"[BCLConvert_Data]\nLane,Sample_ID,Index\n1,S1,ACGT\n1,S2,TTTT\n[Seqa_Data]\n"
		"Sample_ID,Pseudonym,Indication,Sex,R1,R2\nS1,P1,RD-BONE,male,a.fq,b.fq\nS2,P2,CA-AYA,female,c.fq,d.fq\n",
		"{\"seqa_batch\": 1, \"run\": {\"RunName\": \"R\"}, \"samples\": [{\"id\": \"S1\", \"pseudonym\": \"P1\", "
		"\"indication\": \"RD-BONE\", \"sex\": \"male\", \"r1\": \"a.fq\", \"r2\": \"b.fq\"}]}\n" };
	uint64_t x = 99;
	snprintf(p, sizeof p, "%s/s.txt", d);
	for (int k = 0; k < 500; ++k) {
		const char *t = txt[k & 1];
		size_t len = strlen(t);
		char buf[1024];
		memcpy(buf, t, len);
		for (int e = 0; e < 1 + k % 5; ++e) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)((x >> 33) % len);
			if (x & 1) buf[at] = "[],\n\r\"{}:x,#\xff\x00"[(x >> 20) % 15];
			else memmove(buf + at, buf + at + 1, len - at - 1), --len;
		}
		write_file(p, buf, len);
		int err = 0;
		sq_fq_batch_t *b = sq_fq_batch_load(p, &err);
		SQ_CHECKF(b != NULL && err == 0, "damage %d: no batch", k);
		if (!b) continue;
		json_t *r = sq_fq_batch_report(b);
		SQ_CHECK(r && json_is_string(json_object_get(r, "status")));
		json_decref(r);
		sq_fq_batch_destroy(b);
	}
}

/* ---- FASTQ streams ------------------------------------------------------------------------ */

static void test_long_reads_small_buffer(void)
{
	/* 10 kb reads through a 4 KiB buffer (lines longer than the buffer), plain and gzip */
	const char *d = sq_test_tmpdir();
	char a[1200], c[1200];
	snprintf(a, sizeof a, "%s/a.fq", d), snprintf(c, sizeof c, "%s/c.fq", d);
	write_fq(a, 7, 10000, 1, 'F'), write_fq(c, 7, 10000, 2, 'F');
	SQ_REQUIRE(sq_test_sh("gzip -c %s > %s.gz && gzip -c %s > %s.gz", a, a, c, c) == 0);
	for (int gz = 0; gz < 2; ++gz) {
		sq_fq_batch_t *b = validate_pair(d, gz ? "a.fq.gz" : "a.fq", gz ? "c.fq.gz" : "c.fq", 1, 4096);
		sq_fq_file_t *f = &b->samples[0].files[0];
		SQ_CHECKF(sq_fq_batch_status(b) == 0, "gz=%d: %s", gz, b->samples[0].n_err ? b->samples[0].err[0].message : "");
		SQ_CHECK(f->reads == 7 && f->bases == 70000 && f->min_len == 10000 && f->max_len == 10000 && f->gzip == gz);
		SQ_CHECK(f->min_qual == 'F' && f->max_qual == 'F');
		sq_fq_batch_destroy(b);
	}
}

static void test_gzip_members_and_garbage(void)
{
	/* two gzip members concatenated are one valid stream; bytes after the last member are not */
	const char *d = sq_test_tmpdir();
	char a[1200], c[1200];
	snprintf(a, sizeof a, "%s/a.fq", d), snprintf(c, sizeof c, "%s/c.fq", d);
	write_fq(a, 10, 50, 1, 'I'), write_fq(c, 10, 50, 2, 'I');
	SQ_REQUIRE(sq_test_sh("cd %s && head -n 20 a.fq | gzip -c > a2.gz && tail -n 20 a.fq | gzip -c >> a2.gz && "
	                      "cat a2.gz a2.gz > a4.gz && cat c.fq c.fq | gzip -c > c.gz && cp a2.gz g.gz && printf 'junk' >> g.gz && "
	                      ": | gzip -c > e.gz && cp e.gz e2.gz", d) == 0);
	sq_fq_batch_t *b = validate_pair(d, "a4.gz", "c.gz", 1, 0);   /* 4 members, 20 reads */
	SQ_CHECKF(sq_fq_batch_status(b) == 0 && b->samples[0].files[0].reads == 20, "multi-member: %lld reads",
	          (long long)b->samples[0].files[0].reads);
	sq_fq_batch_destroy(b);
	b = validate_pair(d, "g.gz", "a.fq", 1, 0);
	SQ_CHECK(has_code(b, SQ_FQ_GZIP_CORRUPT) && !has_code(b, SQ_FQ_MATE_COUNT));
	sq_fq_batch_destroy(b);
	b = validate_pair(d, "e.gz", "e2.gz", 1, 0);                   /* gzip of nothing */
	SQ_CHECK(has_code(b, SQ_FQ_EMPTY) && b->samples[0].n_errors == 2);
	SQ_CHECK(strstr(b->samples[0].err[0].message, "decompresses to 0 bytes") != NULL);
	sq_fq_batch_destroy(b);
}

static void test_phred_heuristic(void)
{
	/* high phred+33 qualities ('@'..'J', Q31-41) are not phred+64; 'h' (Q40 in phred+64) is */
	const char *d = sq_test_tmpdir();
	char a[1200], c[1200];
	snprintf(a, sizeof a, "%s/a.fq", d), snprintf(c, sizeof c, "%s/c.fq", d);
	write_fq(a, 3, 30, 1, 'J'), write_fq(c, 3, 30, 2, '@');
	sq_fq_batch_t *b = validate_pair(d, "a.fq", "c.fq", 1, 0);
	SQ_CHECK(sq_fq_batch_status(b) == 0 && !has_code(b, SQ_FQ_PHRED64));
	sq_fq_batch_destroy(b);
	write_fq(a, 3, 30, 1, 'h');
	b = validate_pair(d, "a.fq", "c.fq", 1, 0);
	SQ_CHECK(has_code(b, SQ_FQ_PHRED64) && b->samples[0].files[0].n_errors[SQ_FQ_PHRED64] == 1);
	SQ_CHECK(b->samples[0].files[1].n_errors[SQ_FQ_PHRED64] == 0);
	sq_fq_batch_destroy(b);
}

static void test_error_cap(void)
{
	/* 50 bad records: max_errors stored, all counted, and n_errors/report agree */
	const char *d = sq_test_tmpdir();
	char a[1200], c[1200];
	snprintf(a, sizeof a, "%s/a.fq", d), snprintf(c, sizeof c, "%s/c.fq", d);
	write_fq(a, 50, 30, 1, ' '), write_fq(c, 50, 30, 2, 'I');
	char *r1[1] = { "a.fq" }, *r2[1] = { "c.fq" };
	sq_fq_batch_t *b = json_batch(d, 1, r1, r2);
	sq_fq_opt_t opt;
	sq_fq_opt_init(&opt);
	opt.max_errors = 3;
	int rc = sq_fq_batch_validate(b, &opt);
	SQ_REQUIRE(rc == 0);
	SQ_CHECK(b->samples[0].n_err == 3 && b->samples[0].n_errors == 50 && sq_fq_batch_n_errors(b) == 50);
	SQ_CHECK(b->samples[0].err[2].record == 3 && b->samples[0].err[2].line == 12);
	SQ_CHECK(b->samples[0].files[0].n_errors[SQ_FQ_QUAL_RANGE] == 50);
	json_t *r = sq_fq_batch_report(b);
	json_t *s0 = json_array_get(json_object_get(r, "samples"), 0);
	SQ_CHECK(sq_json_int(r, "n_errors", -1) == 50 && json_array_size(json_object_get(s0, "errors")) == 3);
	json_decref(r);
	opt.max_errors = 0;
	SQ_CHECK(sq_fq_opt_check(&opt) == SQ_EINVAL);
	opt.max_errors = 3;
	SQ_CHECK(sq_fq_batch_validate(b, &opt) == SQ_EINVAL); /* once per batch */
	sq_fq_batch_destroy(b);
}

static void test_mate_checks_across_chunks(void)
{
	/* 10000 pairs (R1/R2 read in chunks of 4096): renamed mates at records around the chunk
	 * boundaries are reported at exactly those records, with one thread or two; R2 one read
	 * short gives MATE_COUNT */
	const char *d = sq_test_tmpdir();
	char a[1200], c[1200];
	int bad[] = { 1, 4095, 4096, 4097, 8192, 8193, 9999 };
	snprintf(a, sizeof a, "%s/a.fq", d), snprintf(c, sizeof c, "%s/c.fq", d);
	write_fq(a, 10000, 20, 1, 'I');
	FILE *fp = fopen(c, "wb");
	SQ_REQUIRE(fp);
	for (int i = 0, k = 0; i < 9999; ++i) {
		int rename = k < 7 && bad[k] == i + 1;
		k += rename;
		fprintf(fp, "@frag%d%s/2\nACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIII\n", i, rename ? "x" : "");
	}
	int rc = fclose(fp);
	SQ_REQUIRE(rc == 0);
	json_t *ref = 0;
	for (int t = 1; t <= 2; ++t) {
		char *r1[1] = { "a.fq" }, *r2[1] = { "c.fq" };
		sq_fq_batch_t *b = json_batch(d, 1, r1, r2);
		sq_fq_opt_t opt;
		sq_fq_opt_init(&opt);
		opt.n_threads = t, opt.max_errors = 100;
		rc = sq_fq_batch_validate(b, &opt);
		SQ_REQUIRE(rc == 0);
		sq_fq_sample_t *s = &b->samples[0];
		int k = 0;
		for (int j = 0; j < s->n_err; ++j)
			if (s->err[j].code == SQ_FQ_MATE_NAME) {
				SQ_CHECKF(k < 7 && s->err[j].record == bad[k] && s->err[j].line == 4 * bad[k] - 3,
				          "threads %d: mate error %d at record %lld line %lld", t, k, (long long)s->err[j].record, (long long)s->err[j].line);
				++k;
			}
		SQ_CHECKF(k == 7 && has_code(b, SQ_FQ_MATE_COUNT) && s->n_errors == 8, "threads %d: %d mate errors, %lld errors", t, k, (long long)s->n_errors);
		SQ_CHECK(s->files[0].reads == 10000 && s->files[1].reads == 9999);
		json_t *r = sq_fq_batch_report(b);
		if (!ref) ref = r;
		else { SQ_CHECK(json_equal(ref, r)); json_decref(r); }
		sq_fq_batch_destroy(b);
	}
	json_decref(ref);
}

/* ---- real reads --------------------------------------------------------------------------- */

/* tmpdir with r1.fq.gz/r2.fq.gz from the tiny NA12878 BAM; expected pair count in *pairs */
static const char *real_fastq(long *pairs)
{
	const char *bam = sq_test_shared("tiny_chr22/NA12878.chr22.tiny.bam");
	char out[64];
	if (!bam) SQ_SKIP("../shared/data/tiny_chr22/NA12878.chr22.tiny.bam absent");
	if (!sq_test_have("samtools")) SQ_SKIP("samtools not installed");
	const char *d = sq_test_tmpdir();
	SQ_REQUIRE(sq_test_sh("samtools collate -u -O %s %s/c | samtools fastq -1 %s/r1.fq.gz -2 %s/r2.fq.gz "
	                      "-0 /dev/null -s /dev/null -n - 2>/dev/null", bam, d, d, d) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "bash -c 'export LC_ALL=C; comm -12 <(samtools view -f 0x40 -F 0x900 %s | cut -f1 | sort) "
	                           "<(samtools view -f 0x80 -F 0x900 %s | cut -f1 | sort) | wc -l'", bam, bam) == 0);
	*pairs = atol(out);
	SQ_REQUIRE(*pairs > 1000);
	return d;
}

static void test_real_threads_and_buffers(void)
{
	/* 4 samples (gzip, plain, BGZF, gzip -9) of the real reads: identical reports whatever the
	 * thread count and buffer size, counts equal to samtools, SHA-256 equal to the file's */
	long pairs;
	const char *d = real_fastq(&pairs);
	SQ_REQUIRE(sq_test_sh("cd %s && gzip -dc r1.fq.gz > p1.fq && gzip -dc r2.fq.gz > p2.fq && bgzip -c p1.fq > b1.gz && "
	                      "bgzip -c p2.fq > b2.gz && gzip -9c p1.fq > g1.gz && gzip -9c p2.fq > g2.gz", d) == 0);
	char *r1[4] = { "r1.fq.gz", "p1.fq", "b1.gz", "g1.gz" }, *r2[4] = { "r2.fq.gz", "p2.fq", "b2.gz", "g2.gz" };
	json_t *ref = 0;
	int nt[] = { 1, 2, 4, 3 };
	size_t bs[] = { 4 << 20, 4096, 65536, 1 << 20 };
	for (int k = 0; k < 4; ++k) {
		sq_fq_batch_t *b = json_batch(d, 4, r1, r2);
		sq_fq_opt_t opt;
		sq_fq_opt_init(&opt);
		opt.n_threads = nt[k], opt.buf_size = bs[k];
		int rc = b ? sq_fq_batch_validate(b, &opt) : -1;
		SQ_REQUIRE(rc == 0);
		SQ_CHECKF(sq_fq_batch_status(b) == 0, "threads %d: %lld errors", nt[k], (long long)sq_fq_batch_n_errors(b));
		for (int i = 0; i < 4; ++i)
			for (int m = 0; m < 2; ++m) {
				sq_fq_file_t *f = &b->samples[i].files[m];
				SQ_CHECKF(f->reads == pairs && f->bases == 151 * pairs, "%s: %lld reads, want %ld", f->path, (long long)f->reads, pairs);
				if (k == 0) {
					char hex[65];
					SQ_CHECK(sq_sha256_file(f->path, hex) == 0 && strcmp(hex, f->sha256) == 0);
				}
			}
		json_t *r = sq_fq_batch_report(b);
		if (!ref) ref = r;
		else { SQ_CHECKF(json_equal(ref, r), "report differs with %d threads, %zu buffer", nt[k], bs[k]); json_decref(r); }
		sq_fq_batch_destroy(b);
	}
	json_decref(ref);
	/* and against coreutils, independently of our own hashing */
	char out[128];
	SQ_CHECK(sq_test_capture(out, sizeof out, "sha256sum %s/b1.gz | cut -c1-64", d) == 0);
	sq_fq_batch_t *b = validate_pair(d, "b1.gz", "b2.gz", 2, 0);
	SQ_CHECK(strncmp(out, b->samples[0].files[0].sha256, 64) == 0);
	sq_fq_batch_destroy(b);
}

static void test_real_gzip_cut_anywhere(void)
{
	/* the real R1 cut at 40 seeded offsets: always GZIP_TRUNCATED, never a clean end */
	long pairs;
	const char *d = real_fastq(&pairs);
	char full[1200], cut[1200];
	size_t n = 0;
	snprintf(full, sizeof full, "%s/r1.fq.gz", d);
	char *data = sq_read_file(full, &n);
	SQ_REQUIRE(data && n > 1000);
	uint64_t x = 12345;
	for (int k = 0; k < 40; ++k) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t at = k == 0 ? n - 1 : k == 1 ? 1 : (size_t)((x >> 33) % (n - 1)) + 1;
		snprintf(cut, sizeof cut, "%s/cut.gz", d);
		write_file(cut, data, at);
		sq_fq_batch_t *b = validate_pair(d, "cut.gz", "r2.fq.gz", 1, 0);
		SQ_CHECKF(has_code(b, SQ_FQ_GZIP_TRUNCATED) && sq_fq_batch_status(b) == SQ_EINPUT, "cut at %zu of %zu not reported", at, n);
		SQ_CHECK(b->samples[0].files[0].reads <= pairs);
		sq_fq_batch_destroy(b);
	}
	free(data);
}

static void test_random_damage_never_crashes(void)
{
	/* 300 copies of a small pair with random bytes overwritten/removed: validation completes,
	 * the status is 0 or SQ_EINPUT, and a changed line structure is always reported */
	const char *d = sq_test_tmpdir();
	char a[1200], c[1200], m[1200];
	snprintf(a, sizeof a, "%s/a.fq", d), snprintf(c, sizeof c, "%s/c.fq", d), snprintf(m, sizeof m, "%s/m.fq", d);
	write_fq(a, 20, 40, 1, 'F'), write_fq(c, 20, 40, 2, 'F');
	size_t n = 0;
	char *orig = sq_read_file(a, &n);
	SQ_REQUIRE(orig);
	char *buf = malloc(n + 1);
	uint64_t x = 777;
	int flagged = 0, newline_hits = 0;
	for (int k = 0; k < 300; ++k) {
		size_t len = n;
		int lost_nl = 0;
		memcpy(buf, orig, n);
		for (int e = 0; e < 1 + k % 4; ++e) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)((x >> 33) % len);
			char nb = (char)(x >> 20);
			int nl = buf[at] == '\n' && at + 1 < len; /* the final newline is optional */
			if (x & 1) { lost_nl |= nl && nb != '\n'; buf[at] = nb; }
			else { lost_nl |= nl; memmove(buf + at, buf + at + 1, len - at - 1); --len; }
		}
		write_file(m, buf, len);
		sq_fq_batch_t *b = validate_pair(d, "m.fq", "c.fq", 1, 4096);
		int st = sq_fq_batch_status(b);
		{ /* every problem has its message in the report, whatever bytes the input had */
			json_t *x = sq_fq_batch_report(b);
			json_t *errs = json_object_get(json_array_get(json_object_get(x, "samples"), 0), "errors");
			for (size_t j = 0; j < json_array_size(errs); ++j)
				SQ_CHECKF(json_is_string(json_object_get(json_array_get(errs, j), "message")), "damage %d: error %zu has no message", k, j);
			json_decref(x);
		}
		if (k % 3 == 0) { /* same findings with R1 and R2 on two threads */
			sq_fq_batch_t *b2 = validate_pair(d, "m.fq", "c.fq", 2, 0);
			json_t *x = sq_fq_batch_report(b), *y = sq_fq_batch_report(b2);
			SQ_CHECKF(json_equal(x, y), "damage %d: report depends on threads/buffer", k);
			json_decref(x), json_decref(y);
			sq_fq_batch_destroy(b2);
		}
		SQ_CHECK(st == 0 || st == SQ_EINPUT);
		flagged += st != 0;
		if (lost_nl) { ++newline_hits; SQ_CHECKF(st == SQ_EINPUT, "damage %d removed a newline but passed", k); }
		sq_fq_batch_destroy(b);
	}
	SQ_CHECKF(flagged > 150 && newline_hits > 0, "flagged %d of 300, newline hits %d", flagged, newline_hits);
	free(orig), free(buf);
}

SQ_TESTS = {
	{ "indication_table", test_indication_table },
	{ "sex_and_codes", test_sex_and_codes },
	{ "sheet_excel_export", test_sheet_excel_export },
	{ "sheet_many_problems", test_sheet_many_problems },
	{ "sheet_random_damage", test_sheet_random_damage },
	{ "long_reads_small_buffer", test_long_reads_small_buffer },
	{ "gzip_members_and_garbage", test_gzip_members_and_garbage },
	{ "phred_heuristic", test_phred_heuristic },
	{ "error_cap", test_error_cap },
	{ "mate_checks_across_chunks", test_mate_checks_across_chunks },
	{ "real_threads_and_buffers", test_real_threads_and_buffers },
	{ "real_gzip_cut_anywhere", test_real_gzip_cut_anywhere },
	{ "random_damage_never_crashes", test_random_damage_never_crashes },
	{ 0, 0 }
};
