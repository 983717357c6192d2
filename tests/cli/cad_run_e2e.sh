#!/bin/sh
# The acceptance path end to end: `seqa run` on a simulated sample (real human chr17 slice)
# queues its results (`--outbox`), `seqa push` delivers them to a real seqa-inbox on 127.0.0.1
# (fresh CA and keys), the receipt is stored, and the inbox's copies of the VCF, gVCF, QC and
# manifest decrypt to files identical to the run folder's.  A rerun queues nothing new.
. tests/lib.sh
. tests/cli/cad_common.inc
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if ! cad_have_tools || [ ! -r "$src" ]; then t_skip "cad_run_e2e: needs openssl, bcftools, samtools, ./seqa-inbox, ../shared/data"; t_done; exit; fi
if ! $SEQA run --help 2>/dev/null | grep -q -- '--outbox'; then t_skip "cad_run_e2e: this seqa run has no --outbox"; t_done; exit; fi
T=$(t_tmp cad_run_e2e.$$)   # per process: concurrent test runs must not share it
P=$T/pki
cad_pki $P || { t_fail "test PKI"; t_done; exit 1; }
samtools faidx "$src" 17:300001-400000 | sed '1s/.*/>chr17s/' > $T/ref.fa
$SEQA index $T/ref.fa 2>/dev/null || { t_fail "index"; t_done; exit 1; }
$SEQA simulate -r $T/ref.fa -o $T/S -c 20 -s 11 --snp-rate 0.002 --indel-rate 0.0004 2>/dev/null || { t_fail "simulate"; t_done; exit 1; }
run() {
	$SEQA run -r $T/ref.fa -1 $T/S_R1.fq.gz -2 $T/S_R2.fq.gz --sample S1 --pseudonym PSN-1 --indication RD-BONE --sex female \
		--qc-profile scripts/demo-qc-profile.json -o $T/a -t 2 --outbox $T/ob.db --platform plat1 \
		--sign-key $P/plat1.sign --cad-key $P/cad.c4gh.pub 2>>$T/run.log
}
run; rc=$?
t_check "seqa run --outbox exits 0" [ $rc -eq 0 ]
n=$($SEQA outbox list -o $T/ob.db --json | grep -c '"state": "queued"')
t_check "one delivery queued by seqa run" [ "$n" -eq 1 ]
id=$($SEQA outbox list -o $T/ob.db --json | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -1)
inbox_start $T/inbox $P || { t_fail "inbox start"; t_done; exit 1; }
trap 'inbox_stop' EXIT
$SEQA push -o $T/ob.db $(push_opts $P) 2>$T/push.err; rc=$?
t_check "seqa push exits 0" [ $rc -eq 0 ]
$SEQA outbox show -o $T/ob.db $id > $T/show.json
grep -q '"state": "delivered"' $T/show.json && grep -q '"receipt:signature"' $T/show.json \
	&& t_ok "delivered, signed receipt stored" || t_fail "delivered: $(tail -3 $T/push.err)"
S=$T/inbox/store/$id
ok=1
for pair in "PSN-1.vcf.gz S1.vcf.gz" "PSN-1.vcf.gz.tbi S1.vcf.gz.tbi" "PSN-1.g.vcf.gz S1.g.vcf.gz" "qc.json qc.json" "qc.html qc.html"; do
	set -- $pair
	$SEQA outbox decrypt --sk $P/cad.c4gh $S/$1.c4gh $T/dec.$1 >/dev/null 2>&1 && cmp -s $T/dec.$1 $T/a/$2 || { ok=0; echo "differs: $1"; }
done
t_check "inbox copies of VCF, index, gVCF, qc.json, qc.html decrypt identical to the run folder's" [ $ok -eq 1 ]
$SEQA outbox decrypt --sk $P/cad.c4gh $S/manifest.json.c4gh $T/dec.manifest.json >/dev/null 2>&1 && cmp -s $T/dec.manifest.json $T/spool/$id/manifest.json \
	&& t_ok "the inbox's manifest decrypts identical to the signed one in the outbox" || t_fail "manifest copy"
grep -q '"sample_id": "PSN-1"' $S/manifest.json && ! grep -q '"S1\.' $S/manifest.json && t_ok "manifest names the pseudonym only" || t_fail "pseudonym in manifest"
grep -q '"md5"' $S/manifest.json && grep -q '"indication": "RD-BONE"' $S/manifest.json && t_ok "manifest: contig MD5s, indication" || t_fail "manifest content"
grep -q "$(sha256sum $T/S_R1.fq.gz | cut -c1-64)" $S/manifest.json && grep -q "$(sha256sum $T/S_R2.fq.gz | cut -c1-64)" $S/manifest.json \
	&& t_ok "manifest: SHA-256 of both input FASTQ files" || t_fail "manifest input SHA-256"
if command -v crypt4gh >/dev/null 2>&1; then   # the GA4GH reference implementation (PyPI)
	crypt4gh decrypt --sk $P/cad.c4gh < $S/PSN-1.vcf.gz.c4gh > $T/pydec.vcf.gz 2>/dev/null && cmp -s $T/pydec.vcf.gz $T/a/S1.vcf.gz \
		&& t_ok "the inbox's VCF decrypts with PyPI crypt4gh to the run's file" || t_fail "PyPI crypt4gh decryption of the inbox copy"
else
	t_skip "crypt4gh (PyPI) not installed: reference-tool decryption of the inbox copy not checked"
fi
$SEQA verify --platform-key $P/platform-keys/plat1.pub --sk $P/cad.c4gh --receipt-key $P/cad.sign.pub $S >/dev/null 2>&1 \
	&& t_ok "seqa verify of the inbox copy" || t_fail "seqa verify"
# a rerun of the same sample queues nothing new, and nothing is delivered twice
run
$SEQA push -o $T/ob.db $(push_opts $P) 2>/dev/null
n=$($SEQA outbox list -o $T/ob.db --json | grep -c '"id"')
ni=$($INBOX list --dir $T/inbox | grep -c '"delivery_id"')
t_check "rerun: still one delivery in the outbox ($n) and at the inbox ($ni)" [ "$n" -eq 1 ] && [ "$ni" -eq 1 ]
inbox_stop; [ $_f -eq 0 ] && [ -z "${SEQA_KEEP_OUT:-}" ] && rm -rf "$T"   # kept when something failed
t_done
