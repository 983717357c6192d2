#!/bin/sh
# SECURITY.md §5: the lab Sample_ID never appears in a log or a delivered file; only the
# pseudonym does.  Runs `seqa run` with lab ids that also name the FASTQ files (as an Illumina
# run folder does), in single-sample and batch mode, human and JSON logs at debug level, a resumed
# rerun, a failed QC gate and a delivery to the outbox, then greps for the lab ids:
#   - stderr (human and JSON lines), the --json results, run.json (the run log)
#   - the delivered files: VCF, gVCF (header and sample column), qc.json, qc.html, MultiQC files,
#     and in the outbox spool the manifest plus every Crypt4GH file once decrypted
#   - folder names chosen by seqa (batch mode: OUTDIR/<pseudonym>/)
# Local-only files keep the link by design (ingest.json, provenance.json, stage records, the
# BAM's @RG ID and the output file names in the run folder): the test checks that ingest.json
# does hold the lab id, so that the grep is shown to find it where it is.
. tests/lib.sh
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if [ ! -r "$src" ]; then t_skip "run_privacy: $src absent"; t_done; exit 0; fi
d=$(t_tmp ${PRIV_TMP:-run_privacy.$$})   # per process (concurrent runs); removed on success
samtools faidx "$src" 17:420001-450000 | sed '1s/.*/>chr17s/' > $d/ref.fa
$SEQA index $d/ref.fa 2>/dev/null && $SEQA simulate -r $d/ref.fa -o $d/S -c 5 -s 3 2>/dev/null \
	&& $SEQA outbox keygen --sign $d/p.sk $d/p.pk 2>/dev/null && $SEQA outbox keygen --c4gh $d/c.sk $d/c.pk 2>/dev/null \
	|| { t_fail "run_privacy: test data"; t_done; exit 1; }
L1=LABX7Q31 L2=LABX7Q32 L3=LABX7Q33
for l in $L1 $L2 $L3; do cp $d/S_R1.fq.gz $d/${l}_R1.fq.gz; cp $d/S_R2.fq.gz $d/${l}_R2.fq.gz; done
prof=scripts/demo-qc-profile.json

# leaks WHAT FILE...: the files (zcat'ed when gzip/BGZF) that contain a lab id, on stdout
leaks() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		case "$f" in *.gz|*.tbi) zcat "$f" 2>/dev/null;; *) cat "$f";; esac | grep -a -q -E "$L1|$L2|$L3" && echo "$f"
	done
}
check() {   # check NAME FILE...: ok if no file has a lab id (and at least one file exists)
	n=$1; shift
	found=; have=
	for f in "$@"; do [ -f "$f" ] && have=1; done
	[ -n "$have" ] || { t_fail "$n: no files to check ($*)"; return; }
	found=$(leaks "$@")
	if [ -z "$found" ]; then t_ok "$n"; else
		t_fail "$n: lab id in $(echo $found)"
		for f in $found; do grep -a -o -E ".{0,60}($L1|$L2|$L3).{0,40}" "$f" 2>/dev/null | head -2 | sed 's/^/#   /'; done
	fi
}

# 1. single sample, JSON logs at debug level, delivery queued
o=$d/single
$SEQA --log-json --log-level debug run -r $d/ref.fa -1 $d/${L1}_R1.fq.gz -2 $d/${L1}_R2.fq.gz --sample $L1 --pseudonym PSN-0001 \
	--indication RD-BONE --sex female --qc-profile $prof -o $o --outbox $d/ob/ob.db --platform P1 --sign-key $d/p.sk \
	--cad-key $d/c.pk --json >$d/single.out 2>$d/single.err; rc=$?
