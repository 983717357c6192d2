/* Seeding kernels: kernels/ref against libbwa's own SMEM search (bwt_smem1, bwt_seed_strategy1,
 * bwt_sa, combined as bwa mem's mem_collect_intv does), then every backend against kernels/ref,
 * on seeded random reads and edge cases (N bases, homopolymers, reads shorter than the minimum
 * seed, reads at contig ends).  Index: bwa index over a slice of GRCh38 chr21 plus tiny_chr22. */
#include "harness.h"
#include <bwa/bwa.h>
#include <bwa/bwt.h>
#include <bwa/bwamem.h>
#include "smem.h"

void ks_introsort_mem_intv(size_t n, bwtintv_t *a);   /* libbwa: bwa mem's own sort */
#include "../../host/align/align_internal.h"

static bwaidx_t *idx;
static char *refs;          /* forward reference, 0..3/4 */
static int64_t l_ref;
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static void setup(void)
{
	const char *chr21 = sq_test_shared("human/GRCh38.chr21_1-10M.fa.gz");
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!chr21 || !q) SQ_SKIP("../shared/data absent");
	if (!sq_test_have("samtools") || !sq_test_have("bwa")) SQ_SKIP("samtools/bwa not installed");
	const char *d = "tests/out/smem_index";
	if (sq_test_sh("test -s %s/ref.fa.sa || { mkdir -p %s && samtools faidx %s chr21:5000001-5150000 "
	               "| sed 's/^>.*/>s21/' > %s/ref.fa && cat %s >> %s/ref.fa && bwa index %s/ref.fa 2>/dev/null; }",
	               d, d, chr21, d, q, d, d) != 0) SQ_SKIP("cannot build the test index");
	char p[256];
	snprintf(p, sizeof p, "%s/ref.fa", d);
	idx = bwa_idx_load(p, BWA_IDX_ALL);
	SQ_REQUIRE(idx != NULL);
	l_ref = idx->bns->l_pac;
	refs = malloc((size_t)l_ref);
	for (int64_t i = 0; i < l_ref; ++i) refs[i] = (char)(idx->pac[i >> 2] >> ((~i & 3) << 1) & 3);
	for (int i = 0; i < idx->bns->n_holes; ++i)
		for (int64_t k = idx->bns->ambs[i].offset; k < idx->bns->ambs[i].offset + idx->bns->ambs[i].len; ++k) refs[k] = 4;
}

/* libbwa's seeding, combined exactly as bwa mem 0.7.17 does. */
static int bwa_collect(const mem_opt_t *opt, int len, const uint8_t *seq, sq_smem_t *out)
{
	bwtintv_v mem1 = {0, 0, 0}, all = {0, 0, 0};
	int x, n;
	int split_len = (int)(opt->min_seed_len * opt->split_factor + .499);
	#define PUSH(v, e) do { if ((v).n == (v).m) { (v).m = (v).m ? (v).m * 2 : 16; (v).a = realloc((v).a, (v).m * sizeof(bwtintv_t)); } (v).a[(v).n++] = (e); } while (0)
	for (x = 0; x < len;) {
		if (seq[x] > 3) { ++x; continue; }
		x = bwt_smem1(idx->bwt, len, seq, x, 1, &mem1, 0);
		for (size_t i = 0; i < mem1.n; ++i)
			if ((int)((uint32_t)mem1.a[i].info - (mem1.a[i].info >> 32)) >= opt->min_seed_len) PUSH(all, mem1.a[i]);
	}
	size_t n1 = all.n;
	for (size_t k = 0; k < n1; ++k) {
		bwtintv_t p = all.a[k];
		int s = (int)(p.info >> 32), e = (int32_t)p.info;
		if (e - s < split_len || p.x[2] > (uint64_t)opt->split_width) continue;
		bwt_smem1(idx->bwt, len, seq, (s + e) >> 1, (int)p.x[2] + 1, &mem1, 0);
		for (size_t i = 0; i < mem1.n; ++i)
			if ((int)((uint32_t)mem1.a[i].info - (mem1.a[i].info >> 32)) >= opt->min_seed_len) PUSH(all, mem1.a[i]);
	}
	for (x = 0; x < len;) {
		if (seq[x] > 3) { ++x; continue; }
		bwtintv_t m;
		x = bwt_seed_strategy1(idx->bwt, len, seq, x, opt->min_seed_len, opt->max_mem_intv, &m);
		if (m.x[2] > 0) PUSH(all, m);
	}
	ks_introsort_mem_intv(all.n, all.a);
	for (size_t i = 0; i < all.n; ++i) {
		out[i].x0 = all.a[i].x[0]; out[i].x1 = all.a[i].x[1]; out[i].x2 = all.a[i].x[2];
		out[i].qb = (uint32_t)(all.a[i].info >> 32); out[i].qe = (uint32_t)all.a[i].info;
	}
	n = (int)all.n;
	free(all.a); free(mem1.a);
	return n;
}

