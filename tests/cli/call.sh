#!/bin/sh
# seqa call end to end: real NA12878 reads (14 GIAB SNPs), a simulated 30x slice of GRCh38
# chr21 scored against its truth and against bcftools on the same reads, output validity
# (bcftools norm -c e, view, index, tabix, stats vs seqa's own counts), gVCF tiling,
# determinism across -t and chunking, --regions, and error exits.
. tests/lib.sh
D=$(t_tmp call.$$)   # per process: concurrent test runs must not share scratch
TINY=$SHARED/data/tiny_chr22
CHR21=$SHARED/data/human/GRCh38.chr21_1-10M.fa.gz
for p in bcftools samtools bwa tabix; do
	command -v $p >/dev/null 2>&1 || { t_skip "call: $p not installed"; t_done; exit $?; }
done
[ -r "$TINY/q.fa" ] || { t_skip "call: ../shared/data absent"; t_done; exit $?; }

# ---- helpers -------------------------------------------------------------------------------
# valid_vcf NAME VCF REF: htslib/bcftools/tabix accept it and no REF differs from the FASTA
valid_vcf() {
	n=$1; v=$2; r=$3
	bcftools view "$v" > /dev/null 2>$D/err && t_ok "$n: bcftools view reads it" || t_fail "$n: bcftools view: $(head -2 $D/err)"
	if bcftools norm -c e -f "$r" "$v" -Ov -o /dev/null 2>$D/norm.err; then
		t_ok "$n: bcftools norm -c e finds no REF mismatch"
	else t_fail "$n: bcftools norm -c e: $(grep -i mismatch $D/norm.err | head -2)"; fi
	cp "$v" $D/copy.vcf.gz
	bcftools index -f $D/copy.vcf.gz 2>$D/err && t_ok "$n: bcftools index accepts it" || t_fail "$n: bcftools index: $(head -2 $D/err)"
	tabix -f -p vcf $D/copy.vcf.gz 2>$D/err && t_ok "$n: tabix accepts it" || t_fail "$n: tabix: $(head -2 $D/err)"
	[ -s "$v.tbi" ] && tabix -l "$v" >/dev/null 2>&1 && t_ok "$n: seqa wrote a usable .tbi" || t_fail "$n: no usable $v.tbi"
	h=$(bcftools view -h "$v")
	echo "$h" | grep -q '^##fileformat=VCFv4.2' && echo "$h" | grep -q '^##source=seqa ' \
		&& echo "$h" | grep -q '^##seqaCommand=.*seqa.* call ' && echo "$h" | grep -q '^##seqaBackend=' \
		&& echo "$h" | grep -q '^##reference=file://' && t_ok "$n: provenance header lines" || t_fail "$n: provenance header lines"
	# every contig of the FASTA is declared with its length and the md5 samtools computes
	samtools dict "$r" 2>/dev/null | awk -F'\t' '$1=="@SQ"{for(i=2;i<=NF;i++){split($i,a,":"); v[a[1]]=substr($i,4)} print "##contig=<ID=" v["SN"] ",length=" v["LN"] ",md5=" v["M5"] ">"}' > $D/want.contigs
	echo "$h" | grep '^##contig' > $D/got.contigs
	cmp -s $D/want.contigs $D/got.contigs && t_ok "$n: ##contig lines carry length and md5 (= samtools dict)" \
		|| t_fail "$n: ##contig lines differ from samtools dict: $(diff $D/want.contigs $D/got.contigs | head -3)"
}
# stats_match NAME VCF JSON: bcftools stats counts equal seqa's --json counts
stats_match() {
	n=$1; v=$2; j=$3
	bcftools stats "$v" > $D/stats.txt 2>/dev/null
	sn() { awk -F'\t' -v k="$1" '$1=="SN" && $3==k {print $4}' $D/stats.txt; }
	js() { sed -n "s/^ *\"$1\": \([0-9]*\).*/\1/p" "$j"; }
	if [ -n "$(js records)" ] && [ "$(sn 'number of records:')" = "$(js records)" ] && [ "$(sn 'number of SNPs:')" = "$(js snp)" ] \
	   && [ "$(sn 'number of indels:')" = "$(js indel)" ] && [ "$(sn 'number of multiallelic sites:')" = "$(js multiallelic)" ]; then
		t_ok "$n: bcftools stats counts = seqa's ($(js records) records, $(js snp) SNP, $(js indel) indel)"
	else
		t_fail "$n: bcftools stats $(sn 'number of records:')/$(sn 'number of SNPs:')/$(sn 'number of indels:')/$(sn 'number of multiallelic sites:') vs seqa $(js records)/$(js snp)/$(js indel)/$(js multiallelic)"
	fi
}
# gvcf_tiles NAME GVCF BED: reference blocks and variant records cover each BED interval
# exactly: no gap anywhere, blocks never overlap anything (variant records may overlap each
# other, e.g. a deletion and a SNP inside it on the other haplotype)
gvcf_tiles() {
	n=$1; g=$2; bed=$3
	bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\t%INFO/END\n' "$g" > $D/g.tsv
	msg=$(awk -F'\t' 'FNR==NR { b[++nb]=$1; s[nb]=$2; e[nb]=$3; next }
		{ end = ($5 != ".") ? $5 : $2 + length($3) - 1; blk = ($4 == "<NON_REF>")
		  if ($1 != chr) { if (chr != "" && cov != want) { print "ends at " cov " not " want " on " chr; exit } chr = $1; cov = -1 }
		  if (cov < 0) { for (i = 1; i <= nb; i++) if (b[i] == $1 && $2 - 1 >= s[i] && $2 - 1 < e[i]) { cov = s[i]; want = e[i] } if (cov != $2 - 1) { print "interval starts at " cov " but first record at " $2; exit } }
		  if (blk && $2 != cov + 1) { print "block at " $1 ":" $2 " after coverage to " cov; exit }
		  if (!blk && $2 > cov + 1) { print "gap before " $1 ":" $2; exit }
		  if (end > cov) cov = end
		  if (cov == want) cov = -1 }
		END { }' "$bed" $D/g.tsv)
	[ -z "$msg" ] && [ -s $D/g.tsv ] && t_ok "$n: gVCF blocks tile the callable region (no gaps, no overlaps)" || t_fail "$n: gVCF tiling: $msg"
	bcftools view -H "$g" | awk '$5 != "<NON_REF>" && $5 !~ /,<NON_REF>$/ {bad=1} END{exit bad}' \
		&& t_ok "$n: every gVCF record carries <NON_REF>" || t_fail "$n: gVCF record without <NON_REF>"
}

# ---- 1. real NA12878 reads: all 14 GIAB SNPs with their genotypes ---------------------------
$SEQA call -r $TINY/q.fa -i $TINY/NA12878.chr22.tiny.bam -o $D/tiny.vcf.gz -g $D/tiny.g.vcf.gz --json > $D/tiny.json 2>$D/tiny.log
rc=$?
t_check "tiny_chr22: seqa call exits 0" [ $rc -eq 0 ]
awk 'BEGIN{OFS="\t"} /^#/ {print; next} {$8 = "."; print}' $TINY/NA12878.chr22.tiny.giab.vcf | bcftools query -f '%POS %REF %ALT [%GT]\n' | sed 's|[|]|/|' | sort > $D/giab.txt
bcftools view -f PASS $D/tiny.vcf.gz | bcftools query -f '%POS %REF %ALT [%GT]\n' | sort > $D/tiny.txt
nt=$(wc -l < $D/giab.txt); nm=$(grep -cxFf $D/giab.txt $D/tiny.txt)
t_check "tiny_chr22: GIAB truth has 14 SNPs" [ "$nt" -eq 14 ]
[ "$nm" -eq "$nt" ] && t_ok "tiny_chr22: all $nt GIAB SNPs called PASS with the right genotype" \
	|| t_fail "tiny_chr22: $nm of $nt GIAB SNPs matched; missing: $(grep -vxFf $D/tiny.txt $D/giab.txt | tr '\n' ';')"
# precision on real reads: every PASS record is also called by bcftools on the same reads
cp $TINY/NA12878.chr22.tiny.bam $D/tiny.bam && samtools index $D/tiny.bam
bcftools mpileup -Ou -f $TINY/q.fa $D/tiny.bam 2>/dev/null | bcftools call -mv -Oz -o $D/tiny.bcf.vcf.gz 2>/dev/null
fp=$(sh bench/vcf_compare.sh $TINY/q.fa $D/tiny.bcf.vcf.gz $D/tiny.vcf.gz | awk '{s += $3} END {print s}')
[ "$fp" = 0 ] && t_ok "tiny_chr22: every PASS call is also a bcftools call" || t_fail "tiny_chr22: $fp PASS calls bcftools does not make"
valid_vcf tiny $D/tiny.vcf.gz $TINY/q.fa
valid_vcf tiny-gvcf $D/tiny.g.vcf.gz $TINY/q.fa
stats_match tiny $D/tiny.vcf.gz $D/tiny.json
printf 'q\t0\t12356\n' > $D/tiny.bed
gvcf_tiles tiny $D/tiny.g.vcf.gz $D/tiny.bed
# the gVCF's variant records are the VCF's records
[ "$(bcftools view -H $D/tiny.g.vcf.gz | awk -F'\t' '$5 != "<NON_REF>"' | cut -f1,2,4,7)" = "$(bcftools view -H $D/tiny.vcf.gz | cut -f1,2,4,7)" ] \
	&& t_ok "tiny_chr22: gVCF variant records = VCF records" || t_fail "tiny_chr22: gVCF variant records differ from VCF"

# ---- 1b. a multi-allelic site: two haplotypes with different ALTs at one position ---------------
# (synthetic error-free reads tiling each haplotype; expected: one record, ALT C,G or G,C, GT 1/2)
if command -v bwa >/dev/null 2>&1; then
	M=$D/multi; mkdir -p $M
	awk '!/^>/ {printf "%s", $0} END {print ""}' $TINY/q.fa > $M/seq.txt
	# positions (1-based): 3001 gets C on hap1 and G on hap2 (REF must be neither); 6001 a 3-bp deletion on hap1 only
	awk -v P=3001 -v D=6001 '{ s = $0; r = substr(s, P, 1); a = (r == "C") ? "T" : "C"; b = (r == "G") ? "A" : "G";
		h1 = substr(s, 1, P - 1) a substr(s, P + 1); h1 = substr(h1, 1, D) substr(h1, D + 4);
		h2 = substr(s, 1, P - 1) b substr(s, P + 1);
		print r, a, b, substr(s, D, 4) > "/dev/stderr"; print h1; print h2 }' $M/seq.txt > $M/haps.txt 2> $M/alleles.txt
	awk 'function rc(x,   i, o, c) { o = ""; for (i = length(x); i > 0; i--) { c = substr(x, i, 1); o = o (c == "A" ? "T" : c == "C" ? "G" : c == "G" ? "C" : c == "T" ? "A" : "N") } return o }
		{ for (s = 1; s + 99 <= length($0); s += 3) { r = substr($0, s, 100); if ((s / 3) % 2) r = rc(r);
		  q = ""; for (i = 0; i < 100; i++) q = q "I"; print "@h" NR "_" s "\n" r "\n+\n" q } }' $M/haps.txt > $M/r.fq
	cp $TINY/q.fa $M/q.fa && bwa index $M/q.fa 2>/dev/null
	bwa mem -R '@RG\tID:m\tSM:M' $M/q.fa $M/r.fq 2>/dev/null | samtools sort -o $M/m.bam - 2>/dev/null && samtools index $M/m.bam
	$SEQA call -r $M/q.fa -i $M/m.bam -o $M/m.vcf.gz --json > $M/m.json 2>/dev/null
	read r a b del < $M/alleles.txt
	got=$(bcftools query -i 'POS=3001' -f '%REF %ALT [%GT]' $M/m.vcf.gz)
	case "$got" in "$r $a,$b 1/2"|"$r $b,$a 1/2") t_ok "multi-allelic: one record $got";; *) t_fail "multi-allelic: got '$got', want '$r $a,$b 1/2'";; esac
	# the deletion as bcftools norm left-aligns it
	printf '##fileformat=VCFv4.2\n##contig=<ID=q,length=12356>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nq\t6001\t.\t%s\t%s\t.\t.\t.\n' $del $(echo $del | cut -c1) > $M/del.vcf
	want=$(bcftools norm -f $M/q.fa $M/del.vcf 2>/dev/null | bcftools query -f '%POS %REF %ALT')
	got=$(bcftools query -i 'GT="0/1"' -f '%POS %REF %ALT' $M/m.vcf.gz)
	[ -n "$want" ] && [ "$got" = "$want" ] && t_ok "multi-allelic: het deletion at $got (= bcftools norm)" || t_fail "multi-allelic: deletion got '$got' want '$want'"
	[ "$(bcftools view -H $M/m.vcf.gz | wc -l)" -eq 2 ] && t_ok "multi-allelic: no other records" || t_fail "multi-allelic: $(bcftools view -H $M/m.vcf.gz | wc -l) records (want 2)"
	stats_match multi $M/m.vcf.gz $M/m.json
