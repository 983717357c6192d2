/* Unit tests of host/ref: FASTA validation, bwa index identical to `bwa index`, contig MD5s as
 * `samtools dict`, acceptance/rebuild of existing index sets, no partial outputs on failure. */
#include <fcntl.h>
#include <sys/stat.h>
#include <htslib/faidx.h>
#include "harness.h"
#include "seqa/ref.h"
#include "seqa/util.h"

static const char *const exts[] = { "bwt", "pac", "ann", "amb", "sa", 0 };

/* copy a file into the scratch dir */
static void cp(const char *src, const char *dst)
{
	SQ_REQUIRE(sq_test_sh("cp '%s' '%s' && chmod u+w '%s'", src, dst, dst) == 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	SQ_REQUIRE(fp);
	fputs(text, fp);
	fclose(fp);
}

/* number of files in dir whose name starts with base */
static int n_files(const char *dir, const char *base)
{
	char out[64];
	sq_test_capture(out, sizeof out, "ls -a '%s' | grep -c '^%s'", dir, base);
	return atoi(out);
}

/* index with seqa (API) and with `bwa index` (peer) and compare the five files byte by byte */
static void compare_with_bwa(const char *src, const char *d, const char *algo_name, int algo)
{
	char a[1024], b[1024];
	snprintf(a, sizeof a, "%s/bwa_%s.fa", d, algo_name);
	snprintf(b, sizeof b, "%s/seqa_%s.fa", d, algo_name);
	cp(src, a), cp(src, b);
	SQ_REQUIRE(sq_test_sh("bwa index %s%s %s 2>/dev/null", algo ? "-a " : "", algo ? algo_name : "", a) == 0);
	sq_ref_index_opt_t o;
	sq_ref_index_res_t res;
	sq_ref_index_opt_init(&o);
	o.algo = algo;
	SQ_REQUIRE(sq_ref_index(b, &o, &res) == 0);
	SQ_CHECK(res.bwa_built == 1 && res.fai_built == 1 && res.contigs_written == 1);
	for (int i = 0; exts[i]; ++i)
		SQ_CHECKF(sq_test_sh("cmp -s %s.%s %s.%s", a, exts[i], b, exts[i]) == 0, "%s .%s differs from bwa index", algo_name, exts[i]);
	SQ_CHECK(sq_ref_check_index(b) == 0);
}

static void test_index_identical_to_bwa(void)
{
	const char *fa = sq_test_shared("human/human_g1k_v37.chr17_1Mb.fasta");
	if (!fa) SQ_SKIP("../shared/data/human absent");
	if (!sq_test_have("bwa")) SQ_SKIP("bwa not installed");
	const char *d = sq_test_tmpdir();
	compare_with_bwa(fa, d, "auto", 0);
}

static void test_index_identical_to_bwa_algos(void)
{
	const char *fa = sq_test_shared("tiny_chr22/q.fa");
	if (!fa) SQ_SKIP("../shared/data/tiny_chr22 absent");
	if (!sq_test_have("bwa")) SQ_SKIP("bwa not installed");
	const char *d = sq_test_tmpdir();
	compare_with_bwa(fa, d, "is", 3);
	compare_with_bwa(fa, d, "bwtsw", 2);
	/* several contigs, lower case, IUPAC codes and N runs (random bases in .pac), a comment */
	char p[1024];
	snprintf(p, sizeof p, "%s/multi.fa", d);
	SQ_REQUIRE(sq_test_sh("(echo '>c1 a comment here'; head -c 3000 %s | tail -c 2000 | tr -d '\\n' | fold -w 70; echo;"
	                      " echo '>c2'; printf 'acgtNNNNNNNNNNRYKMacgtacgtacgtnnnn\\n'; echo '>c_3'; sed -n 2,40p %s) > %s",
	                      fa, fa, p) == 0);
	compare_with_bwa(p, d, "auto", 0);
}

static void test_md5_matches_samtools_dict(void)
{
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	if (!sq_test_have("samtools") || !sq_test_have("bgzip")) SQ_SKIP("samtools/bgzip not installed");
	const char *d = sq_test_tmpdir();
	char p[1024], out[8192];
	const char *sources[2] = { sq_test_shared("human/human_g1k_v37.chr17_1Mb.fasta"), 0 };
	snprintf(p, sizeof p, "%s/mixed.fa", d);
	SQ_REQUIRE(sq_test_sh("(cat %s; echo '>lower'; printf 'acgtacgtnnACGTRYacgt\\nacgtac\\n'; echo '>x2'; printf 'AC\\n') > %s", q, p) == 0);
	sources[1] = p;
	for (int k = 0; k < 2; ++k) {
		if (!sources[k]) continue;
		int err = 0;
		sq_ref_t *r = sq_ref_scan(sources[k], 1, &err);
		SQ_REQUIRE(r);
		SQ_REQUIRE(sq_test_capture(out, sizeof out, "samtools dict %s | awk -F'\\t' '/^@SQ/{for(i=2;i<=NF;i++)"
		                           "{split($i,a,\":\"); v[a[1]]=substr($i,4)} print v[\"SN\"], v[\"LN\"], v[\"M5\"]}'", sources[k]) == 0);
		char *line = out;
		int n = 0;
		for (char *nl; (nl = strchr(line, '\n')); line = nl + 1, ++n) {
			char name[256], md5[64];
			long long len;
			*nl = 0;
			SQ_REQUIRE(sscanf(line, "%255s %lld %63s", name, &len, md5) == 3);
			SQ_REQUIRE(n < r->n);
			SQ_CHECKF(strcmp(name, r->ctg[n].name) == 0 && len == r->ctg[n].len, "%s/%lld vs %s/%lld",
			          name, len, r->ctg[n].name, (long long)r->ctg[n].len);
			SQ_CHECKF(strcmp(md5, r->ctg[n].md5) == 0, "%s: M5 %s vs %s", name, md5, r->ctg[n].md5);
		}
		SQ_CHECK(n == r->n);
		SQ_CHECK(strlen(r->sha256) == 64);
		sq_ref_destroy(r);
	}
	/* the table written by sq_ref_index loads back the same, with the file's SHA-256 */
	sq_ref_index_res_t res;
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	sq_ref_t *t = sq_ref_load(p), *u = sq_ref_scan(p, 1, 0);
	SQ_REQUIRE(t && u);
	SQ_CHECK(t->n == u->n && t->total_len == u->total_len);
	for (int i = 0; i < t->n && i < u->n; ++i)
		SQ_CHECK(strcmp(t->ctg[i].name, u->ctg[i].name) == 0 && t->ctg[i].len == u->ctg[i].len && strcmp(t->ctg[i].md5, u->ctg[i].md5) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "sha256sum %s | cut -c1-64", p) == 0);
	SQ_CHECKF(strncmp(out, t->sha256, 64) == 0, "sha256 %s vs %s", t->sha256, out);
	SQ_CHECK(sq_ref_find(t, "lower") == (t->n - 2) && sq_ref_find(t, "nope") == -1);
	sq_ref_destroy(t), sq_ref_destroy(u);
}

