#!/bin/sh
# seqa run: the whole per-sample pipeline on a 200 kb slice of real human chr17 with simulated
# reads: outputs complete and valid, accuracy vs truth, resume skips complete stages, kill -9
# mid-run then rerun gives identical outputs, -t 1 == -t 2, gate FAIL -> exit 7, bad inputs.
. tests/lib.sh
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if [ ! -r "$src" ]; then t_skip "run: $src absent (../shared not mounted)"; t_done; exit 0; fi
d=$(t_tmp run)
cp "$src" $d/chr17.fa && samtools faidx $d/chr17.fa 17:300001-500000 | sed '1s/.*/>chr17s/' > $d/ref.fa
$SEQA index $d/ref.fa 2>/dev/null || { t_fail "index"; t_done; exit 1; }
$SEQA simulate -r $d/ref.fa -o $d/S -c 20 -s 5 --snp-rate 0.002 --indel-rate 0.0004 2>/dev/null
args="-r $d/ref.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 --pseudonym PSN-1 --indication RD-BONE --sex female"
prof=scripts/demo-qc-profile.json

$SEQA run $args --qc-profile $prof -o $d/a -t 2 2>$d/a.log; rc=$?
t_check "run completes (exit 0)" [ $rc -eq 0 ]
for f in S1.bam S1.bam.bai S1.markdup.json S1.vcf.gz S1.vcf.gz.tbi S1.g.vcf.gz S1.g.vcf.gz.tbi qc.json qc.html ingest.json provenance.json run.json; do
	[ -s $d/a/$f ] || { t_fail "output $f present"; continue; }
done
t_ok "all outputs present"
samtools quickcheck $d/a/S1.bam && t_ok "BAM passes samtools quickcheck" || t_fail "BAM quickcheck"
bcftools view -h $d/a/S1.vcf.gz | grep -q '^##contig=<ID=chr17s,length=200000' && t_ok "VCF header contig" || t_fail "VCF header contig"
out=$(sh bench/vcf_compare.sh $d/ref.fa $d/S.truth.vcf.gz $d/a/S1.vcf.gz)
echo "$out"
snp_f1=$(echo "$out" | awk '$1=="SNP"{print $7}')
ind_f1=$(echo "$out" | awk '$1=="INDEL"{print $7}')
awk -v f=$snp_f1 'BEGIN{exit !(f >= 0.98)}' && t_ok "SNP F1 $snp_f1 >= 0.98" || t_fail "SNP F1 $snp_f1"
awk -v f=$ind_f1 'BEGIN{exit !(f >= 0.90)}' && t_ok "indel F1 $ind_f1 >= 0.90" || t_fail "indel F1 $ind_f1"
grep -q '"pseudonym": "PSN-1"' $d/a/provenance.json && grep -q '"sha256"' $d/a/provenance.json \
	&& t_ok "provenance has pseudonym and input SHA-256" || t_fail "provenance content"
r1sha=$(sha256sum $d/S_R1.fq.gz | cut -c1-64)
grep -q "$r1sha" $d/a/provenance.json && t_ok "provenance R1 SHA-256 equals sha256sum" || t_fail "provenance R1 SHA-256"

# resume: a second run skips every stage and changes nothing
md5_before=$(md5sum $d/a/S1.bam $d/a/S1.vcf.gz | md5sum)
$SEQA run $args --qc-profile $prof -o $d/a -t 1 2>$d/a2.log; rc=$?
n_skip=$(grep -c 'complete and valid, skipped' $d/a2.log)
t_check "rerun exit 0" [ $rc -eq 0 ]
t_check "rerun skips the 4 stages (skipped $n_skip)" [ "$n_skip" -eq 4 ]
t_check "rerun leaves outputs unchanged" [ "$md5_before" = "$(md5sum $d/a/S1.bam $d/a/S1.vcf.gz | md5sum)" ]

# a corrupted output is detected and its stage (and every later one) redone
printf 'x' >> $d/a/S1.vcf.gz.tbi
$SEQA run $args --qc-profile $prof -o $d/a 2>$d/a3.log
grep -q 'stage call: an output is' $d/a3.log && grep -q 'stage qc: started' $d/a3.log \
	&& t_ok "corrupted output -> call and qc redone" || t_fail "corrupted output not detected"