fi

# ---- 2. simulated 30x 2x150 slice of GRCh38 chr21 vs truth and vs bcftools -------------------
# seqa simulate (seed fixed; SNP 1e-3, indel 1.5e-4), bwa mem | fixmate | sort | markdup.
# Accuracy is asserted on the mappable region, computed from the reference alone by
# bench/mappable.sh (150-bp windows that bwa mem places back at their origin with MAPQ >= 20,
# GIAB's mappability idea; 11 kb of the slice is a segmental duplication where no read maps
# uniquely and no caller can see the variants).  Overall numbers are printed and seqa must
# still be >= bcftools there.
if [ -r "$CHR21" ] && $SEQA simulate --help >/dev/null 2>&1; then
	zcat $CHR21 > $D/chr21.fa && samtools faidx $D/chr21.fa
	samtools faidx $D/chr21.fa chr21:9700001-10000000 | sed 's/^>.*/>chr21s/' > $D/s.fa
	rm -f $D/chr21.fa $D/chr21.fa.fai
	samtools faidx $D/s.fa && bwa index $D/s.fa 2>/dev/null
	$SEQA simulate -r $D/s.fa -o $D/sim -c 30 --seed 7 --snp-rate 1e-3 --indel-rate 1.5e-4 -t 2 2>/dev/null
	bwa mem -t 2 -R '@RG\tID:s\tSM:SIM' $D/s.fa $D/sim_R1.fq.gz $D/sim_R2.fq.gz 2>/dev/null \
		| samtools fixmate -m - - 2>/dev/null | samtools sort -o $D/sorted.bam - 2>/dev/null \
		&& samtools markdup $D/sorted.bam $D/s.bam 2>/dev/null && samtools index $D/s.bam
	t0=$(date +%s)
	$SEQA call -t 2 -r $D/s.fa -i $D/s.bam -o $D/s.vcf.gz -g $D/s.g.vcf.gz --json > $D/s.json 2>$D/s.log
	rc=$?; t1=$(date +%s)
	t_check "slice: seqa call exits 0 ($((t1 - t0)) s)" [ $rc -eq 0 ]
	bcftools mpileup -Ou -f $D/s.fa $D/s.bam 2>/dev/null | bcftools call -mv -Oz -o $D/bcf.vcf.gz 2>/dev/null
	sh bench/mappable.sh -t 2 $D/s.fa > $D/mappable.bed
	sh bench/vcf_compare.sh -l seqa $D/s.fa $D/sim.truth.vcf.gz $D/s.vcf.gz > $D/seqa.all
	sh bench/vcf_compare.sh -l bcftools $D/s.fa $D/sim.truth.vcf.gz $D/bcf.vcf.gz > $D/bcf.all
	sh bench/vcf_compare.sh -R $D/mappable.bed -l seqa $D/s.fa $D/sim.truth.vcf.gz $D/s.vcf.gz > $D/seqa.acc
	sh bench/vcf_compare.sh -R $D/mappable.bed -l bcftools $D/s.fa $D/sim.truth.vcf.gz $D/bcf.vcf.gz > $D/bcf.acc
	f() { awk -v c=$2 '$1==c {print $7}' $1; }
	echo "# mappable: $(awk '{s += $3 - $2} END {print s}' $D/mappable.bed) of 300000 bp"
	echo "# (class TP FP FN precision recall F1 GT-concordance)"
	echo "# seqa     overall: $(tr '\n' ' ' < $D/seqa.all)  mappable: $(tr '\n' ' ' < $D/seqa.acc)"
	echo "# bcftools overall: $(tr '\n' ' ' < $D/bcf.all)  mappable: $(tr '\n' ' ' < $D/bcf.acc)"
	awk -v a="$(f $D/seqa.acc SNP)" 'BEGIN{exit !(a != "" && a >= 0.995)}' && t_ok "slice: SNP F1 $(f $D/seqa.acc SNP) >= 0.995 (mappable)" || t_fail "slice: SNP F1 $(f $D/seqa.acc SNP) < 0.995 (mappable)"
	awk -v a="$(f $D/seqa.acc INDEL)" 'BEGIN{exit !(a != "" && a >= 0.98)}' && t_ok "slice: indel F1 $(f $D/seqa.acc INDEL) >= 0.98 (mappable)" || t_fail "slice: indel F1 $(f $D/seqa.acc INDEL) < 0.98 (mappable)"
	for c in SNP INDEL; do
		for w in acc all; do
			awk -v a="$(f $D/seqa.$w $c)" -v b="$(f $D/bcf.$w $c)" 'BEGIN{exit !(a != "" && b != "" && a >= b)}' \
				&& t_ok "slice: $c F1 seqa $(f $D/seqa.$w $c) >= bcftools $(f $D/bcf.$w $c) ($w)" \
				|| t_fail "slice: $c F1 seqa $(f $D/seqa.$w $c) < bcftools $(f $D/bcf.$w $c) ($w)"
		done
	done
	for c in SNP INDEL; do
		g=$(awk -v c=$c '$1==c {print $8}' $D/seqa.acc)
		awk -v a="$g" 'BEGIN{exit !(a != "" && a >= 0.98)}' && t_ok "slice: $c genotype concordance $g >= 0.98" || t_fail "slice: $c genotype concordance $g < 0.98"
	done
	valid_vcf slice $D/s.vcf.gz $D/s.fa
	stats_match slice $D/s.vcf.gz $D/s.json
	printf 'chr21s\t0\t300000\n' > $D/s.bed
	gvcf_tiles slice $D/s.g.vcf.gz $D/s.bed
	# determinism: -t 1 with small chunks (many unit boundaries) = -t 2 default
	$SEQA call -t 1 --chunk 25000 -r $D/s.fa -i $D/s.bam -o $D/s1.vcf.gz -g $D/s1.g.vcf.gz 2>/dev/null
	$SEQA call -t 2 --chunk 25000 -r $D/s.fa -i $D/s.bam -o $D/s2.vcf.gz 2>/dev/null
	if [ -s $D/s1.vcf.gz ] && [ "$(bcftools view -H $D/s1.vcf.gz | md5sum)" = "$(bcftools view -H $D/s2.vcf.gz | md5sum)" ]; then
		t_ok "slice: identical records for -t 1 and -t 2"
	else t_fail "slice: records differ between -t 1 and -t 2"; fi
	gvcf_tiles slice-chunked $D/s1.g.vcf.gz $D/s.bed
	# --regions: only records inside, gVCF tiles exactly the intervals
	printf 'chr21s\t1000\t60000\nchr21s\t150000\t220000\n' > $D/r.bed
	$SEQA call -R $D/r.bed -r $D/s.fa -i $D/s.bam -o $D/r.vcf.gz -g $D/r.g.vcf.gz 2>/dev/null; rc=$?
	t_check "regions: exits 0" [ $rc -eq 0 ]
	out=$(bcftools query -f '%POS\n' $D/r.vcf.gz | awk '!(($1 > 1000 && $1 <= 60000) || ($1 > 150000 && $1 <= 220000))' | wc -l)
	in=$(bcftools query -f '%POS\n' $D/r.vcf.gz | wc -l)
	[ "$out" -eq 0 ] && [ "$in" -gt 0 ] && t_ok "regions: $in records, none outside the BED" || t_fail "regions: $out of $in records outside the BED"
	gvcf_tiles regions $D/r.g.vcf.gz $D/r.bed
	# backends: the pair-HMM on the CPU SIMD kernels and on OpenCL (PoCL in CI) give the same VCF
	if $SEQA call --backend opencl -t 2 -r $D/s.fa -i $D/s.bam -o $D/ocl.vcf.gz 2>$D/ocl.log; then
		$SEQA call --backend cpu -t 2 -r $D/s.fa -i $D/s.bam -o $D/cpu.vcf.gz 2>/dev/null
		[ "$(bcftools view -H $D/cpu.vcf.gz | md5sum)" = "$(bcftools view -H $D/ocl.vcf.gz | md5sum)" ] \
			&& t_ok "slice: identical records for --backend cpu and --backend opencl" \
			|| t_fail "slice: records differ between --backend cpu and opencl"
		bcftools view -h $D/ocl.vcf.gz | grep -q '^##seqaBackend=opencl' && t_ok "slice: header names the OpenCL backend" || t_fail "slice: header backend line"
	else
		t_skip "slice: no OpenCL device ($(tail -1 $D/ocl.log))"
	fi
