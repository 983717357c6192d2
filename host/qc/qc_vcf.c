/* seqa — VCF QC in one pass (see seqa/qc.h).
 *
 * Counting follows bcftools stats so both tools agree exactly: a record counts as an SNV (MNP,
 * indel, other) site when any of its ALT alleles is of that type (htslib bcf_get_variant_types);
 * multi-allelic = more than one ALT; transitions/transversions are counted per SNV ALT allele
 * from the first base of REF and ALT (A<->G, C<->T transitions).  Genotypes: first sample,
 * diploid hom-ref / het (any two different alleles) / hom-alt, haploid ref / alt, missing skipped.
 *
 * Integrity: REF compared with the reference (case-insensitive; IUPAC/N in the reference never
 * mismatch), records sorted (contigs in header order, positions non-decreasing, no contig
 * revisited), header ##contig lines present in the reference with the same length and, where an
 * md5 (or M5) attribute exists, the same MD5 as the reference contig.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <htslib/vcf.h>
#include <htslib/faidx.h>
#include "seqa/qc.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

static int acgt(char c)
{
	switch (c) {
	case 'A': case 'a': return 0;
	case 'C': case 'c': return 1;
	case 'G': case 'g': return 2;
	case 'T': case 't': return 3;
	default: return -1;
	}
}

/* Header contigs against the reference: lengths, MD5s.  Adds findings to o. */
static int check_contigs(const bcf_hdr_t *h, faidx_t *fai, json_t *o, int *n_bad, int *n_md5_checked)
{
	json_t *probs = json_array();
	int n = 0;
	const char **names = bcf_hdr_seqnames(h, &n);
	*n_bad = 0;
	*n_md5_checked = 0;
	if (!names && h->n[BCF_DT_CTG] > 0) { json_decref(probs); sq_log_error("out of memory reading VCF contigs"); return SQ_ENOMEM; }
	for (int i = 0; i < n; ++i) {
		bcf_hrec_t *hr = bcf_hdr_get_hrec(h, BCF_HL_CTG, "ID", names[i], 0);
		const char *len_s = 0, *md5_s = 0;
		for (int k = 0; hr && k < hr->nkeys; ++k) {
			if (strcmp(hr->keys[k], "length") == 0) len_s = hr->vals[k];
			else if (strcasecmp(hr->keys[k], "md5") == 0 || strcmp(hr->keys[k], "M5") == 0) md5_s = hr->vals[k];
		}
		if (!fai) continue;
		if (!faidx_has_seq(fai, names[i])) {
			json_array_append_new(probs, json_sprintf("contig %s not in the reference", names[i]));
			++*n_bad;
			continue;
		}
		hts_pos_t rl = faidx_seq_len(fai, names[i]);
		if (len_s && strtoll(len_s, 0, 10) != rl) {
			json_array_append_new(probs, json_sprintf("contig %s: length %s in the header, %lld in the reference", names[i], len_s, (long long)rl));
			++*n_bad;
		}
		if (md5_s) {
			hts_pos_t l = 0;
			char *seq = faidx_fetch_seq64(fai, names[i], 0, HTS_POS_MAX, &l);
			char hex[33] = "";
			if (!seq) {
				sq_log_error("cannot read contig '%s' from the reference", names[i]);
				free(names);
				json_decref(probs);
				return SQ_EIO;
			}
			for (hts_pos_t p = 0; p < l; ++p) seq[p] = (char)toupper((unsigned char)seq[p]);
			sq_md5_buf(seq, (size_t)l, hex);
			free(seq);
			if (!hex[0]) {   /* the digest could not be computed (logged): not a mismatch */
				free(names);
				json_decref(probs);
				return SQ_ENOMEM;
			}
			++*n_md5_checked;
			if (strcasecmp(hex, md5_s) != 0) {
				json_array_append_new(probs, json_sprintf("contig %s: md5 %s in the header, %s in the reference", names[i], md5_s, hex));
				++*n_bad;
			}
		}
	}
	free(names);
	json_object_set_new(o, "contig_problems", probs);
	return 0;
}

