#!/bin/sh
# seqa simulate through the CLI: exit codes, outputs, JSON summary, read counts.
. tests/lib.sh
d=$(t_tmp simulate_cli)
q=$SHARED/data/tiny_chr22/q.fa

$SEQA simulate -o $d/x >/dev/null 2>&1; t_check "no -r: usage error (2)" [ $? -eq 2 ]
$SEQA simulate -r $d/missing.fa -o $d/x >/dev/null 2>&1; t_check "missing reference: exit 4" [ $? -eq 4 ]
$SEQA simulate -r $d/missing.fa -o $d/x --coverage lots >/dev/null 2>&1; t_check "bad number: exit 2" [ $? -eq 2 ]
$SEQA simulate -r $d/missing.fa -o $d/x --snp-rate 0.5 >/dev/null 2>&1; t_check "out-of-range rate: exit 2" [ $? -eq 2 ]
$SEQA simulate -r $d/missing.fa -o $d/x extra >/dev/null 2>&1; t_check "stray argument: exit 2" [ $? -eq 2 ]
if [ -r "$q" ]; then
	msg=$($SEQA simulate -r $q -o $d/x --regions nochr:1-100 2>&1); rc=$?
	[ $rc -eq 3 ] && echo "$msg" | grep -q "region contig 'nochr'" && t_ok "unknown region contig: exit 3" || t_fail "regions: rc=$rc $msg"
	$SEQA simulate -r $q -o $d/no/dir/x >/dev/null 2>&1; t_check "unwritable prefix: exit 5" [ $? -eq 5 ]
	out=$($SEQA simulate -r $q -o $d/s --coverage 10 --seed 3 --sample S1 --json -t 2 2>$d/err); rc=$?
	t_check "simulate exits 0" [ $rc -eq 0 ]
	for f in s_R1.fq.gz s_R2.fq.gz s.truth.vcf.gz s.truth.vcf.gz.tbi s.truth.bed; do
		[ -s $d/$f ] || t_fail "missing $f"
	done
	pairs=$(echo "$out" | sed -n 's/.*"read_pairs": \([0-9]*\).*/\1/p')
	n1=$(($(gzip -dc $d/s_R1.fq.gz | wc -l) / 4)); n2=$(($(gzip -dc $d/s_R2.fq.gz | wc -l) / 4))
	[ -n "$pairs" ] && [ "$n1" -eq "$pairs" ] && [ "$n2" -eq "$pairs" ] && t_ok "FASTQ record counts = read_pairs ($pairs)" \
		|| t_fail "counts: json $pairs, R1 $n1, R2 $n2"
	snps=$(echo "$out" | sed -n 's/.*"snps": \([0-9]*\).*/\1/p')
	[ "$(bcftools view -H -v snps $d/s.truth.vcf.gz | wc -l)" -eq "$snps" ] && t_ok "VCF SNP count = JSON ($snps)" || t_fail "SNP count"
	[ "$(bcftools query -l $d/s.truth.vcf.gz)" = S1 ] && t_ok "--sample" || t_fail "--sample"
	grep -q 'Real time' $d/err && t_ok "summary line" || t_fail "no summary line"
	[ -z "$(ls $d | grep tmp)" ] && t_ok "no temporaries left" || t_fail "temporaries: $(ls $d)"
else
	t_skip "simulate runs (no ../shared data)"
fi
t_done