else
	t_skip "slice: GRCh38 chr21 slice or seqa simulate absent"
fi

# ---- 3. errors ---------------------------------------------------------------------------------
$SEQA call -r $TINY/q.fa -i $D/missing.bam -o $D/e.vcf.gz 2>/dev/null; t_check "missing BAM exits 4" [ $? -eq 4 ]
$SEQA call -r $D/missing.fa -i $TINY/NA12878.chr22.tiny.bam -o $D/e.vcf.gz 2>/dev/null; t_check "missing reference exits 4" [ $? -eq 4 ]
printf 'nosuchcontig\t0\t100\n' > $D/bad.bed
$SEQA call -R $D/bad.bed -r $TINY/q.fa -i $TINY/NA12878.chr22.tiny.bam -o $D/e.vcf.gz 2>/dev/null; t_check "BED with an unknown contig exits 3" [ $? -eq 3 ]
printf '>other\nACGT\n' > $D/other.fa
$SEQA call -r $D/other.fa -i $TINY/NA12878.chr22.tiny.bam -o $D/e.vcf.gz 2>/dev/null; t_check "reference sharing no contig with the BAM exits 3" [ $? -eq 3 ]
printf '>q\nACGTACGT\n' > $D/short.fa
$SEQA call -r $D/short.fa -i $TINY/NA12878.chr22.tiny.bam -o $D/e.vcf.gz 2>/dev/null; t_check "reference with other contig lengths exits 3" [ $? -eq 3 ]
$SEQA call -r $TINY/q.fa -i $TINY/NA12878.chr22.tiny.bam -o /nonexistent/dir/e.vcf.gz 2>/dev/null; t_check "unwritable output exits 5" [ $? -eq 5 ]
[ ! -e $D/e.vcf.gz ] && t_ok "no output left behind by failed runs" || t_fail "a failed run left $D/e.vcf.gz"
$SEQA call --backend warp -r $TINY/q.fa -i $TINY/NA12878.chr22.tiny.bam -o $D/e.vcf.gz 2>/dev/null; t_check "unknown backend is a usage error (2)" [ $? -eq 2 ]
$SEQA call -r $TINY/q.fa 2>/dev/null; t_check "missing -i/-o is a usage error (2)" [ $? -eq 2 ]
[ $_f -eq 0 ] && rm -rf "$D"   # keep the scratch only when something failed
t_done