static void test_bgzip_reference(void)
{
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	if (!sq_test_have("bgzip") || !sq_test_have("samtools")) SQ_SKIP("bgzip/samtools not installed");
	const char *d = sq_test_tmpdir();
	char p[1024], a[8192], b[8192];
	snprintf(p, sizeof p, "%s/q.fa.gz", d);
	SQ_REQUIRE(sq_test_sh("bgzip -c %s > %s", q, p) == 0);
	SQ_REQUIRE(sq_ref_index(p, 0, 0) == 0);
	SQ_CHECK(sq_file_readable("tests/out/bgzip_reference/q.fa.gz.fai"));
	SQ_CHECK(sq_file_readable("tests/out/bgzip_reference/q.fa.gz.gzi"));
	SQ_CHECK(sq_ref_check_index(p) == 0);
	/* samtools reads through our .fai/.gzi: same bases as the plain file */
	SQ_REQUIRE(sq_test_capture(a, sizeof a, "samtools faidx %s q:1000-1100 | tail -n +2", p) == 0);
	char plain[1024];
	snprintf(plain, sizeof plain, "%s/plain.fa", d);
	cp(q, plain); /* samtools writes plain.fa.fai: never into ../shared */
	SQ_REQUIRE(sq_test_capture(b, sizeof b, "samtools faidx %s q:1000-1100 | tail -n +2", plain) == 0);
	SQ_CHECK(strlen(a) > 100);
	SQ_CHECK(strcmp(a, b) == 0);
	/* plain gzip: the bwa index and the table are built, the .fai is not (warned) */
	snprintf(p, sizeof p, "%s/q2.fa.gz", d);
	SQ_REQUIRE(sq_test_sh("gzip -c %s > %s", q, p) == 0);
	SQ_CHECK(sq_ref_index(p, 0, 0) == 0);
	SQ_CHECK(!sq_file_readable("tests/out/bgzip_reference/q2.fa.gz.fai"));
	SQ_CHECK(sq_ref_check_index(p) == 0);
}

