#!/bin/sh
# End to end, as the appliance runs it: `seqa run` on a simulated sample queues its results
# (QC passed) -> `seqa push` delivers them to a real seqa-inbox on 127.0.0.1 (mutual TLS, fresh
# CA per run) -> the signed receipt is stored; the inbox's copies decrypt to the run's files;
# the manifest carries the provenance (pseudonym, indication, input SHA-256, QC gate).  A sample
# whose gate fails is held: nothing is queued.
. tests/lib.sh
. tests/cli/cad_common.inc
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if ! cad_have_tools || [ ! -r "$src" ]; then t_skip "run_deliver: needs openssl, bcftools, ./seqa-inbox and ../shared/data"; t_done; exit 0; fi
T=$(t_tmp run_deliver)
cad_pki $T/pki || { t_fail "test PKI"; t_done; exit 1; }
cp "$src" $T/chr17.fa && samtools faidx $T/chr17.fa 17:600001-700000 | sed '1s/.*/>chr17t/' > $T/ref.fa
$SEQA index $T/ref.fa 2>/dev/null && $SEQA simulate -r $T/ref.fa -o $T/S -c 15 -s 9 2>/dev/null || { t_fail "index/simulate"; t_done; exit 1; }
dl="--outbox $T/ob/outbox.db --platform plat1 --sign-key $T/pki/plat1.sign --cad-key $T/pki/cad.c4gh.pub"
args="-r $T/ref.fa -1 $T/S_R1.fq.gz -2 $T/S_R2.fq.gz --sample S9 --pseudonym PSN-9 --indication RD-MITO --sex male"

$SEQA run $args --qc-profile scripts/demo-qc-profile.json -o $T/run $dl --json > $T/run.json 2>$T/run.log; rc=$?
t_check "seqa run with delivery exits 0" [ $rc -eq 0 ]
id=$(sed -n 's/.*"delivery_id": "\([0-9a-f]*\)".*/\1/p' $T/run.json)
t_check "run reports a delivery id" [ ${#id} -eq 64 ]
$SEQA outbox list -o $T/ob/outbox.db --json | grep -q '"state": "queued"' && t_ok "outbox: queued by the run" || t_fail "outbox state"

# a rerun does not queue twice
$SEQA run $args --qc-profile scripts/demo-qc-profile.json -o $T/run $dl 2>/dev/null
n=$($SEQA outbox list -o $T/ob/outbox.db --json | grep -c '"id"')
t_check "rerun: still one outbox entry ($n)" [ "$n" -eq 1 ]

inbox_start $T/inbox $T/pki || { t_fail "inbox start: $(tail -3 $T/inbox.log)"; t_done; exit 1; }
trap 'inbox_stop' EXIT
$SEQA push -o $T/ob/outbox.db $(push_opts $T/pki) 2>$T/push.err; rc=$?
t_check "push exits 0" [ $rc -eq 0 ]
$SEQA outbox show -o $T/ob/outbox.db $id > $T/show.json
grep -q '"state": "delivered"' $T/show.json && t_ok "delivered" || t_fail "delivered: $(tail -3 $T/push.err)"
grep -q '"receipt:signature"' $T/show.json && t_ok "signed receipt stored" || t_fail "receipt stored"
S=$T/inbox/store/$id
$SEQA verify --platform-key $T/pki/platform-keys/plat1.pub --sk $T/pki/cad.c4gh --receipt-key $T/pki/cad.sign.pub $S >$T/verify.out 2>&1 \
	&& t_ok "seqa verify of the inbox copy" || t_fail "seqa verify: $(tail -3 $T/verify.out)"
if command -v crypt4gh >/dev/null 2>&1; then
	ok=1
	for f in PSN-9.vcf.gz PSN-9.g.vcf.gz qc.json; do
		src_f=$T/run/$(echo $f | sed 's/^PSN-9/S9/')
		[ -f $S/$f.c4gh ] || { ok=0; echo "missing $f.c4gh"; continue; }
		crypt4gh decrypt --sk $T/pki/cad.c4gh < $S/$f.c4gh > $T/dec 2>/dev/null && cmp -s $T/dec $src_f || { ok=0; echo "differs: $f"; }
	done
	t_check "inbox copies (VCF, gVCF, qc.json) decrypt (PyPI crypt4gh) to the run's files" [ $ok -eq 1 ]
else
	t_skip "crypt4gh (PyPI) not installed: the reference tool's decryption not checked (seqa verify did decrypt)"
fi
m=$S/manifest.json
grep -q 'PSN-9' $m && grep -q 'RD-MITO' $m && grep -q "$(sha256sum $T/S_R1.fq.gz | cut -c1-64)" $m \
	&& t_ok "manifest: pseudonym, indication, input SHA-256" || t_fail "manifest provenance content"
grep -q '"S9"' $m && t_fail "manifest leaks the lab sample id" || t_ok "manifest uses the pseudonym only"

# a failed gate holds the sample: nothing queued
$SEQA run $args -o $T/run2 $dl 2>$T/run2.log; rc=$?
t_check "human gate on a 100 kb slice: exit 7" [ $rc -eq 7 ]
grep -q 'NOT queued' $T/run2.log && t_ok "held: log says not queued" || t_fail "held message"
n=$($SEQA outbox list -o $T/ob/outbox.db --json | grep -c '"id"')
t_check "held sample not in the outbox" [ "$n" -eq 1 ]
t_done
