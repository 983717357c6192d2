#!/bin/sh
# Delivery end to end against a real seqa-inbox on 127.0.0.1 (fresh CA and keys per run):
# enqueue a run folder (real VCF, gVCF, index, qc.json) -> push -> signed receipt stored;
# the inbox copy decrypts (with the PyPI crypt4gh tool) to files identical to the originals;
# offline `seqa verify`; re-sending creates nothing new; files encrypted by crypt4gh are accepted.
. tests/lib.sh
. tests/cli/cad_common.inc
if ! cad_have_tools; then t_skip "cad_e2e: needs openssl, bcftools, ./seqa-inbox and ../shared/data"; t_done; exit; fi
T=$(t_tmp cad_e2e.$$)   # per process: concurrent test runs must not share it
cad_pki $T/pki || { t_fail "test PKI"; t_done; exit 1; }
make_run $T/run S001 || { t_fail "make run folder with bcftools"; t_done; exit 1; }
inbox_start $T/inbox $T/pki && t_ok "inbox listening on 127.0.0.1:$PORT" || { t_fail "inbox start: $(tail -3 $T/inbox.log)"; t_done; exit 1; }
trap 'inbox_stop' EXIT

OB=$T/ob.db
id=$($SEQA outbox enqueue -o $OB --platform plat1 --sign-key $T/pki/plat1.sign --cad-key $T/pki/cad.c4gh.pub $T/run 2>$T/enq.err)
t_check "enqueue prints a delivery id" [ ${#id} -eq 64 ]
$SEQA outbox list -o $OB --json | grep -q '"state": "queued"' && t_ok "outbox: queued" || t_fail "outbox: queued"
# one drainer at a time: while another process holds the outbox's drain lock, push does nothing
exec 9>$OB.push.lock
flock 9
$SEQA push -o $OB $(push_opts $T/pki) 2>$T/push0.err
grep -q "another seqa push is draining" $T/push0.err && $SEQA outbox list -o $OB --json | grep -q '"state": "queued"' \
	&& t_ok "a second concurrent push leaves the outbox alone" || t_fail "concurrent push"
exec 9>&-
$SEQA push -o $OB $(push_opts $T/pki) 2>$T/push1.err; rc=$?
t_check "push exits 0" [ $rc -eq 0 ]
$SEQA outbox show -o $OB $id > $T/show.json
grep -q '"state": "delivered"' $T/show.json && t_ok "outbox: delivered" || t_fail "outbox: delivered ($(cat $T/push1.err | tail -3))"
grep -q '"receipt:signature"' $T/show.json && t_ok "signed receipt stored in the outbox" || t_fail "receipt stored"

# the inbox's copy: listed once, verifies, decrypts to the originals
$INBOX list --dir $T/inbox > $T/list.json
n=$(grep -c '"delivery_id"' $T/list.json)
t_check "inbox lists one delivery" [ "$n" -eq 1 ]
grep -q "\"delivery_id\": \"$id\"" $T/list.json && t_ok "inbox lists the delivery id" || t_fail "inbox delivery id"
S=$T/inbox/store/$id
ok=1; nf=0
for f in S001.vcf.gz S001.vcf.gz.tbi S001.g.vcf.gz qc.json; do
	nf=$((nf + 1))
	if command -v crypt4gh >/dev/null 2>&1; then
		crypt4gh decrypt --sk $T/pki/cad.c4gh < $S/$f.c4gh > $T/dec.$f 2>/dev/null || ok=0
	else
		python3 -c 1 2>/dev/null; ok=0
	fi
	cmp -s $T/dec.$f $T/run/$f || ok=0
done
if command -v crypt4gh >/dev/null 2>&1; then
	t_check "inbox copies of $nf files decrypt (PyPI crypt4gh) identical to the originals" [ $ok -eq 1 ]
else
	t_skip "crypt4gh (PyPI) not installed: decryption by the reference tool not checked"
fi
$SEQA verify --platform-key $T/pki/platform-keys/plat1.pub --sk $T/pki/cad.c4gh --receipt-key $T/pki/cad.sign.pub $S >$T/verify.out 2>&1 \
	&& t_ok "seqa verify of the inbox copy (signature, hashes, plaintext, receipt)" || t_fail "seqa verify: $(tail -3 $T/verify.out)"
$SEQA verify --platform-key $T/pki/platform-keys/plat2.pub $S >/dev/null 2>&1; rc=$?
t_check "seqa verify with another platform's key fails (exit 3)" [ $rc -eq 3 ]
grep -q '"indication": "R134"' $S/manifest.json && grep -q '"run_id": "RUN1"' $S/manifest.json && grep -q '"decision": "pass"' $S/manifest.json \
	&& t_ok "manifest carries indication, run, QC decision" || t_fail "manifest content"

# re-sending: same outbox -> nothing to do; a fresh outbox (lost state) -> the existing receipt
printf '{"url":"%s","ca":"%s","cert":"%s","key":"%s","receipt_keys":["%s"]}\n' $URL $T/pki/ca.pem $T/pki/plat1.pem $T/pki/plat1.key $T/pki/cad.sign.pub > $T/cad.json
$SEQA push -o $OB --config $T/cad.json --json 2>/dev/null > $T/push2.json; rc=$?
t_check "second push (--config): nothing to do (exit 0)" [ $rc -eq 0 ]
grep -q '"delivered": 0' $T/push2.json && grep -q '"pending": 0' $T/push2.json && t_ok "push --json counts" || t_fail "push --json: $(cat $T/push2.json)"
id2=$($SEQA outbox enqueue -o $T/ob2.db --platform plat1 --sign-key $T/pki/plat1.sign --cad-key $T/pki/cad.c4gh.pub $T/run 2>/dev/null)
t_check "re-prepared delivery has the same id" [ "$id2" = "$id" ]
$SEQA push -o $T/ob2.db $(push_opts $T/pki) 2>/dev/null
$SEQA outbox show -o $T/ob2.db $id | grep -q '"state": "delivered"' && t_ok "re-sent delivery: receipt returned" || t_fail "re-sent delivery"
n=$($INBOX list --dir $T/inbox | grep -c '"delivery_id"')
t_check "still exactly one delivery at the inbox" [ "$n" -eq 1 ]
grep -q "already committed: returning its receipt" $T/inbox.log && t_ok "inbox logs the de-duplication" || t_fail "dedup log line"

# crypt4gh interop the other way: files encrypted by the PyPI tool are accepted by seqa-inbox
if command -v crypt4gh >/dev/null 2>&1 && python3 -c 'import cryptography' 2>/dev/null; then
	make_run $T/run2 S002 >/dev/null 2>&1
	id3=$($SEQA outbox enqueue -o $T/ob3.db --platform plat1 --sign-key $T/pki/plat1.sign --cad-key $T/pki/cad.c4gh.pub $T/run2 2>/dev/null)
	SP=$T/spool/$id3
	(cd $T/pki && crypt4gh-keygen --sk py.sec --pk py.pub --nocrypt -f >/dev/null 2>&1)
	for f in S002.vcf.gz qc.json; do
		crypt4gh encrypt --sk $T/pki/py.sec --recipient_pk $T/pki/cad.c4gh.pub < $T/run2/$f > $SP/$f.c4gh 2>/dev/null
	done
	# re-sign the manifest for the new encrypted bytes (Ed25519 over RFC 8785 JSON, done here in Python)
	python3 - "$SP" "$T/pki/plat1.sign" "$T/ob3.db" "$id3" <<'EOF'
import base64, hashlib, json, os, sqlite3, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
sp, skf, db, did = sys.argv[1:]
m = json.load(open(os.path.join(sp, "manifest.json")))
for f in m["seqa:delivery"]["files"]:
    p = os.path.join(sp, f["encrypted"]["name"]); b = open(p, "rb").read()
    f["encrypted"]["size"] = len(b); f["encrypted"]["sha256"] = hashlib.sha256(b).hexdigest()
sig = m["seqa:signature"]; del sig["value"]
canon = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
raw = base64.b64decode("".join(l for l in open(skf).read().splitlines() if not l.startswith("-----")))
sig["value"] = base64.b64encode(Ed25519PrivateKey.from_private_bytes(raw[:32]).sign(canon)).decode()
json.dump(m, open(os.path.join(sp, "manifest.json"), "w"), indent=2)
c = sqlite3.connect(db)
for f in m["seqa:delivery"]["files"]:
    c.execute("UPDATE cad_files SET size=?, sha256=? WHERE delivery=? AND name=?", (f["encrypted"]["size"], f["encrypted"]["sha256"], did, f["encrypted"]["name"]))
c.commit()
EOF
	crypt4gh encrypt --sk $T/pki/py.sec --recipient_pk $T/pki/cad.c4gh.pub < $SP/manifest.json > $SP/manifest.json.c4gh 2>/dev/null
	python3 -c "
import hashlib, os, sqlite3, sys
p = '$SP/manifest.json.c4gh'; b = open(p, 'rb').read(); c = sqlite3.connect('$T/ob3.db')
c.execute('UPDATE cad_files SET size=?, sha256=? WHERE delivery=? AND name=?', (len(b), hashlib.sha256(b).hexdigest(), '$id3', 'manifest.json.c4gh')); c.commit()"
	$SEQA push -o $T/ob3.db $(push_opts $T/pki) 2>$T/push3.err
	$SEQA outbox show -o $T/ob3.db $id3 | grep -q '"state": "delivered"' \
		&& t_ok "seqa-inbox accepts a delivery whose files (and manifest) were encrypted by PyPI crypt4gh" \
		|| t_fail "crypt4gh-encrypted delivery: $(grep -i reject $T/inbox.log | tail -2)"
else
	t_skip "PyPI crypt4gh/cryptography not installed: crypt4gh -> seqa-inbox interop not checked"
fi
inbox_stop; [ $_f -eq 0 ] && [ -z "${SEQA_KEEP_OUT:-}" ] && rm -rf "$T"   # kept when something failed
t_done