static void test_existing_index_kept(void)
{
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	if (!sq_test_have("bwa")) SQ_SKIP("bwa not installed");
	const char *d = sq_test_tmpdir();
	char p[1024], path[1100];
	struct stat st0, st1;
	sq_ref_index_res_t res;
	snprintf(p, sizeof p, "%s/q.fa", d);
	cp(q, p);
	SQ_REQUIRE(sq_test_sh("bwa index %s 2>/dev/null", p) == 0);
	snprintf(path, sizeof path, "%s.bwt", p);
	SQ_REQUIRE(stat(path, &st0) == 0);
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	SQ_CHECK(res.bwa_built == 0 && res.fai_built == 1 && res.contigs_written == 1);
	SQ_REQUIRE(stat(path, &st1) == 0);
	SQ_CHECK(st0.st_ino == st1.st_ino && st0.st_mtime == st1.st_mtime); /* untouched */
	/* second run: nothing to do */
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	SQ_CHECK(res.bwa_built == 0 && res.fai_built == 0);
	/* --force rebuilds */
	sq_ref_index_opt_t o;
	sq_ref_index_opt_init(&o);
	o.force = 1;
	SQ_REQUIRE(sq_ref_index(p, &o, &res) == 0);
	SQ_CHECK(res.bwa_built == 1 && res.fai_built == 1);
	/* a truncated .pac is inconsistent: check_index says so, index rebuilds it */
	snprintf(path, sizeof path, "%s.pac", p);
	SQ_REQUIRE(truncate(path, 100) == 0);
	SQ_CHECK(sq_ref_check_index(p) == SQ_EINPUT);
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	SQ_CHECK(res.bwa_built == 1);
	SQ_CHECK(sq_ref_check_index(p) == 0);
	/* so are a .bwt or .sa one byte short */
	for (int k = 0; k < 2; ++k) {
		snprintf(path, sizeof path, "%s.%s", p, k ? "sa" : "bwt");
		SQ_REQUIRE(stat(path, &st1) == 0 && truncate(path, st1.st_size - 1) == 0);
		SQ_CHECK(sq_ref_check_index(p) == SQ_EINPUT);
		SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
		SQ_CHECK(res.bwa_built == 1 && sq_ref_check_index(p) == 0);
	}
	/* an index of another FASTA (one more contig) is rebuilt */
	SQ_REQUIRE(sq_test_sh("printf '>extra\\nACGTACGTAC\\n' >> %s", p) == 0);
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	SQ_CHECK(res.bwa_built == 1 && res.fai_built == 1);
	sq_ref_t *ann = sq_ref_read_ann(p);
	SQ_REQUIRE(ann);
	SQ_CHECK(ann->n == 2 && strcmp(ann->ctg[1].name, "extra") == 0 && ann->ctg[1].len == 10);
	sq_ref_destroy(ann);
	/* same names and lengths but different bases: the SHA-256 in the table triggers a rebuild */
	SQ_REQUIRE(sq_test_sh("sed -i '$ s/ACGTACGTAC/TTTTTTTTTT/' %s", p) == 0);
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	SQ_CHECK(res.bwa_built == 1);
	SQ_CHECK(n_files(d, "q.fa.tmp") == 0);
	/* temporaries of a crashed run (dead PID) are removed by the next run */
	SQ_REQUIRE(sq_test_sh("touch %s.tmp.999999.bwt %s.fai.tmp.999999 %s.contigs.json.tmp.999999", p, p, p) == 0);
	SQ_REQUIRE(sq_ref_index(p, 0, &res) == 0);
	SQ_CHECK(sq_test_sh("ls %s | grep -q tmp", d) != 0);
}

