/* Unit tests of host/sim: truth VCF normalised as bcftools norm, SNPs recovered by bwa mem +
 * bcftools call, read names that point at the reads' true reference positions, calibrated
 * qualities, insert sizes, determinism (seed, threads), variant mix, errors. */
#include <ctype.h>
#include <math.h>
#include <zlib.h>
#include <htslib/kseq.h>
#include "harness.h"
#include "seqa/ref.h"
#include "seqa/sim.h"
#include "seqa/util.h"

KSEQ_INIT(gzFile, gzread)

static const char *chr17(void) { return sq_test_shared("human/human_g1k_v37.chr17_1Mb.fasta"); }

/* copy the 1 Mb chr17 into the test dir (bcftools/samtools write .fai next to it) */
static const char *ref_copy(const char *d)
{
	static char p[1024];
	const char *src = chr17();
	if (!src) SQ_SKIP("../shared/data/human absent");
	snprintf(p, sizeof p, "%s/ref.fa", d);
	SQ_REQUIRE(sq_test_sh("cp %s %s && chmod u+w %s", src, p, p) == 0);
	return p;
}

static void need(const char *prog)
{
	if (!sq_test_have(prog)) SQ_SKIP("%s not installed", prog);
}

static int run_sim(sq_sim_opt_t *o, sq_sim_stats_t *st)
{
	int r = sq_sim_run(o, st);
	return r;
}

/* the reference sequence of contig 0 (upper case) */
static char *load_seq(const char *fa, int64_t *len)
{
	sq_fa_t *f = sq_fa_open(fa);
	sq_fa_rec_t rec;
	SQ_REQUIRE(f && sq_fa_next(f, &rec) == 0);
	char *s = strdup(rec.seq);
	for (int64_t i = 0; i < rec.len; ++i) s[i] = (char)toupper((unsigned char)s[i]);
	*len = rec.len;
	sq_fa_close(f);
	return s;
}

static void revcomp(char *s, int n)
{
	for (int i = 0, j = n - 1; i <= j; ++i, --j) {
		char a = s[i], b = s[j];
		s[i] = "TGCA"[strchr("ACGT", b) - "ACGT"], s[j] = "TGCA"[strchr("ACGT", a) - "ACGT"];
	}
}

/* ---- read names ----------------------------------------------------------------------- */

static void test_parse_name(void)
{
	sq_sim_origin_t o;
	SQ_CHECK(sq_sim_parse_name("chr1_1001_1250_f_1_0", &o) == 0);
	SQ_CHECK(strcmp(o.contig, "chr1") == 0 && o.pos1 == 1001 && o.pos2 == 1250 && o.strand1 == 0 && o.hap == 1 && o.index == 0);
	SQ_CHECK(sq_sim_parse_name("chrUn_KI270302v1_5_7_r_2_123456/2 1:N:0", &o) == 0);
	SQ_CHECK(strcmp(o.contig, "chrUn_KI270302v1") == 0 && o.pos1 == 5 && o.pos2 == 7 && o.strand1 == 1 && o.hap == 2 && o.index == 123456);
	SQ_CHECK(sq_sim_parse_name("HLA-A*01:01:01:01_1_2_f_1_9\tx", &o) == 0 && strcmp(o.contig, "HLA-A*01:01:01:01") == 0);
	const char *bad[] = { "", "read1", "chr1_1_2_f_1", "_1_2_f_1_0", "chr1_0_2_f_1_0", "chr1_1_2_x_1_0",
	                      "chr1_1_2_f_3_0", "chr1_1_2_f_1_", "chr1_a_2_f_1_0", "chr1_1_2_ff_1_0", "chr1_1_-2_f_1_0", 0 };
	for (int i = 0; bad[i]; ++i) SQ_CHECKF(sq_sim_parse_name(bad[i], &o) == SQ_EINPUT, "accepted '%s'", bad[i]);
	SQ_CHECK(sq_sim_parse_name(NULL, &o) == SQ_EINPUT);
}

/* Error-free, variant-free reads: every mate's bases equal the reference at the position its
 * name gives (reverse-complemented for the reverse mate); FR orientation; insert sizes. */