/* The read set: random substrings with mutations, both strands, N runs, homopolymers, short
 * reads, reads at contig ends, pure random sequence. */
static int make_reads(int n, uint8_t **seq_out, uint32_t **off_out)
{
	uint8_t *seq = malloc((size_t)n * 400);
	uint32_t *off = malloc((size_t)(n + 1) * sizeof *off);
	off[0] = 0;
	for (int r = 0; r < n; ++r) {
		int kind = r % 10, len = kind == 3 ? 1 + (int)(rnd() % 25) : 30 + (int)(rnd() % 221);
		uint8_t *s = seq + off[r];
		int64_t st;
		if (kind == 4) st = 0;                                             /* contig start */
		else if (kind == 5) st = idx->bns->anns[0].len - len;              /* end of contig 0 */
		else if (kind == 6) st = l_ref - len;                              /* end of the last contig */
		else st = (int64_t)(rnd() % (uint64_t)(l_ref - len));
		for (int i = 0; i < len; ++i) s[i] = (uint8_t)refs[st + i];
		if (kind == 7) for (int i = 0; i < len; ++i) s[i] = (uint8_t)(rnd() & 3);
		if (kind == 8) { int c = (int)(rnd() & 3); for (int i = len / 4; i < len; ++i) s[i] = (uint8_t)c; }
		for (int i = 0; i < len; ++i) if (rnd() % 100 == 0) s[i] = (uint8_t)(rnd() % 5);   /* SNVs and Ns */
		if (kind == 9) for (int i = len / 3; i < len / 3 + 5; ++i) s[i] = 4;               /* an N run */
		if (rnd() & 1) {                                                  /* reverse complement */
			for (int i = 0, j = len - 1; i < j; ++i, --j) { uint8_t t = s[i]; s[i] = s[j]; s[j] = t; }
			for (int i = 0; i < len; ++i) if (s[i] < 4) s[i] = (uint8_t)(3 - s[i]);
		}
		off[r + 1] = off[r] + (uint32_t)len;
	}
	*seq_out = seq; *off_out = off;
	return n;
}

static void test_ref_vs_libbwa(void)
{
	setup();
	sq_fmi_t f; sq_smem_opt_t so; mem_opt_t *opt = mem_opt_init();
	sq_aln_fmi_view(idx->bwt, &f);
	sq_smem_opt_init(&so);
	SQ_CHECK(so.min_seed_len == opt->min_seed_len && (uint64_t)so.split_width == (uint64_t)opt->split_width &&
	         (uint64_t)so.max_mem_intv == opt->max_mem_intv && so.max_occ == opt->max_occ);
	uint8_t *seq; uint32_t *off;
	int n = make_reads(3000, &seq, &off), bad = 0, total = 0;
	sq_smem_t a[2000], b[2000];
	for (int r = 0; r < n; ++r) {
		int len = (int)(off[r + 1] - off[r]);
		int na = sq_smem_ref(&f, &so, len, seq + off[r], a, 2000);
		int nb = bwa_collect(opt, len, seq + off[r], b);
		total += na;
		if (na != nb || memcmp(a, b, (size_t)na * sizeof *a) != 0) {
			if (bad++ < 5) SQ_CHECKF(0, "read %d (len %d): ref %d SMEMs, libbwa %d", r, len, na, nb);
		}
	}
	SQ_CHECKF(bad == 0, "%d of %d reads differ", bad, n);
	SQ_CHECKF(total > n, "too few SMEMs found (%d): the test would prove nothing", total);
	/* suffix array: every row of a stride, and the rows these SMEMs need */
	int sa_bad = 0;
	for (uint64_t k = 0; k <= f.seq_len; k += 7) if (sq_fmi_sa(&f, k) != bwt_sa(idx->bwt, k)) ++sa_bad;
	for (uint64_t k = 0; k < 5; ++k) if (sq_fmi_occ(&f, f.seq_len - k, (int)(k & 3)) != bwt_occ(idx->bwt, f.seq_len - (uint64_t)k, (ubyte_t)(k & 3))) ++sa_bad;
	SQ_CHECKF(sa_bad == 0, "%d SA values differ from bwt_sa", sa_bad);
	free(opt); free(seq); free(off);
}