static void test_check_index_messages(void)
{
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	const char *d = sq_test_tmpdir();
	char p[1024], msg[4096];
	snprintf(p, sizeof p, "%s/q.fa", d);
	cp(q, p);
	SQ_CHECK(sq_ref_check_index(p) == SQ_EIO);
	SQ_REQUIRE(sq_ref_index(p, 0, 0) == 0);
	SQ_CHECK(sq_ref_check_index(p) == 0);
	SQ_REQUIRE(sq_test_sh("rm %s.sa", p) == 0);
	SQ_CHECK(sq_ref_check_index(p) == SQ_EIO);
	/* the message names the missing file and the fix (stderr captured through a pipe) */
	fflush(stderr);
	int fd[2];
	SQ_REQUIRE(pipe(fd) == 0);
	int saved = dup(2);
	dup2(fd[1], 2);
	sq_ref_check_index(p);
	fflush(stderr);
	dup2(saved, 2);
	close(fd[1]);
	ssize_t n = read(fd[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = 0;
	SQ_CHECKF(strstr(msg, "q.fa.sa") && strstr(msg, "seqa index"), "message: %s", msg);
	/* .contigs.json of another reference: mismatch */
	SQ_REQUIRE(sq_ref_index(p, 0, 0) == 0);
	SQ_REQUIRE(sq_test_sh("sed -i 's/\"length\": 12356/\"length\": 12357/' %s.contigs.json", p) == 0);
	SQ_CHECK(sq_ref_check_index(p) == SQ_EINPUT);
}

/* ---- broken input: clear error class, nothing written --------------------------------- */

static void expect_bad(const char *d, const char *name, const char *content, int want, const char *msg_part)
{
	char p[1024], log[1100], out[4096];
	snprintf(p, sizeof p, "%s/%s", d, name);
	snprintf(log, sizeof log, "%s/%s.log", d, name);
	if (content) write_file(p, content);
	fflush(stderr);
	int saved = dup(2), lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	SQ_REQUIRE(saved >= 0 && lfd >= 0);
	dup2(lfd, 2), close(lfd);
	int r = sq_ref_index(p, 0, 0);
	fflush(stderr);
	dup2(saved, 2), close(saved);
	SQ_CHECKF(r == want, "%s: got %d, want %d", name, r, want);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "cat %s", log) == 0);
	SQ_CHECKF(strstr(out, msg_part) != NULL, "%s: message '%s' lacks '%s'", name, out, msg_part);
	SQ_CHECKF(sq_test_sh("ls -a '%s' | grep -F '%s.' | grep -v '[.]log$' | grep -q .", d, name) != 0,
	          "%s: outputs left behind", name); /* only the input and its log */
}

static void test_bad_fasta(void)
{
	const char *d = sq_test_tmpdir();
	expect_bad(d, "missing.fa", 0, SQ_EIO, "cannot open");
	expect_bad(d, "empty.fa", "", SQ_EINPUT, "no sequences");
	expect_bad(d, "noheader.fa", "ACGT\nACGT\n", SQ_EINPUT, "expected a '>' header");
	expect_bad(d, "noname.fa", "> x\nACGT\n", SQ_EINPUT, "empty sequence name");
	expect_bad(d, "dup.fa", ">a\nACGT\n>b\nAC\n>a\nGG\n", SQ_EINPUT, "duplicate sequence name 'a'");
	expect_bad(d, "badchar.fa", ">a\nACGT\nAC1T\n", SQ_EINPUT, "invalid sequence character '1'");
	expect_bad(d, "crlf.fa", ">a\r\nACGT\r\n", SQ_EINPUT, "CRLF");
	expect_bad(d, "binary.fa", ">a\nAC\x01T\n", SQ_EINPUT, "invalid byte 0x01");
	expect_bad(d, "ragged.fa", ">a\nACGT\nACGTA\n", SQ_EINPUT, "longer than");
	expect_bad(d, "allempty.fa", ">a\n>b\n", SQ_EINPUT, "total length 0");
	/* a truncated bgzip file */
	char p[1024];
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (q && sq_test_have("bgzip")) {
		snprintf(p, sizeof p, "%s/trunc.fa.gz", d);
		SQ_REQUIRE(sq_test_sh("bgzip -c %s | head -c 2000 > %s", q, p) == 0);
		expect_bad(d, "trunc.fa.gz", 0, SQ_EIO, "truncated");
	}
}