static void test_names_match_reference(void)
{
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024], r1[1100], r2[1100];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	int64_t len;
	snprintf(pre, sizeof pre, "%s/clean", d);
	sq_sim_opt_init(&o);
	o.ref = ref, o.prefix = pre, o.coverage = 2, o.snp_rate = 0, o.indel_rate = 0, o.error_rate = 0;
	o.regions = "17:1-400000", o.seed = 5;
	SQ_REQUIRE(run_sim(&o, &st) == 0);
	SQ_CHECK(st.n_snp + st.n_ins + st.n_del == 0 && st.n_bases_err == 0);
	char *seq = load_seq(ref, &len);
	snprintf(r1, sizeof r1, "%s_R1.fq.gz", pre);
	snprintf(r2, sizeof r2, "%s_R2.fq.gz", pre);
	gzFile f1 = gzopen(r1, "r"), f2 = gzopen(r2, "r");
	SQ_REQUIRE(f1 && f2);
	kseq_t *k1 = kseq_init(f1), *k2 = kseq_init(f2);
	int64_t n = 0, bad = 0, badq = 0, outside = 0;
	double s1 = 0, s2 = 0;
	while (kseq_read(k1) >= 0) {
		SQ_REQUIRE(kseq_read(k2) >= 0);
		sq_sim_origin_t og;
		SQ_REQUIRE(strcmp(k1->name.s, k2->name.s) == 0);
		SQ_REQUIRE(sq_sim_parse_name(k1->name.s, &og) == 0);
		SQ_CHECK(og.index == n && strcmp(og.contig, "17") == 0);
		int L = (int)k1->seq.l;
		int64_t pf = og.strand1 ? og.pos2 : og.pos1, pr = og.strand1 ? og.pos1 : og.pos2;
		char *fw = og.strand1 ? k2->seq.s : k1->seq.s, *rv = og.strand1 ? k1->seq.s : k2->seq.s;
		if (pr + L - 1 > 400000 || pf < 1) ++outside;
		revcomp(rv, L);
		bad += strncmp(fw, seq + pf - 1, L) != 0;
		bad += strncmp(rv, seq + pr - 1, L) != 0;
		for (int i = 0; i < L; ++i) badq += k1->qual.s[i] != 'I' || k2->qual.s[i] != 'I';
		SQ_CHECK(pf <= pr); /* FR: the forward mate starts first */
		double isz = (double)(pr + L - pf);
		s1 += isz, s2 += isz * isz;
		++n;
	}
	SQ_CHECK(kseq_read(k2) < 0);
	int64_t acgt = 0; /* coverage is over the A/C/G/T bases of the region (chr17 has an N gap here) */
	for (int64_t i = 0; i < 400000; ++i) acgt += strchr("ACGT", seq[i]) != NULL;
	SQ_CHECKF(st.sim_len == acgt && acgt > 250000, "simulated length %lld, %lld ACGT", (long long)st.sim_len, (long long)acgt);
	SQ_CHECKF(n == st.n_pairs && n == llround(2.0 * acgt / 300), "n=%lld", (long long)n);
	SQ_CHECKF(bad == 0, "%lld of %lld mates differ from the reference at their named position", (long long)bad, (long long)(2 * n));
	SQ_CHECK(badq == 0 && outside == 0);
	double mean = s1 / n, sd = sqrt(s2 / n - mean * mean);
	SQ_CHECKF(fabs(mean - 400) < 5 && fabs(sd - 40) < 4, "insert size %.1f +- %.1f", mean, sd);
	kseq_destroy(k1), kseq_destroy(k2), gzclose(f1), gzclose(f2);
	free(seq);
}