# -t 1 gives the same BAM records and VCF as -t 2
$SEQA run $args --qc-profile $prof -o $d/b -t 1 2>/dev/null
t_check "-t 1 and -t 2: identical VCF records" [ "$(bcftools view -H $d/a/S1.vcf.gz | md5sum)" = "$(bcftools view -H $d/b/S1.vcf.gz | md5sum)" ]
t_check "-t 1 and -t 2: identical BAM records" [ "$(samtools view $d/a/S1.bam | md5sum)" = "$(samtools view $d/b/S1.bam | md5sum)" ]

# kill -9 at several points, then rerun: outputs identical to the uninterrupted run
ok=1
for delay in 0.3 1.5 3; do
	rm -rf $d/k
	$SEQA run $args --qc-profile $prof -o $d/k 2>/dev/null & pid=$!
	sleep $delay; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	$SEQA run $args --qc-profile $prof -o $d/k 2>/dev/null || ok=0
	[ "$(bcftools view -H $d/k/S1.vcf.gz | md5sum)" = "$(bcftools view -H $d/a/S1.vcf.gz | md5sum)" ] || ok=0
	[ "$(samtools view $d/k/S1.bam | md5sum)" = "$(samtools view $d/a/S1.bam | md5sum)" ] || ok=0
	ls $d/k | grep -q '\.tmp\.' && ok=0   # no temporaries left behind the final names
done
t_check "kill -9 at 3 points then rerun: identical outputs" [ $ok -eq 1 ]

# the human profile of the indication fails this slice: exit 7, outputs kept, gate says why
$SEQA run $args -o $d/c 2>$d/c.log; rc=$?
t_check "human gate on a 200 kb slice: exit 7" [ $rc -eq 7 ]
grep -q '"status": "FAIL"' $d/c/qc.json && grep -q 'mean_autosome_coverage\|count_snvs' $d/c/qc.json \
	&& t_ok "qc.json gives the failing metrics" || t_fail "qc.json gate reasons"
$SEQA run $args -o $d/c --override-by "tech A" --override-reason "validation run" 2>/dev/null; rc=$?
t_check "override recorded -> exit 0" [ $rc -eq 0 ]
grep -q "\"by\": \"tech A\"" $d/c/qc.json && t_ok "override in qc.json" || t_fail "override in qc.json"

# bad inputs: clear message, right exit code, nothing that looks complete
$SEQA run $args -o $d/e -r $d/nope.fa 2>$d/e.log; rc=$?
t_check "missing reference: exit 4" [ $rc -eq 4 ]
cp $d/ref.fa $d/noindex.fa
$SEQA run -r $d/noindex.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 --indication RD-BONE -o $d/f 2>$d/f.log; rc=$?
t_check "unindexed reference: non-zero exit" [ $rc -ne 0 ]
grep -qi "seqa index" $d/f.log && t_ok "unindexed reference: message says to run seqa index" || t_fail "index hint: $(cat $d/f.log | head -3)"
[ ! -e $d/f/S1.bam ] && t_ok "unindexed reference: no BAM" || t_fail "unindexed reference left a BAM"
gzip -dc $d/S_R1.fq.gz | head -c 200000 | gzip -c | head -c 30000 > $d/cut_R1.fq.gz
$SEQA run -r $d/ref.fa -1 $d/cut_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 --indication RD-BONE -o $d/g 2>$d/g.log; rc=$?
t_check "truncated gzip: exit 3" [ $rc -eq 3 ]
[ ! -e $d/g/S1.bam ] && [ ! -e $d/g/ingest.json ] && t_ok "truncated gzip: nothing aligned" || t_fail "truncated gzip left outputs"
$SEQA run -r $d/ref.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 --indication NOPE -o $d/h 2>$d/h.log; rc=$?
t_check "unknown indication: exit 3" [ $rc -eq 3 ]
grep -q "unknown clinical indication" $d/h.log && t_ok "unknown indication message" || t_fail "unknown indication message"
t_done
