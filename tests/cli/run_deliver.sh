#!/bin/sh
# `seqa run` with delivery configured holds a sample whose QC gate fails: exit 7, the log says
# the results are not queued, and the outbox stays empty (nothing can reach the CAD without a
# passed or overridden gate).  The delivered path end to end (queued -> pushed to a real
# seqa-inbox -> receipt -> decrypted copies identical) is tests/cli/cad_run_e2e.sh.
. tests/lib.sh
. tests/cli/cad_common.inc
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if ! cad_have_tools || [ ! -r "$src" ]; then t_skip "run_deliver: needs openssl, bcftools, ./seqa-inbox and ../shared/data"; t_done; exit 0; fi
T=$(t_tmp run_deliver)
cad_pki $T/pki || { t_fail "test PKI"; t_done; exit 1; }
samtools faidx "$src" 17:600001-700000 | sed '1s/.*/>chr17t/' > $T/ref.fa
$SEQA index $T/ref.fa 2>/dev/null && $SEQA simulate -r $T/ref.fa -o $T/S -c 15 -s 9 2>/dev/null || { t_fail "index/simulate"; t_done; exit 1; }
dl="--outbox $T/ob/outbox.db --platform plat1 --sign-key $T/pki/plat1.sign --cad-key $T/pki/cad.c4gh.pub"
args="-r $T/ref.fa -1 $T/S_R1.fq.gz -2 $T/S_R2.fq.gz --sample S9 --pseudonym PSN-9 --indication RD-MITO --sex male"

# the human RD-MITO gate on a 100 kb slice fails (coverage of the genome, chrM, SNV count...)
$SEQA run $args -o $T/run $dl 2>$T/run.log; rc=$?
t_check "human gate on a 100 kb slice: exit 7" [ $rc -eq 7 ]
grep -q 'NOT queued' $T/run.log && t_ok "held: log says not queued" || t_fail "held message: $(tail -3 $T/run.log)"
n=$($SEQA outbox list -o $T/ob/outbox.db --json 2>/dev/null | grep -c '"id"')
t_check "held sample not in the outbox ($n entries)" [ "$n" -eq 0 ]
[ -s $T/run/qc.json ] && grep -q '"FAIL"' $T/run/qc.json && t_ok "qc.json records the failed gate" || t_fail "qc.json gate"
grep -q 'S9' $T/run.log && t_fail "run log names the lab sample id" || t_ok "run log names the pseudonym only"
t_done
