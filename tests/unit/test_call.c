/* seqa — variant caller units: left alignment (against bcftools norm), genotype likelihoods
 * (against a direct probability-space computation), assembly and haplotype events (against
 * a haplotype built with a known indel, normalised by bcftools), reference loading (MD5
 * against samtools dict). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../host/call/call_internal.h"

static unsigned rng_state = 12345;
static unsigned rnd(void) { rng_state = rng_state * 1103515245u + 12345u; return (rng_state >> 8) & 0xffffff; }

/* A reference with plenty of short tandem repeats, so left alignment has work to do. */
static void make_ref(char *s, int n)
{
	int i = 0;
	while (i < n) {
		if (rnd() % 4 == 0) {   /* a repeat unit 1..4 bases, 2..6 copies */
			int u = 1 + rnd() % 4, c = 2 + rnd() % 5;
			char unit[4];
			for (int k = 0; k < u; ++k) unit[k] = "ACGT"[rnd() % 4];
			for (int r = 0; r < c && i < n; ++r)
				for (int k = 0; k < u && i < n; ++k) s[i++] = unit[k];
		} else s[i++] = "ACGT"[rnd() % 4];
	}
	s[n] = 0;
}

static void test_left_align_matches_bcftools(void)
{
	if (!sq_test_have("bcftools")) SQ_SKIP("bcftools not installed");
	const char *d = sq_test_tmpdir();
	enum { N = 4000, NEV = 300 };
	static char ref[N + 1];
	make_ref(ref, N);
	char path[600];
	snprintf(path, sizeof path, "%s/r.fa", d);
	FILE *fp = fopen(path, "w");
	SQ_REQUIRE(fp);
	fprintf(fp, ">r\n%s\n", ref);
	fclose(fp);
	snprintf(path, sizeof path, "%s/in.vcf", d);
	fp = fopen(path, "w");
	SQ_REQUIRE(fp);
	fprintf(fp, "##fileformat=VCFv4.2\n##contig=<ID=r,length=%d>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", N);
	static sq_call_event_t ev[NEV];
	int pos_used[N] = { 0 };
	for (int i = 0; i < NEV; ++i) {
		sq_call_event_t *e = &ev[i];
		memset(e, 0, sizeof *e);
		int p;
		do p = 10 + rnd() % (N - 40); while (pos_used[p]);
		pos_used[p] = 1;
		e->pos = p;
		if (rnd() & 1) {   /* deletion of 1..6 bases after the anchor */
			int len = 1 + rnd() % 6;
			e->type = SQ_EV_DEL, e->ref_len = (int16_t)(1 + len), e->alt_len = 1, e->alt[0] = ref[p];
			fprintf(fp, "r\t%d\t.\t%.*s\t%c\t.\t.\t.\n", p + 1, 1 + len, ref + p, ref[p]);
		} else {           /* insertion: often a copy of the following bases (a repeat) */
			int len = 1 + rnd() % 5;
			e->type = SQ_EV_INS, e->ref_len = 1, e->alt_len = (int16_t)(1 + len), e->alt[0] = ref[p];
			for (int k = 0; k < len; ++k) e->alt[1 + k] = (rnd() % 3) ? ref[p + 1 + k] : "ACGT"[rnd() % 4];
			fprintf(fp, "r\t%d\t.\t%c\t%s\t.\t.\t.\n", p + 1, ref[p], e->alt);
		}
	}
	fclose(fp);
	char out[1 << 16];
	int rc = sq_test_capture(out, sizeof out,
	    "bcftools norm -f %s/r.fa %s/in.vcf 2>/dev/null | bcftools query -f '%%POS %%REF %%ALT\\n' | sort -n", d, d);
	SQ_REQUIRE(rc == 0);
	/* ours, in the same order (sort by position then alleles) */
	char mine[1 << 16];
	size_t n = 0;
	char (*lines)[256] = calloc(NEV, 256);
	SQ_REQUIRE(lines);
	for (int i = 0; i < NEV; ++i) {
		sq_call_event_t e = ev[i];
		SQ_CHECK(sq_call_event_left_align(&e, ref, N) == 0);
		char refs[256];
		memcpy(refs, ref + e.pos, (size_t)e.ref_len);
		refs[e.ref_len] = 0;
		snprintf(lines[i], 256, "%d %.100s %.60s", e.pos + 1, refs, e.alt);
	}
	snprintf(path, sizeof path, "%s/mine.txt", d);
	fp = fopen(path, "w");
	SQ_REQUIRE(fp);
	for (int i = 0; i < NEV; ++i) fprintf(fp, "%s\n", lines[i]);
	fclose(fp);
	free(lines);
	rc = sq_test_capture(mine, sizeof mine, "sort -n %s/mine.txt", d);
	SQ_REQUIRE(rc == 0);
	n = strlen(mine);
	SQ_CHECKF(n == strlen(out) && strcmp(mine, out) == 0, "left alignment differs from bcftools norm");
	if (strcmp(mine, out) != 0) {
		sq_test_sh("sort -n %s/mine.txt > %s/a; printf '%%s' \"$(cat <<'EOF'\n%s\nEOF\n)\" > %s/b; diff %s/a %s/b | head -5 >&2", d, d, out, d, d, d);
	}
}

