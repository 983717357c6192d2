#!/bin/sh
# Compare a query VCF with a truth VCF: precision / recall / F1 per class (SNP, INDEL) and
# genotype concordance.  Both sets are normalised the same way (bcftools norm -f REF -m -any,
# then --atomize so MNPs/complex alleles become SNPs and indels, then left-aligned again);
# records match on CHROM, POS, REF and ALT; the genotype (het = one ALT copy, hom = two) is
# compared separately on the matched records.  Query records count when FILTER is PASS or "."
# and the genotype carries the ALT; truth records likewise (a truth VCF without FORMAT/GT, such
# as dwgsim's, takes its genotype from INFO pl=3 / AF=1 -> hom, else het).
#
# usage: sh bench/vcf_compare.sh [-R BED] [-j OUT.json] [-l LABEL] REF.fa TRUTH.vcf[.gz] QUERY.vcf[.gz]
# prints:  CLASS TP FP FN precision recall F1 gt_concordance   (one line per class)
set -e
bed=""; json=""; label="query"
while [ $# -gt 0 ]; do
	case "$1" in
	-R) bed=$2; shift 2;;
	-j) json=$2; shift 2;;
	-l) label=$2; shift 2;;
	-h|--help) sed -n '2,12p' "$0"; exit 0;;
	*) break;;
	esac
done
[ $# -eq 3 ] || { echo "usage: $0 [-R BED] [-j OUT.json] [-l LABEL] REF.fa TRUTH.vcf QUERY.vcf" >&2; exit 2; }
ref=$1; truth=$2; query=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcfcmp.XXXXXX")
[ -n "$KEEP" ] && echo "$tmp" >&2 || trap 'rm -rf "$tmp"' EXIT

# VCF -> "CHROM:POS:REF:ALT<TAB>copies" (copies of this ALT in the genotype, 1 or 2)
norm() {
	in=$1; out=$2
	# add FORMAT/GT to a sites-only truth (dwgsim style)
	zcat -f "$in" | awk 'BEGIN{OFS="\t"}
		/^##/ {print; next}
		/^#CHROM/ { if (NF >= 10) { gtin=1; print } else { print "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">"; print $0, "FORMAT", "TRUTH" }; next }
		{ if (gtin) { print; next }
		  gt = "0/1"; if ($8 ~ /(^|;)pl=3(;|$)/ || $8 ~ /(^|;)AF=1(\.0*)?(;|$)/) gt = "1/1";
		  print $0, "GT", gt }' > "$tmp/in.vcf"
	if [ -n "$bed" ]; then
		bcftools view -T "$bed" "$tmp/in.vcf" -Ov -o "$tmp/in2.vcf" 2>/dev/null
	else
		mv "$tmp/in.vcf" "$tmp/in2.vcf"
	fi
	bcftools view -f PASS,. "$tmp/in2.vcf" 2>/dev/null \
	| bcftools norm -f "$ref" -m -any 2>/dev/null \
	| bcftools norm -f "$ref" -a 2>/dev/null \
	| bcftools norm -f "$ref" 2>/dev/null \
	| bcftools query -f '%CHROM:%POS:%REF:%ALT\t[%GT]\n' \
	| awk -F'\t' '$1 !~ /[*<]/ { n = gsub(/1/, "1", $2); if (n > 0) print $1 "\t" (n > 1 ? 2 : 1) }' \
	| sort -u -k1,1 > "$out"
}
norm "$truth" "$tmp/t.tsv"
norm "$query" "$tmp/q.tsv"

awk -F'\t' -v label="$label" -v json="$json" '
	function cls(k,   a) { split(k, a, ":"); return (length(a[3]) == 1 && length(a[4]) == 1) ? "SNP" : "INDEL" }
	FNR == NR { t[$1] = $2; next }
	{ q[$1] = $2 }
	END {
		for (k in q) { c = cls(k); if (k in t) { tp[c]++; if (t[k] == q[k]) gt[c]++ } else fp[c]++ }
		for (k in t) if (!(k in q)) fn[cls(k)]++
		if (json != "") printf "{\"label\": \"%s\"", label > json
		for (i = 1; i <= 2; ++i) {
			c = i == 1 ? "SNP" : "INDEL"
			TP = tp[c] + 0; FP = fp[c] + 0; FN = fn[c] + 0
			p = TP + FP > 0 ? TP / (TP + FP) : 0; r = TP + FN > 0 ? TP / (TP + FN) : 0
			f = p + r > 0 ? 2 * p * r / (p + r) : 0; g = TP > 0 ? (gt[c] + 0) / TP : 0
			printf "%s %d %d %d %.5f %.5f %.5f %.5f\n", c, TP, FP, FN, p, r, f, g
			if (json != "") printf ", \"%s\": {\"tp\": %d, \"fp\": %d, \"fn\": %d, \"precision\": %.5f, \"recall\": %.5f, \"f1\": %.5f, \"gt_concordance\": %.5f}", c, TP, FP, FN, p, r, f, g > json
		}
		if (json != "") printf "}\n" > json
	}' "$tmp/t.tsv" "$tmp/q.tsv"
