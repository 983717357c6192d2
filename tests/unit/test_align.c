/* host/align units: duplicate marking (Picard semantics, computed here by brute force over all
 * signatures and compared), optical duplicates, library-size estimate sanity, and the sorter's
 * order with and without spilling. */
#include "harness.h"
#include <unistd.h>
#include <htslib/sam.h>
#include "../../host/align/records.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static int bit(const uint8_t *bm, uint64_t pid, int mate) { return bm[pid >> 2] >> ((pid & 3) * 2 + mate) & 1; }

/* n random duplicate signatures over few positions, so that duplicates abound.  mixed: some
 * unpaired reads, reads on two tiles or on none, ends over 20 positions instead of 40.  Caller
 * frees. */
static sq_dupsig_t *random_sigs(int n, int mixed)
{
	sq_dupsig_t *s = calloc((size_t)n, sizeof *s);
	for (int i = 0; s && i < n; ++i) {
		s[i].pid = (uint64_t)i;
		s[i].paired = mixed ? rnd() % 8 != 0 : 1;
		for (int k = 0; k < 2; ++k) {
			s[i].mapped[k] = rnd() % (mixed ? 12 : 10) != 0;
			s[i].tid[k] = (int32_t)(rnd() % 2);
			s[i].pos[k] = (int64_t)(rnd() % (mixed ? 20 : 40));
			s[i].rev[k] = (uint8_t)(rnd() & 1);
		}
		s[i].score = (uint32_t)(rnd() % (mixed ? 7 : 5));
		s[i].tile = !mixed ? 1101 : rnd() % 4 ? 1101 + (int32_t)(rnd() % 2) : -1;
		s[i].x = (int32_t)(rnd() % (mixed ? 2000 : 1000)); s[i].y = (int32_t)(rnd() % (mixed ? 2000 : 1000));
	}
	return s;
}

/* Brute force: a pair is a duplicate when another pair with the same (sorted) ends has a
 * higher score, or the same score and a smaller pid; a fragment when any pair has a mate at
 * its end, or another fragment there scores higher (ties: smaller pid, then mate). */
static void test_markdup_bruteforce(void)
{
	enum { N = 3000 };
	sq_dupsig_t *s = random_sigs(N, 0);
	SQ_REQUIRE(s != NULL);
	sq_aln_dup_t m;
	uint8_t *bm = sq_dup_mark(s, N, N, 100, &m);
	SQ_REQUIRE(bm != NULL);
	int bad = 0, npd = 0, nfd = 0;
	#define SAME_END(a, ka, b, kb) (s[a].tid[ka] == s[b].tid[kb] && s[a].pos[ka] == s[b].pos[kb] && s[a].rev[ka] == s[b].rev[kb])
	for (int i = 0; i < N; ++i) {
		int both = s[i].mapped[0] && s[i].mapped[1];
		if (both) {
			int dup = 0;
			for (int j = 0; j < N && !dup; ++j) {
				if (j == i || !(s[j].mapped[0] && s[j].mapped[1])) continue;
				int same = (SAME_END(i, 0, j, 0) && SAME_END(i, 1, j, 1)) || (SAME_END(i, 0, j, 1) && SAME_END(i, 1, j, 0));
				if (same && (s[j].score > s[i].score || (s[j].score == s[i].score && j < i))) dup = 1;
			}
			npd += dup;
			if (bit(bm, (uint64_t)i, 0) != dup || bit(bm, (uint64_t)i, 1) != dup) ++bad;
		} else {
			for (int k = 0; k < 2; ++k) {
				if (!s[i].mapped[k]) { if (bit(bm, (uint64_t)i, k)) ++bad; continue; }
				int dup = 0;
				for (int j = 0; j < N && !dup; ++j) {
					int jb = s[j].mapped[0] && s[j].mapped[1];
					for (int l = 0; l < 2 && !dup; ++l) {
						if (!s[j].mapped[l] || (j == i && l == k) || !SAME_END(i, k, j, l)) continue;
						if (jb) dup = 1;
						else if (s[j].score > s[i].score || (s[j].score == s[i].score && (j < i || (j == i && l < k)))) dup = 1;
					}
				}
				nfd += dup;
				if (bit(bm, (uint64_t)i, k) != dup) ++bad;
			}
		}
	}
	SQ_CHECKF(bad == 0, "%d reads marked differently from the brute force", bad);
	SQ_CHECKF(m.pair_dups == npd && m.unpaired_dups == nfd, "metrics %lld/%lld vs %d/%d",
	          (long long)m.pair_dups, (long long)m.unpaired_dups, npd, nfd);
	SQ_CHECK(npd > 100 && nfd > 10);   /* the case is not trivial */
	SQ_CHECK(m.pair_optical_dups > 0 && m.pair_optical_dups <= m.pair_dups);
	free(bm); free(s);
}