/* Run a batch through one backend; compare SMEMs and SA values with the reference. */
static void check_backend(const char *name, int tune)
{
	setup();
	sq_fmi_t f; sq_smem_opt_t so;
	sq_aln_fmi_view(idx->bwt, &f);
	sq_smem_opt_init(&so);
	sq_seeder_t *be = sq_aln_seeder_open(name, &f, &so, 2);
	if (!be && strcmp(name, "cpu") != 0) SQ_SKIP("backend %s not available here%s", name, strcmp(name, "cuda") == 0 ? " (no CUDA device or libseqa_cuda.so)" : "");
	SQ_REQUIRE(be != NULL);
	if (tune) sq_seeder_tune(be, INT64_MAX);   /* cpu: the dense suffix-array sample */
	uint8_t *seq; uint32_t *off;
	int n = make_reads(4000, &seq, &off);
	uint32_t *moff = malloc((size_t)(n + 1) * sizeof *moff);
	moff[0] = 0;
	for (int r = 0; r < n; ++r) moff[r + 1] = moff[r] + (uint32_t)sq_smem_cap((int)(off[r + 1] - off[r]));
	sq_smem_t *mem = malloc(moff[n] * sizeof *mem), ref[2000];
	int32_t *nm = malloc((size_t)n * sizeof *nm);
	sq_smem_job_t job = { n, seq, off, moff, mem, nm };
	SQ_REQUIRE(sq_seeder_smem(be, &job) == 0);
	int bad = 0;
	int64_t nrows = 0;
	for (int r = 0; r < n; ++r) {
		int len = (int)(off[r + 1] - off[r]);
		int k = sq_smem_ref(&f, &so, len, seq + off[r], ref, 2000);
		if (k != nm[r] || memcmp(ref, mem + moff[r], (size_t)k * sizeof *ref) != 0) {
			if (bad++ < 5) SQ_CHECKF(0, "%s read %d (len %d): %d SMEMs, ref %d", name, r, len, nm[r], k);
		}
		nrows += sq_smem_n_sa(&so, nm[r], mem + moff[r]);
	}
	SQ_CHECKF(bad == 0, "%s: %d of %d reads differ from kernels/ref", name, bad, n);
	uint64_t *rows = malloc((size_t)nrows * sizeof *rows), *sa = malloc((size_t)nrows * sizeof *sa);
	int64_t t = 0;
	for (int r = 0; r < n; ++r) t += sq_smem_sa_rows(&so, nm[r], mem + moff[r], rows + t);
	SQ_CHECK(t == nrows);
	SQ_REQUIRE(sq_seeder_sa(be, nrows, rows, sa) == 0);
	int sa_bad = 0;
	for (int64_t i = 0; i < nrows; ++i) if (sa[i] != sq_fmi_sa(&f, rows[i])) ++sa_bad;
	SQ_CHECKF(sa_bad == 0, "%s: %d of %lld SA values differ", name, sa_bad, (long long)nrows);
	SQ_CHECKF(nrows > (int64_t)n, "too few SA lookups (%lld)", (long long)nrows);
	sq_seeder_close(be);
}

static void test_cpu(void) { check_backend("cpu", 0); }
static void test_cpu_dense(void) { check_backend("cpu", 1); }
static void test_opencl(void) { check_backend("opencl", 1); }
static void test_cuda(void)
{
	if (!getenv("SEQA_CUDA_LIB")) {   /* the test binary lives in build/tests/: name the library */
		if (access("build/libseqa_cuda.so", R_OK) != 0)
			SQ_SKIP("CUDA: build/libseqa_cuda.so not built here (no nvcc); CUDA seeding test skipped");
		setenv("SEQA_CUDA_LIB", "build/libseqa_cuda.so", 1);
	}
	check_backend("cuda", 1);
}

SQ_TESTS = {
	{ "ref_vs_libbwa", test_ref_vs_libbwa },
	{ "cpu_vs_ref", test_cpu },
	{ "cpu_dense_sa_vs_ref", test_cpu_dense },
	{ "opencl_vs_ref", test_opencl },
	{ "cuda_vs_ref", test_cuda },
	{ 0, 0 }
};
