#!/bin/sh
# seqa — end-to-end benchmark, FASTQ -> VCF, one invocation, same reads and threads:
#   seqa run -t T (ingest -> align -> call -> QC -> provenance; --no-gvcf to match the peer)
#   bwa mem -t T | samtools fixmate -m | samtools sort | samtools markdup ; samtools index ;
#     bcftools mpileup | bcftools call -mv
# Input: seqa simulate 2x150 at COV x (30) over ../shared/data/human/GRCh38.chr21_1-10M.fa.gz
# (seed 11; SNP 1e-3, indel 1.5e-4), optionally only REGIONS (e.g. chr21:9000001-10000000).
# Prints wall/CPU ratios, peak RSS and precision/recall/F1 per class (bench/vcf_compare.sh),
# overall and on the mappable region (bench/mappable.sh: from the reference alone; see bench/call.sh);
# writes bench/results/e2e-HOST.json.
#
# Environment: THREADS (2), COV (30), REGIONS (all), WORK (bench/out/e2e), SEED (11).
set -u
cd "$(dirname "$0")/.." || exit 1
THREADS=${THREADS:-2}; COV=${COV:-30}; REGIONS=${REGIONS:-}; SEED=${SEED:-11}
WORK=${WORK:-bench/out/e2e}
SHARED=${SEQA_SHARED:-../shared}
SRC=$SHARED/data/human/GRCh38.chr21_1-10M.fa.gz
RES=bench/results
HOST=$(hostname -s)
mkdir -p "$WORK" "$RES"
note() { echo "[bench/e2e] $*" >&2; }
for t in bwa samtools bcftools /usr/bin/time; do command -v $t >/dev/null || { note "$t not found"; exit 1; }; done
[ -r "$SRC" ] || { note "$SRC absent"; exit 1; }
[ -x ./seqa ] || { note "build seqa first (make)"; exit 1; }
cp ./seqa $WORK/seqa.bin
SEQA=$WORK/seqa.bin

REF=$WORK/chr21.fa
[ -s $REF.fai ] || { zcat "$SRC" > $REF && samtools faidx $REF; } || exit 1
[ -s $REF.sa ] || $SEQA index $REF >/dev/null 2>&1 || bwa index $REF 2>/dev/null || exit 1
SIM=$WORK/sim
if [ ! -s $SIM.truth.vcf.gz ]; then
	note "simulating ${COV}x 2x150 ${REGIONS:-everywhere} (seed $SEED)"
	$SEQA simulate -r $REF -o $SIM -c $COV --seed $SEED --snp-rate 1e-3 --indel-rate 1.5e-4 -t $THREADS \
		${REGIONS:+--regions $REGIONS} 2>/dev/null || exit 1
fi