int sq_qc_vcf(const char *path, const sq_qc_opt_t *opt, json_t **out)
{
	htsFile *fp = 0;
	bcf_hdr_t *h = 0;
	bcf1_t *rec = 0;
	faidx_t *fai = 0;
	int ret = 0, r, ngt_arr = 0, *gt = 0;
	int64_t n_rec = 0, n_snv = 0, n_mnp = 0, n_indel = 0, n_other = 0, n_noalt = 0, n_mal = 0, n_snv_mal = 0;
	int64_t ts = 0, tv = 0, n_ins = 0, n_del = 0, n_pass = 0;
	int64_t hom_rr = 0, het = 0, hom_aa = 0, hap_r = 0, hap_a = 0, missing = 0;
	int64_t het_snv = 0, hom_snv = 0, het_indel = 0, hom_indel = 0;
	int64_t ref_checked = 0, ref_mismatch = 0, unsorted = 0;
	int prev_rid = -1;
	int64_t prev_pos = -1;
	char *ctg_seen = 0, *cur_seq = 0;
	hts_pos_t cur_len = 0;
	int cur_rid = -1;
	json_t *o = 0, *refbad = json_array(), *unsort_ex = json_array();

	*out = 0;
	sq_qc_oom_reset();
	if (!refbad || !unsort_ex) { ret = SQ_ENOMEM; goto fail; }
	if (!sq_file_readable(path)) { sq_log_error("cannot read VCF '%s'", path); ret = SQ_EIO; goto fail; }
	fp = bcf_open(path, "r");
	if (!fp) { sq_log_error("cannot open VCF '%s'", path); ret = SQ_EIO; goto fail; }
	if (opt->n_threads > 1) hts_set_threads(fp, opt->n_threads);
	h = bcf_hdr_read(fp);
	if (!h) { sq_log_error("%s: cannot read the VCF header", path); ret = SQ_EINPUT; goto fail; }
	if (opt->reference) {
		fai = fai_load(opt->reference);
		if (!fai) { sq_log_error("cannot load/index reference '%s'", opt->reference); ret = SQ_EIO; goto fail; }
	}
	int nseq = h->n[BCF_DT_CTG];
	ctg_seen = sq_calloc(nseq + 1, 1);
	rec = bcf_init();
	if (!ctg_seen || !rec) { ret = SQ_ENOMEM; goto fail; }
	int nsmpl = bcf_hdr_nsamples(h);

	/* htslib 1.16 parses VCF text with allocations it does not all check (a FORMAT field lost to a
	 * failed one leaves a record without GT, silently): errno is ENOMEM after any failed malloc or
	 * realloc (POSIX), so it is cleared before each record and checked after (fault-injection
	 * finding: a genotype left uncounted with exit 0) */
	errno = 0;
	while ((r = bcf_read(fp, h, rec)) >= 0) {
		if (bcf_unpack(rec, BCF_UN_STR | BCF_UN_FLT | BCF_UN_FMT) < 0) { ret = SQ_EINPUT; break; }
		if (errno == ENOMEM) { sq_log_error("out of memory reading '%s'", path); ret = SQ_ENOMEM; break; }
		++n_rec;
		if (rec->pos < 0 || rec->rid < 0 || rec->rid >= nseq || rec->n_allele < 1) {   /* e.g. a POS that is no number */
			sq_log_error("%s: record %lld: invalid CHROM/POS/REF (malformed VCF line)", path, (long long)n_rec);
			ret = SQ_EINPUT;
			break;
		}
		/* sortedness */
		if (rec->rid != prev_rid) {
			if (rec->rid < nseq && ctg_seen[rec->rid]) {
				if (unsorted++ < 5) json_array_append_new(unsort_ex, json_sprintf("%s:%lld (contig revisited)", bcf_seqname(h, rec), (long long)rec->pos + 1));
			}
			if (prev_rid >= 0 && prev_rid < nseq) ctg_seen[prev_rid] = 1;
			prev_rid = rec->rid;
			prev_pos = -1;
		}
		if (rec->pos < prev_pos) {
			if (unsorted++ < 5) json_array_append_new(unsort_ex, json_sprintf("%s:%lld after %lld", bcf_seqname(h, rec), (long long)rec->pos + 1, (long long)prev_pos + 1));
		}
		prev_pos = rec->pos;
		if (bcf_has_filter(h, rec, "PASS") == 1) ++n_pass;

		/* types */
		int types = bcf_get_variant_types(rec);
		if (rec->n_allele > 2) { ++n_mal; if (types == VCF_SNP) ++n_snv_mal; }
		if (types == VCF_REF) ++n_noalt;
		int is_snv = (types & VCF_SNP) != 0, is_indel = (types & VCF_INDEL) != 0;
		if (is_snv) {
			++n_snv;
			int ra = acgt(rec->d.allele[0][0]);
			for (int i = 1; ra >= 0 && i < rec->n_allele; ++i) {
				if (!(bcf_get_variant_type(rec, i) & VCF_SNP)) continue;
				int aa = acgt(rec->d.allele[i][0]);
				if (aa < 0 || aa == ra) continue;
				if (abs(ra - aa) == 2) ++ts; else ++tv;
			}
		}
		if (types & VCF_MNP) ++n_mnp;
		if (is_indel) {
			++n_indel;
			for (int i = 1; i < rec->n_allele; ++i) {
				if (!(bcf_get_variant_type(rec, i) & VCF_INDEL)) continue;
				if (strlen(rec->d.allele[i]) > strlen(rec->d.allele[0])) ++n_ins; else ++n_del;
			}
		}
		if (types & VCF_OTHER) ++n_other;

		/* genotype of the first sample */
		if (nsmpl > 0) {
			int ng = bcf_get_genotypes(h, rec, &gt, &ngt_arr);
			if (ng == -4) { sq_log_error("out of memory reading genotypes"); ret = SQ_ENOMEM; break; }
			if (ng > 0) {
				int ploidy = ng / nsmpl, a[2] = { -1, -1 }, na = 0, miss = 0;
				for (int k = 0; k < ploidy && k < 2; ++k) {
					if (gt[k] == bcf_int32_vector_end) break;
					if (bcf_gt_is_missing(gt[k])) { miss = 1; break; }
					a[na++] = bcf_gt_allele(gt[k]);
				}
				if (miss || na == 0) ++missing;
				else if (na == 1) { if (a[0] == 0) ++hap_r; else ++hap_a; }
				else if (a[0] == a[1]) {
					if (a[0] == 0) ++hom_rr;
					else { ++hom_aa; if (is_snv) ++hom_snv; if (is_indel) ++hom_indel; }
				} else { ++het; if (is_snv) ++het_snv; if (is_indel) ++het_indel; }
			}
		}

		/* REF against the reference */
		if (fai) {
			if (rec->rid != cur_rid) {
				free(cur_seq);
				cur_seq = 0;
				cur_len = 0;
				cur_rid = rec->rid;
				if (faidx_has_seq(fai, bcf_seqname(h, rec))) {
					cur_seq = faidx_fetch_seq64(fai, bcf_seqname(h, rec), 0, HTS_POS_MAX, &cur_len);
					if (!cur_seq) { sq_log_error("cannot read contig '%s' from the reference", bcf_seqname(h, rec)); ret = SQ_EIO; break; }
				}
			}
			const char *ref = rec->d.allele[0];
			size_t rl = strlen(ref);
			int bad = 0;
			if (!cur_seq || rec->pos + (hts_pos_t)rl > cur_len) bad = 1;
			else for (size_t k = 0; k < rl; ++k) {
				char g = (char)toupper((unsigned char)cur_seq[rec->pos + k]), v = (char)toupper((unsigned char)ref[k]);
				if (g != v && acgt(g) >= 0 && acgt(v) >= 0) { bad = 1; break; }
			}
			++ref_checked;
			if (bad && ref_mismatch++ < 5)
				json_array_append_new(refbad, json_sprintf("%s:%lld REF %s", bcf_seqname(h, rec), (long long)rec->pos + 1, ref));
		}
		if (errno == ENOMEM) { sq_log_error("out of memory reading '%s'", path); ret = SQ_ENOMEM; break; }
		errno = 0;
	}
	if (ret == 0 && errno == ENOMEM) { sq_log_error("out of memory reading '%s'", path); ret = SQ_ENOMEM; }
	if (ret == 0 && r < -1) { sq_log_error("%s: malformed VCF record after %lld records", path, (long long)n_rec); ret = SQ_EINPUT; }
	if (ret < 0) goto fail;

	o = json_object();
	json_t *m = json_object();
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "metrics", m);
	sq_qc_metric_int(m, "count_records", n_rec, "records", 0);
	sq_qc_metric_int(m, "count_pass", n_pass, "records", 0);
	sq_qc_metric_int(m, "count_snvs", n_snv, "sites", 1);
	sq_qc_metric_int(m, "count_indels", n_indel, "sites", 0);
	sq_qc_metric_int(m, "count_insertions", n_ins, "alleles", 1);
	sq_qc_metric_int(m, "count_deletions", n_del, "alleles", 1);
	sq_qc_metric_int(m, "count_mnps", n_mnp, "sites", 0);
	sq_qc_metric_int(m, "count_others", n_other, "sites", 0);
	sq_qc_metric_int(m, "count_no_alt", n_noalt, "sites", 0);
	sq_qc_metric_int(m, "count_multiallelic", n_mal, "sites", 0);
	sq_qc_metric_int(m, "count_multiallelic_snvs", n_snv_mal, "sites", 0);
	sq_qc_metric_int(m, "count_transitions", ts, "alleles", 0);
	sq_qc_metric_int(m, "count_transversions", tv, "alleles", 0);
	sq_qc_metric_num(m, "ratio_ti_tv", tv ? sq_qc_round((double)ts / tv, 4) : 0, "ratio", 0);
	sq_qc_metric_num(m, "ratio_insertion_deletion", n_del ? sq_qc_round((double)n_ins / n_del, 4) : 0, "ratio", 1);
	sq_qc_metric_int(m, "count_het", het, "genotypes", 0);
	sq_qc_metric_int(m, "count_hom_alt", hom_aa, "genotypes", 0);
	sq_qc_metric_int(m, "count_hom_ref", hom_rr, "genotypes", 0);
	sq_qc_metric_int(m, "count_missing_gt", missing, "genotypes", 0);
	sq_qc_metric_int(m, "count_het_snv", het_snv, "genotypes", 0);
	sq_qc_metric_int(m, "count_hom_alt_snv", hom_snv, "genotypes", 0);
	sq_qc_metric_num(m, "ratio_het_hom", hom_aa ? sq_qc_round((double)het / hom_aa, 4) : 0, "ratio", 0);
	sq_qc_metric_num(m, "ratio_heterozygous_homzygous_snv", hom_snv ? sq_qc_round((double)het_snv / hom_snv, 4) : 0, "ratio", 1);
	sq_qc_metric_num(m, "ratio_heterozygous_homzygous_indel", hom_indel ? sq_qc_round((double)het_indel / hom_indel, 4) : 0, "ratio", 1);
	sq_qc_metric_bool(m, "sorted", unsorted == 0, "", 0);
	json_object_set_new(o, "unsorted_examples", unsort_ex); unsort_ex = 0;
	json_object_set_new(o, "haploid", json_pack("{s:I,s:I}", "ref", (json_int_t)hap_r, "alt", (json_int_t)hap_a));
	if (fai) {
		int nbad = 0, nmd5 = 0;
		sq_qc_metric_int(m, "ref_mismatches", ref_mismatch, "records", 0);
		sq_qc_metric_bool(m, "ref_matches_reference", ref_mismatch == 0, "", 0);
		json_object_set_new(o, "ref_mismatch_examples", refbad); refbad = 0;
		if ((ret = check_contigs(h, fai, o, &nbad, &nmd5)) < 0) goto fail;
		sq_qc_metric_bool(m, "header_contigs_match_reference", nbad == 0, "", 0);
		sq_qc_metric_int(m, "header_contigs_md5_checked", nmd5, "contigs", 0);
	}
	if (!o || (ret = sq_qc_oom_check("VCF result")) < 0) { ret = SQ_ENOMEM; goto fail; }
	*out = o;
	o = 0;
fail:
	json_decref(refbad);
	json_decref(unsort_ex);
	json_decref(o);
	free(gt);
	free(cur_seq);
	free(ctg_seen);
	if (rec) bcf_destroy(rec);
	if (h) bcf_hdr_destroy(h);
	if (fp) hts_close(fp);
	if (fai) fai_destroy(fai);
	return ret;
}