/* With variants and indels (error-free), bwa mem places reads where their names say. */
static void test_names_match_bwa_positions(void)
{
	need("bwa"), need("samtools");
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024], out[256];
	sq_sim_opt_t o;
	snprintf(pre, sizeof pre, "%s/v", d);
	sq_sim_opt_init(&o);
	o.ref = ref, o.prefix = pre, o.coverage = 3, o.snp_rate = 2e-3, o.indel_rate = 2e-3, o.error_rate = 0;
	o.regions = "17:400001-700000", o.seed = 7;
	SQ_REQUIRE(run_sim(&o, 0) == 0);
	SQ_REQUIRE(sq_test_sh("bwa index %s 2>/dev/null", ref) == 0);
	/* per primary mapped read with MAPQ>=30: name position vs POS minus the leading soft clip */
	SQ_REQUIRE(sq_test_sh("bwa mem -t 2 %s %s_R1.fq.gz %s_R2.fq.gz 2>/dev/null | samtools view -F 0x904 -q 30 - "
	                      "> %s/aln.sam", ref, pre, pre, d) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out,
	    "awk '{ n=split($1,f,\"_\"); want=(int($2/64)%%2?f[n-4]:f[n-3]); clip=0;"
	    " if (match($6,/^[0-9]+S/)) clip=substr($6,1,RLENGTH-1); got=$4-clip; t++;"
	    " if (got==want) e++; else if (got-want<=25 && want-got<=25) c++ }"
	    " END { print t, e, c }' %s/aln.sam", d) == 0);
	long t = 0, e = 0, c = 0;
	SQ_REQUIRE(sscanf(out, "%ld %ld %ld", &t, &e, &c) == 3);
	SQ_CHECKF(t > 5000, "only %ld reads aligned", t);
	SQ_CHECKF(e >= 0.98 * t && e + c >= 0.998 * t, "exact %ld, within 25 bp %ld, of %ld", e, c, t);
}

/* ---- truth VCF -------------------------------------------------------------------------- */