# time TAG CMD: GNU time of a shell command; TAG.t = "wall user sys rss_kb"
timed() {
	tag=$1; shift
	/usr/bin/time -f "%e %U %S %M" -o $WORK/$tag.t sh -c "$*" 2> $WORK/$tag.log || { note "$tag failed: $(tail -3 $WORK/$tag.log)"; return 1; }
	note "$tag: $(awk '{printf "%s s wall, %.2f s CPU, %d KB peak RSS", $1, $2 + $3, $4}' $WORK/$tag.t)"
}
note "seqa run -t $THREADS"
rm -rf $WORK/run
timed seqa "$SEQA run -r $REF -1 ${SIM}_R1.fq.gz -2 ${SIM}_R2.fq.gz --sample SIM --indication RD-BONE --qc-profile scripts/demo-qc-profile.json --no-gvcf -o $WORK/run -t $THREADS; rc=\$?; [ \$rc -eq 0 ] || [ \$rc -eq 7 ]" || exit 1
SV=$(ls $WORK/run/*.vcf.gz | head -1)
note "bwa mem | fixmate | sort | markdup ; index ; bcftools mpileup | call"
timed peer "bwa mem -t $THREADS -R '@RG\tID:sim\tSM:SIM' $REF ${SIM}_R1.fq.gz ${SIM}_R2.fq.gz 2>/dev/null | samtools fixmate -m - - | samtools sort -@ $THREADS -o $WORK/peer.sorted.bam - && samtools markdup -@ $THREADS $WORK/peer.sorted.bam $WORK/peer.bam && samtools index $WORK/peer.bam && bcftools mpileup -Ou -f $REF $WORK/peer.bam | bcftools call -mv -Oz -o $WORK/peer.vcf.gz" || exit 1
rm -f $WORK/peer.sorted.bam
[ -s $WORK/mappable.bed ] || sh bench/mappable.sh -t $THREADS $REF > $WORK/mappable.bed || exit 1
for t in seqa peer; do
	v=$SV; [ $t = peer ] && v=$WORK/peer.vcf.gz
	sh bench/vcf_compare.sh -l $t $REF $SIM.truth.vcf.gz $v > $WORK/$t.all
	sh bench/vcf_compare.sh -R $WORK/mappable.bed -l $t $REF $SIM.truth.vcf.gz $v > $WORK/$t.mappable
done
printf '\n%-6s %8s %8s %8s | %-38s | %-38s\n' who wall_s cpu_s rss_MB "SNP P/R/F1 overall ; mappable" "INDEL P/R/F1 overall ; mappable"
for t in seqa peer; do
	printf '%-6s %8s %8.2f %8.0f | %s ; %s | %s ; %s\n' $t $(awk '{print $1, $2 + $3, $4 / 1024}' $WORK/$t.t) \
		"$(awk '$1=="SNP"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.all)" "$(awk '$1=="SNP"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.mappable)" \
		"$(awk '$1=="INDEL"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.all)" "$(awk '$1=="INDEL"{printf "%.4f/%.4f/%.4f", $5, $6, $7}' $WORK/$t.mappable)"
done
RW=$(awk 'NR==FNR{a=$1; next} {printf "%.2f", $1 / a}' $WORK/seqa.t $WORK/peer.t)
RC=$(awk 'NR==FNR{a=$2+$3; next} {printf "%.2f", ($2+$3) / a}' $WORK/seqa.t $WORK/peer.t)
echo "wall-time ratio peer / seqa run: $RW   CPU ratio: $RC"
[ -s $WORK/run/run.json ] && note "seqa run stages: $(tr -d '\n ' < $WORK/run/run.json | head -c 400)"
js() { awk '{printf "%s\"%s\": {\"tp\": %d, \"fp\": %d, \"fn\": %d, \"precision\": %s, \"recall\": %s, \"f1\": %s, \"gt_concordance\": %s}", (NR>1?", ":"{"), $1, $2, $3, $4, $5, $6, $7, $8} END{printf "}"}' $1; }
{
	printf '{\n  "benchmark": "e2e",\n  "host": "%s",\n  "date": "%s",\n  "seqa_version": "%s",\n' "$HOST" "$(date -u +%FT%TZ)" "$($SEQA --version | head -1)"
	printf '  "input": {"reference": "GRCh38 chr21:1-10,000,000", "regions": "%s", "coverage": %s, "seed": %s, "pairs": %s},\n' \
		"${REGIONS:-all}" $COV $SEED $(zcat ${SIM}_R1.fq.gz | awk 'END {print NR / 4}')
	printf '  "threads": %s,\n' $THREADS
	for t in seqa peer; do
		printf '  "%s": {"wall_s": %s, "cpu_s": %s, "peak_rss_kb": %s, "overall": %s, "mappable": %s},\n' $t \
			$(awk '{print $1, $2 + $3, $4}' $WORK/$t.t) "$(js $WORK/$t.all)" "$(js $WORK/$t.mappable)"
	done
	printf '  "peer": "bwa mem | samtools fixmate -m | sort | markdup; samtools index; bcftools mpileup | call -mv",\n'
	printf '  "ratio_peer_over_seqa": {"wall": %s, "cpu": %s}\n}\n' $RW $RC
} > $RES/e2e-$HOST.json
note "wrote $RES/e2e-$HOST.json"