static void test_optical(void)
{
	/* three pairs at the same ends: two 10 px apart on one tile, one on another tile */
	sq_dupsig_t s[3];
	memset(s, 0, sizeof s);
	for (int i = 0; i < 3; ++i) {
		s[i].pid = (uint64_t)i; s[i].paired = 1; s[i].mapped[0] = s[i].mapped[1] = 1;
		s[i].pos[0] = 100; s[i].pos[1] = 400; s[i].rev[1] = 1; s[i].score = (uint32_t)(10 - i);
	}
	s[0].tile = 1101; s[0].x = 1000; s[0].y = 2000;
	s[1].tile = 1101; s[1].x = 1010; s[1].y = 1995;
	s[2].tile = 1102; s[2].x = 1000; s[2].y = 2000;
	sq_aln_dup_t m;
	uint8_t *bm = sq_dup_mark(s, 3, 3, 100, &m);
	SQ_REQUIRE(bm);
	SQ_CHECK(!bit(bm, 0, 0) && bit(bm, 1, 0) && bit(bm, 2, 1));
	SQ_CHECKF(m.pair_dups == 2 && m.pair_optical_dups == 1, "dups %lld optical %lld", (long long)m.pair_dups, (long long)m.pair_optical_dups);
	free(bm);
}

static bam1_t *mkrec(sam_hdr_t *h, int tid, int pos, int rev, uint32_t pid, uint32_t sub)
{
	char line[256];
	kstring_t ks = KS_INITIALIZE;
	snprintf(line, sizeof line, "r%u\t%d\t%s\t%d\t60\t4M\t*\t0\t0\tACGT\tIIII", pid, rev ? 16 : 0,
	         tid < 0 ? "*" : sam_hdr_tid2name(h, tid), tid < 0 ? 0 : pos + 1);
	if (tid < 0) snprintf(line, sizeof line, "r%u\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII", pid);
	kputs(line, &ks);
	bam1_t *b = bam_init1();
	if (sam_parse1(&ks, h, b) < 0) { free(ks.s); return NULL; }
	free(ks.s);
	bam_aux_append(b, "zp", 'I', 4, (uint8_t *)&pid);
	bam_aux_append(b, "zs", 'I', 4, (uint8_t *)&sub);
	return b;
}

static void sort_case(int64_t mem, int *spills, char **digest)
{
	const char *d = sq_test_tmpdir();
	char path[1024], pre[1024];
	const char *txt = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:a\tLN:100000\n@SQ\tSN:b\tLN:100000\n";
	sam_hdr_t *h = sam_hdr_parse(strlen(txt), txt);
	snprintf(pre, sizeof pre, "%s/sort", d);
	snprintf(path, sizeof path, "%s/out%lld.sam", d, (long long)mem);
	sq_sorter_t *s = sq_sorter_init(h, pre, mem);
	rng = 12345;
	for (uint32_t i = 0; i < 20000; ++i) {
		int tid = (int)(rnd() % 3) - 1;
		bam1_t *b = mkrec(h, tid, (int)(rnd() % 500), (int)(rnd() & 1), i, (uint32_t)(rnd() % 3));
		SQ_REQUIRE(b && sq_sorter_add(s, b) == 0);
		bam_destroy1(b);
	}
	htsFile *fp = hts_open(path, "w");
	SQ_REQUIRE(fp && sam_hdr_write(fp, h) == 0);
	int64_t nw = 0;
	SQ_REQUIRE(sq_sorter_finish(s, fp, NULL, NULL, &nw) == 0);
	hts_close(fp);
	*spills = sq_sorter_n_spills(s);
	sq_sorter_destroy(s);
	SQ_CHECK(nw == 20000);
	char out[4096];
	/* order: tid (unmapped last), pos, strand, then pid (input order): check with sort -c */
	SQ_CHECK(sq_test_sh("grep -v '^@' %s | python3 -c \"import sys\nrows=[]\nfor l in sys.stdin:\n t=l.split('\\t'); rows.append((9 if t[2]=='*' else (0 if t[2]=='a' else 1), int(t[3]), (int(t[1])>>4)&1, int(t[0][1:])))\nsys.exit(0 if len(rows)==20000 and rows==sorted(rows) else 1)\"", path) == 0);
	SQ_CHECK(sq_test_capture(out, sizeof out, "grep -c 'zp:' %s", path) == 1);   /* private tags removed */
	sq_test_capture(out, sizeof out, "grep -v '^@' %s | md5sum", path);
	*digest = strdup(out);
	sam_hdr_destroy(h);
}

