#!/bin/sh
# seqa — variant calling benchmark, one invocation, same BAM and threads for every contender:
#   seqa call -t T                                   (haplotype-based, pair-HMM on --backend auto)
#   bcftools mpileup -f REF BAM | bcftools call -mv   (pileup-based peer)
#   freebayes -f REF BAM                             (haplotype-based peer; single-threaded)
#   seqa call -t T --backend opencl                  (when an OpenCL device exists; OPENCL=1)
# Input: seqa simulate 30x 2x150 over ../shared/data/human/GRCh38.chr21_1-10M.fa.gz (seed 11;
# SNP 1e-3, indel 1.5e-4), bwa mem | samtools fixmate -m | sort | markdup (cached in WORK).
# Accuracy (bench/vcf_compare.sh: bcftools norm -m- + atomize on both sets, match on
# CHROM/POS/REF/ALT; genotype concordance separately) overall and on the mappable region
# (bench/mappable.sh: 150-bp windows of the reference that bwa mem places back at their origin
# with MAPQ >= 20; computed from the reference alone, like GIAB's mappability stratification).
# GRCh38 chr21 5.0-9.5 Mb is mostly segmental duplications, satellites and the GRC's known false
# duplications: 37% of the reads from it map with MAPQ 0 by any aligner, so no caller can see the
# variants there; the acceptance figures are the mappable ones, the overall ones are printed too.  Prints wall/CPU ratios and peak
# RSS; writes bench/results/call-HOST.json.
#
# Environment: THREADS (2), WORK (bench/out/call), RUNS (1; median reported), FREEBAYES (1),
# OPENCL (1), SEED (11).
set -u
cd "$(dirname "$0")/.." || exit 1
THREADS=${THREADS:-2}; RUNS=${RUNS:-1}; FREEBAYES=${FREEBAYES:-1}; OPENCL=${OPENCL:-1}; SEED=${SEED:-11}
WORK=${WORK:-bench/out/call}
SHARED=${SEQA_SHARED:-../shared}
SRC=$SHARED/data/human/GRCh38.chr21_1-10M.fa.gz
RES=bench/results
HOST=$(hostname -s)
mkdir -p "$WORK" "$RES"
note() { echo "[bench/call] $*" >&2; }
for t in bwa samtools bcftools /usr/bin/time; do command -v $t >/dev/null || { note "$t not found"; exit 1; }; done
[ -r "$SRC" ] || { note "$SRC absent"; exit 1; }
[ -x ./seqa ] || { note "build seqa first (make)"; exit 1; }
cp ./seqa $WORK/seqa.bin   # a private copy: a rebuild during the run cannot change the contender
SEQA=$WORK/seqa.bin

# ---- input (cached) ----------------------------------------------------------------------------
REF=$WORK/chr21.fa
[ -s $REF.fai ] || { zcat "$SRC" > $REF && samtools faidx $REF; } || exit 1
[ -s $REF.sa ] || bwa index $REF 2>/dev/null || exit 1
SIM=$WORK/sim30x
if [ ! -s $SIM.truth.vcf.gz ]; then
	note "simulating 30x 2x150 (seed $SEED)"
	$SEQA simulate -r $REF -o $SIM -c 30 --seed $SEED --snp-rate 1e-3 --indel-rate 1.5e-4 -t $THREADS 2>/dev/null || exit 1
fi
BAM=$WORK/bwa.bam
if [ ! -s $BAM.bai ]; then
	note "aligning with bwa mem (once; cached)"
	bwa mem -t $THREADS -R '@RG\tID:sim\tSM:SIM' $REF ${SIM}_R1.fq.gz ${SIM}_R2.fq.gz 2>/dev/null \
		| samtools fixmate -m - - | samtools sort -o $WORK/sorted.bam - && samtools markdup $WORK/sorted.bam $BAM 2>/dev/null \
		&& samtools index $BAM || exit 1
	rm -f $WORK/sorted.bam
fi
BED=$WORK/mappable.bed
[ -s $BED ] || sh bench/mappable.sh -t $THREADS $REF > $BED || exit 1
MAPPABLE=$(awk '{s += $3 - $2} END {print s}' $BED)
ACGT=$(grep -v '>' $REF | tr -cd 'ACGTacgt' | wc -c)
note "BAM $(samtools view -c $BAM) reads; mappable $MAPPABLE of $ACGT A/C/G/T bp"

# ---- contenders ----------------------------------------------------------------------------------
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# run TAG OUT.vcf CMD: runs CMD RUNS times under GNU time; TAG.wall/.cpu/.rss hold the medians
run() {
	tag=$1; out=$2; shift 2
	: > $WORK/$tag.times
	for i in $(seq $RUNS); do
		rm -f $out
		/usr/bin/time -f "%e %U %S %M" -o $WORK/$tag.t sh -c "$*" 2> $WORK/$tag.log || { note "$tag failed: $(tail -3 $WORK/$tag.log)"; return 1; }
		tail -1 $WORK/$tag.t >> $WORK/$tag.times
	done
	awk '{print $1}' $WORK/$tag.times | median > $WORK/$tag.wall
	awk '{print $2 + $3}' $WORK/$tag.times | median > $WORK/$tag.cpu
	awk '{print $4}' $WORK/$tag.times | median > $WORK/$tag.rss
	note "$tag: $(cat $WORK/$tag.wall) s wall, $(cat $WORK/$tag.cpu) s CPU, $(cat $WORK/$tag.rss) KB peak RSS"
}
tags=""
note "seqa call -t $THREADS"
run seqa $WORK/seqa.vcf.gz "$SEQA call -t $THREADS -r $REF -i $BAM -o $WORK/seqa.vcf.gz" && tags="$tags seqa"
note "bcftools mpileup | call -mv"
run bcftools $WORK/bcftools.vcf.gz "bcftools mpileup --threads $THREADS -Ou -f $REF $BAM | bcftools call --threads $THREADS -mv -Oz -o $WORK/bcftools.vcf.gz" && tags="$tags bcftools"
if [ "$FREEBAYES" = 1 ] && command -v freebayes >/dev/null; then
	note "freebayes (single-threaded: it has no -t)"
	run freebayes $WORK/freebayes.vcf "freebayes -f $REF $BAM > $WORK/freebayes.vcf" && tags="$tags freebayes"