static void test_truth_vcf_normalised(void)
{
	need("bcftools"), need("samtools");
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024], vcf[1100], out[65536];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	snprintf(pre, sizeof pre, "%s/t", d);
	snprintf(vcf, sizeof vcf, "%s.truth.vcf.gz", pre);
	sq_sim_opt_init(&o);
	o.ref = ref, o.prefix = pre, o.coverage = 0, o.snp_rate = 3e-3, o.indel_rate = 1.5e-3, o.seed = 3;
	o.sample = "NA_TEST";
	SQ_REQUIRE(run_sim(&o, &st) == 0);
	SQ_CHECKF(st.n_snp > 2000 && st.n_ins + st.n_del > 800, "%lld SNPs, %lld indels", (long long)st.n_snp, (long long)(st.n_ins + st.n_del));
	/* REF matches the reference */
	SQ_CHECK(sq_test_sh("bcftools norm -c e -f %s %s -Ou -o /dev/null 2>%s/norm.err", ref, vcf, d) == 0);
	/* already left-aligned and normalised: bcftools norm changes no record */
	SQ_CHECK(sq_test_sh("bcftools norm -f %s %s 2>/dev/null | bcftools view -H > %s/normed.txt && "
	                    "bcftools view -H %s > %s/orig.txt && cmp -s %s/normed.txt %s/orig.txt", ref, vcf, d, vcf, d, d, d) == 0);
	SQ_CHECK(sq_test_capture(out, sizeof out, "bcftools norm -f %s %s 2>&1 >/dev/null", ref, vcf) == 0 &&
	         strstr(out, "/0/0/0") != NULL); /* Lines total/split/realigned/skipped: N/0/0/0 */
	/* sorted, indexed, no overlapping records, no N in alleles, biallelic, the sample */
	SQ_CHECK(sq_test_sh("tabix -l %s | grep -qx 17", vcf) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out,
	    "bcftools query -f '%%POS\\t%%REF\\t%%ALT\\n' %s | awk 'BEGIN{e=0;b=0} { if ($1<=e) b++; e=$1+length($2)-1;"
	    " if ($2 ~ /[^ACGT]/ || $3 ~ /[^ACGT]/) b++ } END { print b }'", vcf) == 0);
	SQ_CHECKF(atoi(out) == 0, "%s overlapping/unsorted/N records", out);
	SQ_CHECK(sq_test_capture(out, sizeof out, "bcftools query -l %s", vcf) == 0 && strcmp(out, "NA_TEST\n") == 0);
	/* ##contig with length and md5 as samtools dict */
	char want[512];
	SQ_REQUIRE(sq_test_capture(want, sizeof want, "samtools dict %s | awk -F'\\t' '/^@SQ/{print \"##contig=<ID=\" substr($2,4) \",length=\" substr($3,4) \",md5=\" substr($4,4) \">\"}'", ref) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "bcftools view -h %s | grep '^##contig'", vcf) == 0);
	SQ_CHECKF(strcmp(out, want) == 0, "%s vs %s", out, want);
	/* genotype and length mix: het ~0.67; indels 1-20 bp, mostly 1-3; both kinds; Ti/Tv ~2 */
	SQ_REQUIRE(sq_test_capture(out, sizeof out,
	    "bcftools query -f '%%REF\\t%%ALT\\t[%%GT]\\n' %s | awk '{ L=length($2)-length($1); if (L<0) L=-L;"
	    " if ($3==\"1|1\") hom++; else if ($3==\"0|1\"||$3==\"1|0\") het++; else odd++;"
	    " if (L==0) { s=$1 $2; if (s==\"AG\"||s==\"GA\"||s==\"CT\"||s==\"TC\") ti++; else tv++ }"
	    " else { n++; if (L<=3) short++; if (L>5) long++; if (L>mx) mx=L; if (length($2)>length($1)) ins++ } }"
	    " END { print het+0, hom+0, odd+0, ti+0, tv+0, n+0, short+0, long+0, mx+0, ins+0 }'", vcf) == 0);
	long het, hom, odd, ti, tv, n, sh, lg, mx, ins;
	SQ_REQUIRE(sscanf(out, "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &het, &hom, &odd, &ti, &tv, &n, &sh, &lg, &mx, &ins) == 10);
	double hf = (double)het / (het + hom), titv = (double)ti / tv;
	SQ_CHECKF(odd == 0 && fabs(hf - 0.67) < 0.04, "het fraction %.3f (odd %ld)", hf, odd);
	SQ_CHECKF(titv > 1.7 && titv < 2.4, "Ti/Tv %.2f", titv);
	SQ_CHECKF(sh >= 0.65 * n && lg >= 0.05 * n && mx <= 20 && mx >= 10, "indels: %ld, %ld of 1-3 bp, %ld >5 bp, max %ld", n, sh, lg, mx);
	SQ_CHECKF(ins > 0.4 * n && ins < 0.6 * n, "%ld insertions of %ld indels", ins, n);
	SQ_CHECK(n == st.n_ins + st.n_del && het + hom == st.n_snp + st.n_ins + st.n_del);
	/* PREFIX.truth.bed: the A/C/G/T stretches simulated; every record lies inside it */
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "awk '{s+=$3-$2} END{print s}' %s.truth.bed", pre) == 0);
	SQ_CHECKF(atoll(out) == st.sim_len, "BED covers %s bp, %lld simulated", out, (long long)st.sim_len);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "bcftools view -H -T ^%s.truth.bed %s | wc -l", pre, vcf) == 0);
	SQ_CHECKF(atoi(out) == 0, "%s records outside the BED", out);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "awk '$2<p||$3<=$2{b++} {p=$3} END{print b+0, NR}' %s.truth.bed", pre) == 0);
	SQ_CHECKF(strcmp(out, "0 2\n") == 0, "BED sorted, 2 intervals around chr17's N gap: %s", out);
}

/* ---- determinism ------------------------------------------------------------------------ */