static void test_build_failure_leaves_nothing(void)
{
	/* libbwa exit()s when it cannot write: the forked child turns that into an error here */
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	const char *d = sq_test_tmpdir();
	char p[1024];
	sq_ref_index_opt_t o;
	snprintf(p, sizeof p, "%s/q.fa", d);
	cp(q, p);
	sq_ref_index_opt_init(&o);
	o.prefix = "tests/out/build_failure_leaves_nothing/no/such/dir/q";
	SQ_CHECK(sq_ref_index(p, &o, 0) == SQ_EOUTPUT);
	SQ_CHECK(n_files(d, "q") == 1);
	/* and this process is still alive and can build it elsewhere */
	o.prefix = "tests/out/build_failure_leaves_nothing/idx";
	SQ_CHECK(sq_ref_index(p, &o, 0) == 0);
	SQ_CHECK(sq_ref_check_index(o.prefix) == 0);
	SQ_CHECK(sq_file_readable("tests/out/build_failure_leaves_nothing/idx.fai"));
}

static void test_assembly_guess(void)
{
	sq_ref_t r;
	sq_contig_t c[3] = { { "chr1", 248956422, "" }, { "chr2", 242193529, "" }, { "chrM", 16569, "" } };
	memset(&r, 0, sizeof r);
	r.ctg = c, r.n = 3;
	sq_ref_guess_assembly(&r);
	SQ_CHECK(strcmp(r.assembly, "GRCh38") == 0 && strcmp(r.assembly_evidence, "contig lengths") == 0);
	c[0] = (sq_contig_t){ "1", 249250621, "" }, c[1] = (sq_contig_t){ "2", 243199373, "" };
	sq_ref_guess_assembly(&r);
	SQ_CHECK(strcmp(r.assembly, "GRCh37") == 0);
	c[0].len = 1000, c[1].len = 1000;
	r.fasta = "/x/GRCh38.chr21_1-10M.fa.gz";
	sq_ref_guess_assembly(&r);
	SQ_CHECK(strcmp(r.assembly, "GRCh38") == 0 && strcmp(r.assembly_evidence, "file name") == 0);
	r.fasta = "/x/lambda.fa";
	c[0].name = "NC_001416", r.n = 1;
	sq_ref_guess_assembly(&r);
	SQ_CHECK(strcmp(r.assembly, "unknown") == 0);
}

/* Random damage (byte changes, inserted newlines/'>'/CR, cuts): the reader never crashes, and
 * whatever it accepts, samtools' faidx (htslib fai_build) accepts with the same names/lengths. */