/* Bounded-memory duplicate marking: the same signatures through sorted runs on disk (a tiny
 * memory limit: dozens of runs, added in small batches) give exactly the in-memory bitmap and
 * metrics, and the run files are removed. */
static void test_markdup_spill(void)
{
	enum { N = 20000 };
	sq_dupsig_t *s = random_sigs(N, 1);
	SQ_REQUIRE(s != NULL);
	sq_aln_dup_t m1, m2;
	uint8_t *b1 = sq_dup_mark(s, N, N, 100, &m1);
	SQ_REQUIRE(b1 != NULL);
	char prefix[1024];
	snprintf(prefix, sizeof prefix, "%s/dups", sq_test_tmpdir());
	sq_dupset_t *d = sq_dupset_init(prefix, 8192, 100);
	SQ_REQUIRE(d != NULL);
	for (int i = 0; i < N; i += 97) SQ_REQUIRE(sq_dupset_add(d, s + i, i + 97 <= N ? 97 : N - i) == 0);
	SQ_CHECKF(sq_dupset_n_spills(d) > 20, "only %lld spills: the merge is not exercised", (long long)sq_dupset_n_spills(d));
	char path[1100];
	snprintf(path, sizeof path, "%s.dup-pairs", prefix);
	SQ_CHECK(access(path, F_OK) == 0);
	memset(&m2, 0x55, sizeof m2);
	uint8_t *b2 = sq_dupset_finish(d, N, &m2);
	SQ_REQUIRE(b2 != NULL);
	SQ_CHECK(memcmp(b1, b2, N / 4 + 1) == 0);
	SQ_CHECK(m1.pairs_examined == m2.pairs_examined && m1.unpaired_examined == m2.unpaired_examined && m1.unmapped == m2.unmapped);
	SQ_CHECK(m1.pair_dups == m2.pair_dups && m1.unpaired_dups == m2.unpaired_dups && m1.pair_optical_dups == m2.pair_optical_dups);
	SQ_CHECK(m1.est_library_size == m2.est_library_size && m1.percent_dup == m2.percent_dup);
	SQ_CHECKF(m1.pair_dups > 100 && m1.unpaired_dups > 100 && m1.pair_optical_dups > 0,
	          "too few duplicates (%lld pairs, %lld fragments, %lld optical) to prove anything",
	          (long long)m1.pair_dups, (long long)m1.unpaired_dups, (long long)m1.pair_optical_dups);
	sq_dupset_destroy(d);
	SQ_CHECK(access(path, F_OK) != 0);
	free(b1); free(b2); free(s);
}

static void test_sort_spill(void)
{
	int sp1, sp2;
	char *d1, *d2;
	sort_case(1LL << 30, &sp1, &d1);
	sort_case(300 << 10, &sp2, &d2);
	SQ_CHECKF(sp1 == 0 && sp2 >= 2, "spills %d %d", sp1, sp2);
	SQ_CHECKF(strcmp(d1, d2) == 0, "spilled and in-memory sorts differ");
	free(d1); free(d2);
}

SQ_TESTS = {
	{ "markdup_bruteforce", test_markdup_bruteforce },
	{ "optical_duplicates", test_optical },
	{ "markdup_spilled_runs_same_result", test_markdup_spill },
	{ "sort_spill_same_order", test_sort_spill },
	{ 0, 0 }
};