static void test_deterministic(void)
{
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	static const char *const suf[] = { "_R1.fq.gz", "_R2.fq.gz", ".truth.vcf.gz", ".truth.vcf.gz.tbi", ".truth.bed", 0 };
	char pre[4][1024];
	sq_sim_opt_t o;
	sq_sim_opt_init(&o);
	o.ref = ref, o.coverage = 4, o.regions = "17:300001-500000,17:1-100000";
	int threads[4] = { 1, 1, 3, 1 };
	for (int k = 0; k < 4; ++k) {
		snprintf(pre[k], sizeof pre[k], "%s/run%d", d, k);
		o.prefix = pre[k], o.n_threads = threads[k], o.seed = k == 3 ? 12 : 11;
		SQ_REQUIRE(run_sim(&o, 0) == 0);
	}
	for (int i = 0; suf[i]; ++i) {
		SQ_CHECKF(sq_test_sh("cmp -s %s%s %s%s", pre[0], suf[i], pre[1], suf[i]) == 0, "same seed: %s differs", suf[i]);
		SQ_CHECKF(sq_test_sh("cmp -s %s%s %s%s", pre[0], suf[i], pre[2], suf[i]) == 0, "-t 3: %s differs", suf[i]);
		if (strcmp(suf[i], ".truth.bed") != 0) /* the BED depends on the reference and regions only */
			SQ_CHECKF(sq_test_sh("cmp -s %s%s %s%s", pre[0], suf[i], pre[3], suf[i]) != 0, "other seed: %s identical", suf[i]);
	}
	/* regions given out of order come out sorted; variants only inside them */
	char out[256];
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "bcftools query -f '%%POS\\n' %s%s | awk '$1<p{b++} {p=$1} "
	                           "$1>100000 && $1<=300001 {b++} $1>500000 {b++} END{print b+0, NR}'", pre[0], suf[2]) == 0);
	long b = -1, nr = 0;
	SQ_CHECK(sscanf(out, "%ld %ld", &b, &nr) == 2 && b == 0 && nr > 200);
}

/* ---- qualities and errors --------------------------------------------------------------- */

static void test_quality_calibrated(void)
{
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024], r1[1100];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	int64_t len;
	char *seq = load_seq(ref, &len);
	double rates[2] = { 1e-3, 5e-3 };
	for (int k = 0; k < 2; ++k) {
		snprintf(pre, sizeof pre, "%s/q%d", d, k);
		sq_sim_opt_init(&o);
		o.ref = ref, o.prefix = pre, o.coverage = 3, o.snp_rate = 0, o.indel_rate = 0, o.error_rate = rates[k];
		o.regions = "17:1-500000";
		SQ_REQUIRE(run_sim(&o, &st) == 0);
		/* count mismatches to the reference per quality and per cycle third (mate 1) */
		snprintf(r1, sizeof r1, "%s_R1.fq.gz", pre);
		gzFile f = gzopen(r1, "r");
		SQ_REQUIRE(f);
		kseq_t *ks = kseq_init(f);
		int64_t nq[64] = { 0 }, eq[64] = { 0 }, nc[3] = { 0 }, ec[3] = { 0 }, nb = 0, ne = 0, n30 = 0;
		while (kseq_read(ks) >= 0) {
			sq_sim_origin_t og;
			SQ_REQUIRE(sq_sim_parse_name(ks->name.s, &og) == 0);
			int L = (int)ks->seq.l;
			char *truth = strndup(seq + og.pos1 - 1, L);
			if (og.strand1) revcomp(truth, L);
			for (int i = 0; i < L; ++i) {
				int q = ks->qual.s[i] - 33, e = ks->seq.s[i] != truth[i];
				nq[q]++, eq[q] += e, nc[i * 3 / L]++, ec[i * 3 / L] += e, nb++, ne += e, n30 += q >= 30;
			}
			free(truth);
		}
		kseq_destroy(ks), gzclose(f);
		double lo = 0, hi = 0, nlo = 0, nhi = 0;
		for (int q = 0; q < 64; ++q) {
			if (q < 20) lo += eq[q], nlo += nq[q];
			if (q >= 30) hi += eq[q], nhi += nq[q];
		}
		double rate = (double)ne / nb;
		SQ_CHECKF(fabs(rate - rates[k]) < 0.15 * rates[k], "error rate %.5f for %.5f", rate, rates[k]);
		double srate = (double)st.n_bases_err / st.n_bases; /* both mates, as the simulator counted */
		SQ_CHECKF(fabs(srate - rate) < 0.1 * rate, "simulator says %.5f, mate 1 shows %.5f", srate, rate);
		SQ_CHECKF(nlo > 0 && lo / nlo > 0.02, "Q<20: %.4f errors", nlo ? lo / nlo : 0);
		SQ_CHECKF(hi / nhi < 0.002, "Q>=30: %.5f errors", hi / nhi);
		SQ_CHECKF((double)ec[2] / nc[2] > 1.5 * ec[0] / nc[0], "errors do not rise along the read: %.5f -> %.5f",
		          (double)ec[0] / nc[0], (double)ec[2] / nc[2]);
		if (k == 0) SQ_CHECKF(n30 > 0.8 * nb, "only %.1f%% of bases >= Q30", 100.0 * n30 / nb);
		/* Phred calibration: at Q30-35 the observed rate is within a factor 2 of 10^-Q/10 */
		double e3 = 0, n3 = 0, p3 = 0;
		for (int q = 30; q <= 35; ++q) e3 += eq[q], n3 += nq[q], p3 += nq[q] * pow(10, -q / 10.0);
		SQ_CHECKF(e3 < 2 * p3 + 10 && e3 > 0.5 * p3 - 10, "Q30-35: %.0f errors, %.0f expected", e3, p3);
	}
	free(seq);
}