/* Direct computation: P(D | a/b) = prod_r (p_ra + p_rb) / 2 in probability space. */
static void test_genotype_likelihoods(void)
{
	enum { R = 7, A = 3 };
	double lk[R * A];
	for (int i = 0; i < R * A; ++i) lk[i] = -(double)(rnd() % 400) / 100.0;
	double gl[6];
	sq_call_genotype_gl(lk, R, A, gl);
	for (int b = 0; b < A; ++b)
		for (int a = 0; a <= b; ++a) {
			double p = 1.0;
			for (int r = 0; r < R; ++r) p *= (pow(10, lk[r * A + a]) + pow(10, lk[r * A + b])) / 2.0;
			double want = log10(p), got = gl[sq_call_gt_index(a, b)];
			SQ_CHECKF(fabs(want - got) < 1e-9, "GL %d/%d: %.12f vs %.12f", a, b, got, want);
		}
	/* VCF genotype order: 0/0 0/1 1/1 0/2 1/2 2/2 */
	SQ_CHECK(sq_call_gt_index(0, 0) == 0 && sq_call_gt_index(0, 1) == 1 && sq_call_gt_index(1, 1) == 2);
	SQ_CHECK(sq_call_gt_index(0, 2) == 3 && sq_call_gt_index(1, 2) == 4 && sq_call_gt_index(2, 2) == 5);
}

/* Reads that clearly support ref and alt equally -> het with high QUAL; all ref -> 0/0. */
static void test_genotype_call(void)
{
	enum { R = 30 };
	double lk[R * 2], gl[3], prior[2] = { 0, 1e-3 }, qual;
	int a1, a2, gq, pl[3];
	for (int r = 0; r < R; ++r) lk[2 * r] = (r & 1) ? -0.01 : -3.0, lk[2 * r + 1] = (r & 1) ? -3.0 : -0.01;
	sq_call_genotype_gl(lk, R, 2, gl);
	sq_call_genotype_call(gl, 2, prior, &a1, &a2, &qual, &gq, pl);
	SQ_CHECKF(a1 == 0 && a2 == 1, "het expected, got %d/%d", a1, a2);
	SQ_CHECKF(qual > 100 && gq == 99 && pl[1] == 0 && pl[0] > 100 && pl[2] > 100, "qual %.1f gq %d pl %d,%d,%d", qual, gq, pl[0], pl[1], pl[2]);
	for (int r = 0; r < R; ++r) lk[2 * r] = -0.01, lk[2 * r + 1] = -3.0;
	sq_call_genotype_gl(lk, R, 2, gl);
	sq_call_genotype_call(gl, 2, prior, &a1, &a2, &qual, &gq, pl);
	SQ_CHECKF(a1 == 0 && a2 == 0 && qual < 1.0, "hom-ref expected, got %d/%d qual %.2f", a1, a2, qual);
	/* QUAL is phred of P(0/0 | D): recompute it from the posteriors */
	for (int r = 0; r < R; ++r) lk[2 * r] = (r < 3) ? -2.0 : -0.02, lk[2 * r + 1] = (r < 3) ? -0.02 : -2.0;
	sq_call_genotype_gl(lk, R, 2, gl);
	sq_call_genotype_call(gl, 2, prior, &a1, &a2, &qual, &gq, pl);
	double p0 = pow(10, gl[0]) * (1 - 1.5e-3), p1 = pow(10, gl[1]) * 1e-3, p2 = pow(10, gl[2]) * 0.5e-3;
	double want = -10 * log10(p0 / (p0 + p1 + p2));
	SQ_CHECKF(fabs(qual - want) < 1e-6 * (1 + want), "QUAL %.6f vs %.6f", qual, want);
}

/* A haplotype with a known 3-base insertion in a repeat and a SNP: assembly from error-free
 * reads finds it, and the events come back left-aligned (checked against bcftools norm). */