t_check "single-sample run with delivery exits 0 ($rc)" [ $rc -eq 0 ]
check "single run: JSON-lines stderr (debug) and --json results" $d/single.err $d/single.out
check "single run: run.json (run log)" $o/run.json
check "single run: delivered files in the run folder (VCF, gVCF, qc.json, qc.html, MultiQC)" \
	$o/$L1.vcf.gz $o/$L1.g.vcf.gz $o/qc.json $o/qc.html $o/*mqc.json
t_check "VCF sample column is the pseudonym" [ "$(bcftools query -l $o/$L1.vcf.gz 2>/dev/null)" = PSN-0001 ]
t_check "gVCF sample column is the pseudonym" [ "$(bcftools query -l $o/$L1.g.vcf.gz 2>/dev/null)" = PSN-0001 ]
grep -q "{sample}" $o/run.json && t_ok "run.json command line shows {sample} where the lab id stood" || t_fail "run.json command: $(grep -o '"command": "[^"]*"' $o/run.json)"
# control: the local link (ingest.json) and the local BAM keep the lab id
[ -n "$(leaks $o/ingest.json)" ] && t_ok "control: ingest.json (local link) holds the lab id, so the grep finds it" \
	|| t_fail "control: lab id not found in ingest.json"
# the outbox: manifest and every encrypted file, decrypted
sp=$(ls -d $d/ob/spool/* 2>/dev/null | head -1)
n_dec=0; bad_dec=0
mkdir -p $d/dec
for f in $sp/*.c4gh; do
	[ -f "$f" ] || continue
	b=$(basename "$f" .c4gh)
	if $SEQA outbox decrypt --sk $d/c.sk "$f" $d/dec/$b >/dev/null 2>&1; then n_dec=$((n_dec + 1)); else bad_dec=$((bad_dec + 1)); fi
done
t_check "outbox: $n_dec delivered files decrypted (VCF, gVCF, indexes, qc, manifest)" [ $n_dec -ge 6 -a $bad_dec -eq 0 ]
check "outbox: signed manifest and decrypted delivered files" $sp/manifest.json $d/dec/*
id=$($SEQA outbox list -o $d/ob/ob.db --json 2>/dev/null | sed -n 's/.*"id": "\([0-9a-f]\{64\}\)".*/\1/p' | head -1)
$SEQA outbox show -o $d/ob/ob.db $id >$d/show.json 2>&1
check "outbox show/list" $d/show.json

# 2. resumed rerun (every stage skipped), human logs at debug level
$SEQA --log-level debug run -r $d/ref.fa -1 $d/${L1}_R1.fq.gz -2 $d/${L1}_R2.fq.gz --sample $L1 --pseudonym PSN-0001 \
	--indication RD-BONE --sex female --qc-profile $prof -o $o 2>$d/rerun.err; rc=$?
t_check "rerun exits 0 ($rc)" [ $rc -eq 0 ]
check "rerun: human stderr (debug) and run.json" $d/rerun.err $o/run.json

# 3. failed QC gate (the indication's human profile on 5x of 30 kb): exit 7, warning names the pseudonym
$SEQA run -r $d/ref.fa -1 $d/${L2}_R1.fq.gz -2 $d/${L2}_R2.fq.gz --sample $L2 --pseudonym PSN-0002 \
	--indication RD-BONE --sex female -o $d/gate 2>$d/gate.err; rc=$?
t_check "gate FAIL run exits 7 ($rc)" [ $rc -eq 7 ]
grep -q "PSN-0002" $d/gate.err && t_ok "gate FAIL warning names the pseudonym" || t_fail "gate FAIL warning: $(grep -i fail $d/gate.err | head -2)"
check "gate FAIL run: stderr, run.json, qc.json, qc.html" $d/gate.err $d/gate/run.json $d/gate/qc.json $d/gate/qc.html

# 4. batch mode: two samples, folders named by the pseudonyms
printf '{"samples":[{"id":"%s","pseudonym":"PSN-0002","indication":"RD-BONE","sex":"female","r1":"%s_R1.fq.gz","r2":"%s_R2.fq.gz"},{"id":"%s","pseudonym":"PSN-0003","indication":"RD-BONE","sex":"male","r1":"%s_R1.fq.gz","r2":"%s_R2.fq.gz"}]}' \
	$L2 $L2 $L2 $L3 $L3 $L3 > $d/batch.json
$SEQA --log-json run -r $d/ref.fa --sample-sheet $d/batch.json --qc-profile $prof -o $d/batch --json >$d/batch.out 2>$d/batch.err; rc=$?
t_check "batch run exits 0 ($rc)" [ $rc -eq 0 ]
t_check "batch: one folder per pseudonym (PSN-0002, PSN-0003)" [ -f $d/batch/PSN-0002/qc.json -a -f $d/batch/PSN-0003/qc.json ]
t_check "batch: no folder named by a lab id" [ ! -e $d/batch/$L2 -a ! -e $d/batch/$L3 ]
check "batch: stderr and --json results" $d/batch.err $d/batch.out
check "batch: run.json, qc.json, qc.html, VCF, gVCF of both samples" $d/batch/PSN-000*/run.json $d/batch/PSN-000*/qc.* \
	$d/batch/PSN-000*/*.vcf.gz
[ "$_f" -eq 0 ] && [ -z "$PRIV_TMP" ] && rm -rf "$d"
t_done