/* ---- SNPs recovered by bwa mem + bcftools call ------------------------------------------- */

static void test_snps_recovered(void)
{
	need("bwa"), need("samtools"), need("bcftools");
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024], out[256];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	snprintf(pre, sizeof pre, "%s/s", d);
	sq_sim_opt_init(&o);
	o.ref = ref, o.prefix = pre, o.coverage = 25, o.regions = "17:400001-700000", o.seed = 2024, o.n_threads = 2;
	SQ_REQUIRE(run_sim(&o, &st) == 0);
	SQ_REQUIRE(sq_test_sh("bwa index %s 2>/dev/null && samtools faidx %s", ref, ref) == 0);
	SQ_REQUIRE(sq_test_sh("bwa mem -t 2 %s %s_R1.fq.gz %s_R2.fq.gz 2>/dev/null | samtools sort -o %s/a.bam - 2>/dev/null"
	                      " && samtools index %s/a.bam", ref, pre, pre, d, d) == 0);
	SQ_REQUIRE(sq_test_sh("bcftools mpileup -r 17:400001-700000 -f %s %s/a.bam 2>/dev/null | bcftools call -mv -Oz -o %s/calls.vcf.gz 2>/dev/null"
	                      " && bcftools index -t %s/calls.vcf.gz", ref, d, d, d) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "bcftools view -H -v snps %s.truth.vcf.gz | wc -l; "
	                           "bcftools isec -n=2 -w1 %s.truth.vcf.gz %s/calls.vcf.gz 2>/dev/null | grep -c 'VT=SNP'; "
	                           "bcftools isec -n=2 -w1 %s.truth.vcf.gz %s/calls.vcf.gz 2>/dev/null | grep -vc '^#\\|VT=SNP'",
	                           pre, pre, d, pre, d) == 0);
	long n = 0, hit = 0, ihit = 0;
	SQ_REQUIRE(sscanf(out, "%ld %ld %ld", &n, &hit, &ihit) == 3);
	SQ_CHECK(n == st.n_snp && n > 200);
	SQ_CHECKF(hit >= 0.95 * n, "bcftools call recovered %ld of %ld simulated SNPs (%.1f%%)", hit, n, 100.0 * hit / n);
	printf("# SNPs recovered: %ld/%ld (%.1f%%); indels exactly matched: %ld/%lld\n", hit, n, 100.0 * hit / n,
	       ihit, (long long)(st.n_ins + st.n_del));
}

/* ---- bgzipped reference, errors --------------------------------------------------------- */