fi
: > $WORK/empty.bed
if [ "$OPENCL" = 1 ] && $SEQA call --backend opencl -r $REF -i $BAM -o $WORK/probe.vcf.gz -R $WORK/empty.bed >/dev/null 2>&1; then
	note "seqa call -t $THREADS --backend opencl"
	run seqa_opencl $WORK/seqa_opencl.vcf.gz "$SEQA call -t $THREADS --backend opencl -r $REF -i $BAM -o $WORK/seqa_opencl.vcf.gz" && tags="$tags seqa_opencl"
fi

# ---- accuracy --------------------------------------------------------------------------------------
for t in $tags; do
	v=$WORK/$t.vcf.gz; [ -e $v ] || v=$WORK/$t.vcf
	sh bench/vcf_compare.sh -l $t $REF $SIM.truth.vcf.gz $v > $WORK/$t.all
	sh bench/vcf_compare.sh -R $BED -l $t $REF $SIM.truth.vcf.gz $v > $WORK/$t.mappable
done
if echo "$tags" | grep -q seqa_opencl; then
	[ "$(bcftools view -H $WORK/seqa.vcf.gz | md5sum)" = "$(bcftools view -H $WORK/seqa_opencl.vcf.gz | md5sum)" ] \
		&& SAME=true || SAME=false
else SAME=null; fi

# ---- report ------------------------------------------------------------------------------------------
sw=$(cat $WORK/seqa.wall); sc=$(cat $WORK/seqa.cpu)
printf '\n%-12s %8s %8s %9s | %-40s | %-40s\n' contender wall_s cpu_s rss_MB "SNP P/R/F1 (overall; mappable)" "INDEL P/R/F1 (overall; mappable)"
for t in $tags; do
	printf '%-12s %8s %8s %9.0f | %s ; %s | %s ; %s\n' $t $(cat $WORK/$t.wall) $(cat $WORK/$t.cpu) \
		$(awk '{print $1 / 1024}' $WORK/$t.rss) \
		"$(awk '$1=="SNP"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.all)" "$(awk '$1=="SNP"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.mappable)" \
		"$(awk '$1=="INDEL"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.all)" "$(awk '$1=="INDEL"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.mappable)"
done
ratio() { [ -e $WORK/$1.wall ] && awk -v a="$(cat $WORK/$1.$2)" -v b="$3" 'BEGIN{printf "%.2f", a / b}' || echo null; }
echo
for t in $tags; do [ $t = seqa ] || echo "wall-time ratio $t / seqa: $(ratio $t wall $sw)   CPU ratio: $(ratio $t cpu $sc)"; done
[ "$SAME" != null ] && echo "seqa cpu vs opencl VCF records identical: $SAME"

{
	printf '{\n  "benchmark": "call",\n  "host": "%s",\n  "date": "%s",\n  "seqa": "%s",\n' "$HOST" "$(date -u +%FT%TZ)" "$($SEQA --version | head -1)"
	printf '  "input": {"reference": "GRCh38 chr21:1-10,000,000", "acgt_bp": %s, "mappable_bp": %s, "simulator": "seqa simulate -c 30 --seed %s --snp-rate 1e-3 --indel-rate 1.5e-4", "aligner": "bwa mem | samtools fixmate -m | sort | markdup", "reads": %s},\n' \
		$ACGT $MAPPABLE $SEED $(samtools view -c $BAM)
	printf '  "threads": %s, "runs": %s,\n  "contenders": {' $THREADS $RUNS
	sep=""
	for t in $tags; do
		printf '%s\n    "%s": {"wall_s": %s, "cpu_s": %s, "peak_rss_kb": %s, "overall": %s, "mappable": %s}' "$sep" $t \
			$(cat $WORK/$t.wall) $(cat $WORK/$t.cpu) $(cat $WORK/$t.rss) \
			"$(awk '{printf "%s\"%s\": {\"tp\": %d, \"fp\": %d, \"fn\": %d, \"precision\": %s, \"recall\": %s, \"f1\": %s, \"gt_concordance\": %s}", (NR>1?", ":"{"), $1, $2, $3, $4, $5, $6, $7, $8} END{printf "}"}' $WORK/$t.all)" \
			"$(awk '{printf "%s\"%s\": {\"tp\": %d, \"fp\": %d, \"fn\": %d, \"precision\": %s, \"recall\": %s, \"f1\": %s, \"gt_concordance\": %s}", (NR>1?", ":"{"), $1, $2, $3, $4, $5, $6, $7, $8} END{printf "}"}' $WORK/$t.mappable)"
		sep=","
	done
	printf '\n  },\n  "ratios_vs_seqa": {"bcftools_wall": %s, "bcftools_cpu": %s, "freebayes_wall": %s, "freebayes_cpu": %s},\n' \
		$(ratio bcftools wall $sw) $(ratio bcftools cpu $sc) $(ratio freebayes wall $sw) $(ratio freebayes cpu $sc)
	printf '  "cpu_opencl_identical": %s\n}\n' $SAME
} > $RES/call-$HOST.json
note "wrote $RES/call-$HOST.json"