static void test_random_damage(void)
{
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	const char *d = sq_test_tmpdir();
	size_t n;
	char *orig = sq_read_file(q, &n), p[1024], fai[1100];
	SQ_REQUIRE(orig && n > 1000);
	/* start from two records so that damage can hit headers, lines and boundaries */
	char *base = malloc(2 * n + 16);
	memcpy(base, orig, n);
	memcpy(base + n, ">second rec\nACGTACGTAC\nACG\n", 27);
	size_t bn = n + 27;
	unsigned x = 12345;
	int accepted = 0, rejected = 0;
	snprintf(p, sizeof p, "%s/r.fa", d);
	snprintf(fai, sizeof fai, "%s/r.fa.fai", d);
	for (int it = 0; it < 300; ++it) {
		char *buf = malloc(bn + 8);
		size_t len = bn;
		memcpy(buf, base, bn);
		for (int k = 0; k < 1 + it % 3; ++k) {
			x = x * 1103515245u + 12345u;
			size_t at = (x >> 8) % len;
			switch ((x >> 4) % 6) {
			case 0: buf[at] = "ACGTNacgtn>\n\r 1-*"[(x >> 12) % 18]; break;
			case 1: memmove(buf + at + 1, buf + at, len - at); buf[at] = '\n'; ++len; break;
			case 2: memmove(buf + at, buf + at + 1, len - at - 1); --len; break;
			case 3: len = at + 1; break;
			case 4: memmove(buf + at + 1, buf + at, len - at); buf[at] = '>'; ++len; break;
			default: buf[at] = (char)(x >> 16); break;
			}
		}
		FILE *fp = fopen(p, "wb");
		SQ_REQUIRE(fp);
		fwrite(buf, 1, len, fp);
		fclose(fp);
		free(buf);
		int err = 0;
		sq_ref_t *r = sq_ref_scan(p, 0, &err);
		if (!r) { SQ_CHECK(err == SQ_EINPUT || err == SQ_EIO); ++rejected; continue; }
		++accepted;
		unlink(fai);
		int ok = fai_build3(p, fai, NULL) == 0;
		SQ_CHECKF(ok, "iteration %d: accepted by seqa, rejected by htslib fai_build", it);
		if (ok) {
			faidx_t *fx = fai_load3(p, fai, NULL, 0);
			SQ_REQUIRE(fx);
			SQ_CHECKF(faidx_nseq(fx) == r->n, "iteration %d: %d vs %d sequences", it, faidx_nseq(fx), r->n);
			for (int i = 0; i < r->n && i < faidx_nseq(fx); ++i)
				SQ_CHECKF(strcmp(faidx_iseq(fx, i), r->ctg[i].name) == 0 && faidx_seq_len(fx, r->ctg[i].name) == r->ctg[i].len,
				          "iteration %d: contig %d", it, i);
			fai_destroy(fx);
		}
		sq_ref_destroy(r);
	}
	printf("# random damage: %d accepted, %d rejected\n", accepted, rejected);
	SQ_CHECK(accepted > 20 && rejected > 20);
	free(orig), free(base);
}

/* A full disk (256 KiB tmpfs; needs root): libbwa dies writing, SQ_EOUTPUT, nothing left. */
static void test_disk_full(void)
{
	const char *fa = sq_test_shared("human/human_g1k_v37.chr17_1Mb.fasta");
	if (!fa) SQ_SKIP("../shared/data/human absent");
	char mnt[1024], p[1100];
	/* the mount point lives outside tests/out so a run killed while mounted cannot block the
	 * next run's scratch directory */
	snprintf(mnt, sizeof mnt, "/tmp/seqa-full.XXXXXX");
	SQ_REQUIRE(mkdtemp(mnt) != NULL);
	if (sq_test_sh("mount -t tmpfs -o size=1200k tmpfs %s 2>/dev/null", mnt) != 0) {
		rmdir(mnt);
		SQ_SKIP("cannot mount a small tmpfs here (not root?)");
	}
	snprintf(p, sizeof p, "%s/ref.fa", mnt);
	cp(fa, p); /* 1 MB: fits, its 2.8 MB index does not */
	SQ_CHECK(sq_ref_index(p, 0, 0) == SQ_EOUTPUT);
	SQ_CHECK(sq_test_sh("[ \"$(ls %s)\" = ref.fa ]", mnt) == 0);
	SQ_CHECK(sq_test_sh("umount %s && rmdir %s", mnt, mnt) == 0);
}

SQ_TESTS = {
	{ "index_identical_to_bwa", test_index_identical_to_bwa },
	{ "index_identical_to_bwa_algos", test_index_identical_to_bwa_algos },
	{ "md5_matches_samtools_dict", test_md5_matches_samtools_dict },
	{ "bgzip_reference", test_bgzip_reference },
	{ "existing_index_kept", test_existing_index_kept },
	{ "check_index_messages", test_check_index_messages },
	{ "bad_fasta", test_bad_fasta },
	{ "build_failure_leaves_nothing", test_build_failure_leaves_nothing },
	{ "assembly_guess", test_assembly_guess },
	{ "random_damage", test_random_damage },
	{ "ref_disk_full", test_disk_full },
	{ 0, 0 }
};