static void test_assembly_and_events(void)
{
	enum { N = 300 };
	static char ref[N + 1], hap[N + 64];
	make_ref(ref, N);
	/* insertion after position 150 of a copy of ref[151..153]; SNP at 200 */
	int ip = 150;
	memcpy(hap, ref, ip + 1);
	memcpy(hap + ip + 1, ref + ip + 1, 3);
	memcpy(hap + ip + 4, ref + ip + 1, (size_t)(N - ip - 1));
	int hl = N + 3;
	hap[hl] = 0;
	hap[200 + 3] = ref[200] == 'A' ? 'C' : 'A';
	/* reads: 60-mers every 5 bases over the haplotype */
	const char *reads[64];
	int rl[64], nr = 0;
	for (int s = 0; s + 60 <= hl && nr < 64; s += 5) reads[nr] = hap + s, rl[nr++] = 60;
	char **haps = NULL;
	static const int ks[] = { 10, 25, 35 };
	int n = sq_call_assemble(ref, N, reads, rl, NULL, nr, ks, 3, 2, 8, &haps);
	SQ_REQUIRE(n >= 1);
	int found = 0;
	for (int i = 0; i < n; ++i) {
		if ((int)strlen(haps[i]) == hl && memcmp(haps[i], hap, (size_t)hl) == 0) found = 1;
	}
	SQ_CHECKF(found, "assembled %d haplotypes, none is the true one", n);
	sq_call_event_t *ev = NULL;
	int nev = 0, mev = 0;
	int k = sq_call_hap_events(ref, N, hap, hl, 0, ref, N, &ev, &nev, &mev);
	SQ_CHECKF(k == 2 && nev == 2, "expected 2 events, got %d", nev);
	/* the expected insertion, left-aligned by our own routine, must equal bcftools' */
	if (sq_test_have("bcftools") && nev == 2) {
		const char *d = sq_test_tmpdir();
		sq_test_sh("printf '>r\\n%s\\n' > %s/r.fa", ref, d);
		char alt[8];
		snprintf(alt, sizeof alt, "%c%.3s", ref[ip], ref + ip + 1);
		sq_test_sh("printf '##fileformat=VCFv4.2\\n##contig=<ID=r,length=%d>\\n#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\nr\\t%d\\t.\\t%c\\t%s\\t.\\t.\\t.\\n' > %s/i.vcf",
		           N, ip + 1, ref[ip], alt, d);
		char out[256];
		sq_test_capture(out, sizeof out, "bcftools norm -f %s/r.fa %s/i.vcf 2>/dev/null | bcftools query -f '%%POS %%ALT'", d, d);
		int got = 0;
		for (int i = 0; i < nev; ++i)
			if (ev[i].type == SQ_EV_INS) {
				char mine[300];
				snprintf(mine, sizeof mine, "%d %s", ev[i].pos + 1, ev[i].alt);
				SQ_CHECKF(strcmp(mine, out) == 0, "insertion %s vs bcftools %s", mine, out);
				got = 1;
			} else SQ_CHECKF(ev[i].pos == 200 && ev[i].alt[0] == hap[203], "SNP at %d", ev[i].pos);
		SQ_CHECK(got);
	}
	free(ev);
	for (int i = 0; i < n; ++i) free(haps[i]);
	free(haps);
}

static void test_reference_md5_matches_samtools(void)
{
	const char *fa = sq_test_shared("tiny_chr22/q.fa");
	if (!fa) SQ_SKIP("../shared/data absent");
	if (!sq_test_have("samtools")) SQ_SKIP("samtools not installed");
	int err = 0;
	sq_call_ref_t *r = sq_call_ref_load(fa, &err);
	SQ_REQUIRE(r && r->n == 1);
	char out[4096];
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "samtools dict %s | grep '^@SQ' | tr '\\t' '\\n' | sed -n 's/^M5://p'", fa) == 0);
	SQ_CHECKF(strncmp(out, r->c[0].md5, 32) == 0, "md5 %s vs samtools %s", r->c[0].md5, out);
	SQ_CHECK(r->c[0].len == 12356 || r->c[0].len > 0);
	sq_call_ref_free(r);
	SQ_CHECK(sq_call_ref_load("/nonexistent.fa", &err) == NULL && err == -4);
}

SQ_TESTS = {
	{ "left_align_matches_bcftools", test_left_align_matches_bcftools },
	{ "genotype_likelihoods", test_genotype_likelihoods },
	{ "genotype_call", test_genotype_call },
	{ "assembly_and_events", test_assembly_and_events },
	{ "reference_md5_matches_samtools", test_reference_md5_matches_samtools },
	{ 0, 0 }
};