static void test_bgzip_reference(void)
{
	const char *gz = sq_test_shared("human/GRCh38.chr21_1-10M.fa.gz");
	if (!gz) SQ_SKIP("../shared/data/human absent");
	need("samtools");
	const char *d = sq_test_tmpdir();
	char pre[1024], want[512], out[512];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	snprintf(pre, sizeof pre, "%s/g", d);
	sq_sim_opt_init(&o);
	o.ref = gz, o.prefix = pre, o.coverage = 2, o.regions = "chr21:5000001-5400000";
	SQ_REQUIRE(run_sim(&o, &st) == 0);
	SQ_CHECK(st.n_pairs > 100 && st.n_snp > 10);
	SQ_REQUIRE(sq_test_capture(want, sizeof want, "samtools dict %s | awk -F'\\t' '/^@SQ/{print \"##contig=<ID=\" substr($2,4) \",length=\" substr($3,4) \",md5=\" substr($4,4) \">\"}'", gz) == 0);
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "zcat %s.truth.vcf.gz | grep '^##contig'", pre) == 0);
	SQ_CHECKF(strcmp(out, want) == 0, "%s vs %s", out, want);
	SQ_CHECK(sq_test_sh("zcat %s_R1.fq.gz | head -1 | grep -q '^@chr21_'", pre) == 0);
}

static void test_errors_leave_nothing(void)
{
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024];
	sq_sim_opt_t o;
	snprintf(pre, sizeof pre, "%s/e", d);
	sq_sim_opt_init(&o);
	o.prefix = pre, o.coverage = 1;
	o.ref = "tests/out/errors_leave_nothing/missing.fa";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EIO);
	o.ref = ref;
	o.regions = "chrZ:1-1000";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EINPUT);
	o.regions = "17:1-1000,17:500-2000";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EINPUT);
	o.regions = "17:5000000-6000000";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EINPUT);
	o.regions = "17:0-100";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EINVAL);
	o.regions = "17:1-50"; /* shorter than a read */
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EINPUT);
	o.regions = 0, o.read_len = 5;
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EINVAL);
	SQ_CHECK(sq_test_sh("ls %s | grep -q '^e'", d) != 0);
	/* an unwritable prefix: nothing left either */
	sq_sim_opt_init(&o);
	o.ref = ref, o.coverage = 1, o.prefix = "tests/out/errors_leave_nothing/no/dir/x", o.regions = "17:1-20000";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EOUTPUT);
	SQ_CHECK(sq_test_sh("ls %s | grep -vq '^ref.fa'", d) != 0);
}

/* a contig named like a region ("HLA-A*01:01"); temporaries of a crashed run are removed */
static void test_regions_names_and_stale_tmp(void)
{
	const char *q = sq_test_shared("tiny_chr22/q.fa");
	if (!q) SQ_SKIP("../shared/data absent");
	const char *d = sq_test_tmpdir();
	char fa[1024], pre[1024], out[512];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	snprintf(fa, sizeof fa, "%s/hla.fa", d);
	snprintf(pre, sizeof pre, "%s/h", d);
	SQ_REQUIRE(sq_test_sh("(echo '>HLA-A*01:01'; sed -n 2,60p %s; echo '>q'; sed -n 61,200p %s) > %s", q, q, fa) == 0);
	sq_sim_opt_init(&o);
	o.ref = fa, o.prefix = pre, o.coverage = 5, o.regions = "HLA-A*01:01";
	SQ_REQUIRE(sq_sim_run(&o, &st) == 0);
	SQ_CHECK(sq_test_capture(out, sizeof out, "gzip -dc %s_R1.fq.gz | awk 'NR%%4==1' | cut -d_ -f1 | sort -u", pre) == 0 &&
	         strcmp(out, "@HLA-A*01:01\n") == 0);
	o.regions = "HLA-A*01:01:101-2000";
	SQ_REQUIRE(sq_sim_run(&o, &st) == 0);
	SQ_CHECK(st.sim_len == 1900);
	/* a temporary of a dead process goes; one of a live process (this one's parent) stays */
	SQ_REQUIRE(sq_test_sh("touch %s.tmp.999999_R1.fq.gz %s.tmp.%ld_R1.fq.gz", pre, pre, (long)getppid()) == 0);
	SQ_REQUIRE(sq_sim_run(&o, &st) == 0);
	SQ_CHECK(sq_test_sh("[ ! -e %s.tmp.999999_R1.fq.gz ] && [ -e %s.tmp.%ld_R1.fq.gz ]", pre, pre, (long)getppid()) == 0);
}

/* --dup-rate: that fraction of pairs repeat the previous fragment (same name fields but the
 * index), each with its own errors; the default (0) makes none */
static void test_duplicates(void)
{
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char pre[1024], out[256];
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	snprintf(pre, sizeof pre, "%s/d", d);
	sq_sim_opt_init(&o);
	o.ref = ref, o.prefix = pre, o.coverage = 5, o.regions = "17:400001-700000", o.dup_rate = 0.1, o.n_threads = 2;
	SQ_REQUIRE(sq_sim_run(&o, &st) == 0);
	SQ_CHECKF(fabs((double)st.n_dup / st.n_pairs - 0.1) < 0.02, "%lld duplicates of %lld", (long long)st.n_dup, (long long)st.n_pairs);
	/* consecutive pairs with equal contig/pos1/pos2/strand/hap: exactly the duplicates */
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "gzip -dc %s_R1.fq.gz | awk 'NR%%4==1' | "
	                           "awk -F_ '{k=$1\"_\"$2\"_\"$3\"_\"$4\"_\"$5; if (k==p) n++; p=k} END{print n+0}'", pre) == 0);
	SQ_CHECKF(atoll(out) == st.n_dup, "%s consecutive repeats, %lld duplicates", out, (long long)st.n_dup);
	o.dup_rate = 0;
	SQ_REQUIRE(sq_sim_run(&o, &st) == 0);
	SQ_CHECK(st.n_dup == 0);
}

/* A full disk (64 KiB tmpfs; needs root): SQ_EOUTPUT and nothing left behind. */
static void test_disk_full(void)
{
	const char *d = sq_test_tmpdir(), *ref = ref_copy(d);
	char mnt[1024], pre[1100];
	/* the mount point lives outside tests/out so a run killed while mounted cannot block the
	 * next run's scratch directory */
	snprintf(mnt, sizeof mnt, "/tmp/seqa-full.XXXXXX");
	SQ_REQUIRE(mkdtemp(mnt) != NULL);
	if (sq_test_sh("mount -t tmpfs -o size=64k tmpfs %s 2>/dev/null", mnt) != 0) {
		rmdir(mnt);
		SQ_SKIP("cannot mount a small tmpfs here (not root?)");
	}
	snprintf(pre, sizeof pre, "%s/x", mnt);
	sq_sim_opt_t o;
	sq_sim_opt_init(&o);
	o.ref = ref, o.prefix = pre, o.coverage = 2, o.regions = "17:400001-600000";
	for (int t = 1; t <= 2; ++t) { /* single-threaded and with BGZF compression threads */
		o.n_threads = t;
		SQ_CHECK(sq_sim_run(&o, 0) == SQ_EOUTPUT);
		SQ_CHECK(sq_test_sh("[ -z \"$(ls %s)\" ]", mnt) == 0);
	}
	/* the truth VCF itself does not fit (written before the reads) */
	o.coverage = 0, o.snp_rate = 0.05, o.regions = "17:400001-1000000";
	SQ_CHECK(sq_sim_run(&o, 0) == SQ_EOUTPUT);
	SQ_CHECK(sq_test_sh("[ -z \"$(ls %s)\" ]", mnt) == 0);
	/* no descriptor left open on the full file system (it would be "busy") */
	SQ_CHECK(sq_test_sh("umount %s && rmdir %s", mnt, mnt) == 0);
}

SQ_TESTS = {
	{ "parse_name", test_parse_name },
	{ "names_match_reference", test_names_match_reference },
	{ "names_match_bwa_positions", test_names_match_bwa_positions },
	{ "truth_vcf_normalised", test_truth_vcf_normalised },
	{ "deterministic", test_deterministic },
	{ "quality_calibrated", test_quality_calibrated },
	{ "snps_recovered", test_snps_recovered },
	{ "sim_bgzip_reference", test_bgzip_reference },
	{ "errors_leave_nothing", test_errors_leave_nothing },
	{ "regions_names_and_stale_tmp", test_regions_names_and_stale_tmp },
	{ "duplicates", test_duplicates },
	{ "sim_disk_full", test_disk_full },
	{ 0, 0 }
};
