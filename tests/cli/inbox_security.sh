#!/bin/sh
# seqa-inbox security: wrong/missing/expired client certificates, TLS 1.1 and non-AEAD suites,
# a tampered manifest, truncated and bit-flipped uploads, oversize uploads, path-traversal
# names: each is rejected with a clear log line, and nothing is ever committed.
. tests/lib.sh
. tests/cli/cad_common.inc
if ! cad_have_tools || ! command -v curl >/dev/null; then t_skip "inbox_security: needs openssl, curl, bcftools, ./seqa-inbox, ../shared/data"; t_done; exit; fi
T=$(t_tmp inbox_security.$$)   # per process: concurrent test runs must not share it
P=$T/pki
cad_pki $P || { t_fail "test PKI"; t_done; exit 1; }
make_run $T/run S001 || { t_fail "run folder"; t_done; exit 1; }
inbox_start $T/inbox $P --max-file-size 1M || { t_fail "inbox start"; t_done; exit 1; }
trap 'inbox_stop' EXIT
LOG=$T/inbox.log
# log_has PATTERN: the inbox logged it since the mark
mark() { M=$(wc -l < $LOG); }
logged() { sleep 0.2; tail -n +$((M + 1)) $LOG | grep -q "$1"; }
hc() { curl -s -o $T/body -w '%{http_code}' --cacert $P/ca.pem "$@"; }   # HTTP code
mtls() { hc --cert $P/plat1.pem --key $P/plat1.key "$@"; }
b64() { printf '%s' "$1" | base64 -w0; }
ID=$(printf 'x' | sha256sum | cut -c1-64)
SHA=$(printf 'y' | sha256sum | cut -c1-64)

# --- client certificates ---
mark; code=$(hc $URL/v1/deliveries)
[ "$code" = 403 ] && logged "no client certificate presented" && t_ok "missing client certificate: 403 + log" || t_fail "missing cert: $code"
mark; code=$(hc --cert $P/rogue.pem --key $P/rogue.key $URL/v1/deliveries)
[ "$code" = 403 ] && logged "not issued by the CAD's CA" && t_ok "certificate from another CA: 403 + log" || t_fail "wrong CA: $code"
mark; code=$(hc --cert $P/expired.pem --key $P/expired.key $URL/v1/deliveries)
[ "$code" = 403 ] && logged "client certificate expired" && t_ok "expired certificate: 403 + log" || t_fail "expired: $code"
code=$(mtls $URL/v1/deliveries)
t_check "valid certificate: 200" [ "$code" = 200 ]

# --- protocol versions and suites ---
mark
echo | openssl s_client -connect 127.0.0.1:$PORT -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -cert $P/plat1.pem -key $P/plat1.key >$T/tls11.out 2>&1; rc=$?
[ $rc -ne 0 ] && ! grep -q "Cipher is ECDHE" $T/tls11.out && logged "TLS handshake failed" && t_ok "TLS 1.1 refused + log" || t_fail "TLS 1.1: rc=$rc"
mark
echo | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -cipher 'AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA' -cert $P/plat1.pem -key $P/plat1.key >$T/cbc.out 2>&1; rc=$?
[ $rc -ne 0 ] && logged "TLS handshake failed" && t_ok "TLS 1.2 with a CBC (non-AEAD) suite refused + log" || t_fail "CBC suite: rc=$rc"
echo | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -cert $P/plat1.pem -key $P/plat1.key -CAfile $P/ca.pem >$T/t12.out 2>&1
grep -q "ECDHE-ECDSA-AES256-GCM-SHA384\|ECDHE-ECDSA-CHACHA20\|ECDHE-ECDSA-AES128-GCM" $T/t12.out && t_ok "TLS 1.2 negotiates an ECDHE AEAD suite" || t_fail "TLS 1.2 suite: $(grep -i cipher $T/t12.out | head -2)"

# --- names, sizes, bodies (a client with a valid certificate misbehaving) ---
mark; code=$(mtls -X POST -H "Upload-Length: 10" -H "Upload-Metadata: delivery $(b64 $ID),filename $(b64 ../../etc/evil.c4gh),sha256 $(b64 $SHA)" $URL/v1/uploads)
[ "$code" = 400 ] && logged "unsafe or invalid file name" && t_ok "path traversal file name: 400 + log" || t_fail "traversal: $code"
code=$(mtls -X POST -H "Upload-Length: 10" -H "Upload-Metadata: delivery $(b64 $ID),filename $(b64 sub/x.c4gh),sha256 $(b64 $SHA)" $URL/v1/uploads)
t_check "file name with a slash: 400" [ "$code" = 400 ]
code=$(mtls -X POST -H "Upload-Length: 10" -H "Upload-Metadata: delivery $(b64 ../../x),filename $(b64 a.c4gh),sha256 $(b64 $SHA)" $URL/v1/uploads)
t_check "delivery id not hex: 400" [ "$code" = 400 ]
code=$(mtls -X PATCH -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: 0" --data-binary x "$URL/v1/uploads/..%2F..%2Finbox.db")
t_check "PATCH to a non-id upload path: 404" [ "$code" = 404 ]
[ ! -e $T/evil.c4gh ] && [ ! -e $T/etc ] && ! find $T -name 'evil*' | grep -q . && t_ok "no file created from a client name" || t_fail "a client name reached the filesystem"
mark; code=$(mtls -X POST -H "Upload-Length: 2000000" -H "Upload-Metadata: delivery $(b64 $ID),filename $(b64 big.c4gh),sha256 $(b64 $SHA)" $URL/v1/uploads)
[ "$code" = 413 ] && logged "exceeds the limit" && t_ok "oversize upload (2 MB > 1 MiB limit): 413 + log" || t_fail "oversize: $code"
code=$(mtls -D $T/hdr -X POST -H "Upload-Length: 100" -H "Upload-Metadata: delivery $(b64 $ID),filename $(b64 small.c4gh),sha256 $(b64 $SHA)" $URL/v1/uploads)
loc=$(grep -i '^Location:' $T/hdr | tr -d '\r' | awk '{print $2}')
t_check "create an upload: 201" [ "$code" = 201 ]
head -c 300 /dev/urandom > $T/300.bin
mark; code=$(mtls -X PATCH -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: 0" --data-binary @$T/300.bin "$URL$loc")
[ "$code" = 413 ] && logged "exceed the declared Upload-Length" && t_ok "PATCH beyond Upload-Length: 413 + log" || t_fail "PATCH beyond length: $code"
head -c 60 /dev/urandom > $T/60.bin
code=$(mtls -X PATCH -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: 0" --data-binary @$T/60.bin "$URL$loc")
t_check "partial PATCH accepted (60 of 100 bytes): 204" [ "$code" = 204 ]
code=$(mtls -X PATCH -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: 10" --data-binary @$T/60.bin "$URL$loc")
t_check "PATCH at a wrong offset: 409" [ "$code" = 409 ]
mark; code=$(mtls -X POST -H "Content-Type: application/json" --data "{\"delivery_id\":\"$ID\"}" "$URL/v1/deliveries/$ID/commit")
[ "$code" = 409 ] && logged "REJECTED commit" && t_ok "commit of a truncated upload (and no manifest): 409 + log" || t_fail "truncated commit: $code $(cat $T/body)"
# a commit while a PATCH of one of its uploads is still arriving (a client holding the body back):
# 409, nothing hashed, dropped or committed (the inbox's streaming state belongs to that PATCH)
mtls -D $T/hdr2 -X POST -H "Upload-Length: 10" -H "Upload-Metadata: delivery $(b64 $ID),filename $(b64 manifest.json.c4gh),sha256 $(b64 $SHA)" $URL/v1/uploads >/dev/null
mloc=$(grep -i '^Location:' $T/hdr2 | tr -d '\r' | awk '{print $2}')
head -c 10 /dev/urandom > $T/10.bin
mtls -X PATCH -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: 0" --data-binary @$T/10.bin "$URL$mloc" >/dev/null
rm -f $T/slow.sent
python3 - "$PORT" "$loc" "$P" "$T/slow.sent" <<'PY' & slow=$!
import socket, ssl, sys, time
port, loc, p, mark = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=p + "/ca.pem")
ctx.load_cert_chain(p + "/plat1.pem", p + "/plat1.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
s.sendall(("PATCH %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
           "Upload-Offset: 60\r\nContent-Length: 40\r\n\r\n" % loc).encode() + b"z" * 10)
open(mark, "w").close()
time.sleep(3)
s.close()
PY
i=0; while [ ! -e $T/slow.sent ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; sleep 0.3
mark; code=$(mtls -X POST -H "Content-Type: application/json" --data "{\"delivery_id\":\"$ID\"}" "$URL/v1/deliveries/$ID/commit")
wait $slow
[ "$code" = 409 ] && logged "PATCH in progress" && [ -s $T/inbox/staging/$(basename $mloc).part ] \
	&& t_ok "commit while a PATCH is still arriving: 409 + log, uploads kept" || t_fail "commit during a PATCH: $code $(cat $T/body)"

# --- real deliveries tampered with on the way (seqa's own uploader) ---
push() { $SEQA push -o $1 $(push_opts $P) --max-attempts 1 2>>$T/push.err; }
enq() { $SEQA outbox enqueue -o $1 --platform plat1 --sign-key $P/plat1.sign --cad-key $P/cad.c4gh.pub $T/run 2>/dev/null; }
# bit flip in an encrypted data file after it was queued (the outbox still holds the true SHA-256)
id=$(enq $T/ob1.db)
f=$T/spool/$id/S001.vcf.gz.c4gh
printf '\377' | dd of=$f bs=1 seek=400 conv=notrunc status=none
mark; push $T/ob1.db
$SEQA outbox show -o $T/ob1.db $id > $T/s1.json
grep -q '"state": "rejected"' $T/s1.json && grep -q 'SHA-256 mismatch' $T/s1.json && logged "SHA-256 mismatch" \
	&& t_ok "bit-flipped upload rejected (reason kept in the outbox) + log" || t_fail "bit flip: $(grep reason $T/s1.json)"
# tampered manifest: edited after signing, re-encrypted for the CAD
rm -rf $T/spool $T/ob2.db
id=$(enq $T/ob2.db)
sed -i 's/"indication": "R134"/"indication": "R999"/' $T/spool/$id/manifest.json
$SEQA outbox encrypt --cad-key $P/cad.c4gh.pub $T/spool/$id/manifest.json $T/spool/$id/manifest.json.c4gh >/dev/null
python3 -c "
import hashlib, sqlite3
p = '$T/spool/$id/manifest.json.c4gh'; b = open(p, 'rb').read(); c = sqlite3.connect('$T/ob2.db')
c.execute('UPDATE cad_files SET size=?, sha256=? WHERE name=?', (len(b), hashlib.sha256(b).hexdigest(), 'manifest.json.c4gh')); c.commit()"
mark; push $T/ob2.db
$SEQA outbox show -o $T/ob2.db $id > $T/s2.json
grep -q '"state": "rejected"' $T/s2.json && grep -q 'signature invalid' $T/s2.json && logged "manifest signature invalid" \
	&& t_ok "tampered manifest rejected + log" || t_fail "tampered manifest: $(grep reason $T/s2.json)"
# a delivery pushed with the expired / rogue certificates is rejected by the inbox, not retried forever
rm -rf $T/spool $T/ob3.db; id=$(enq $T/ob3.db)
$SEQA push -o $T/ob3.db --url $URL --ca $P/ca.pem --cert $P/expired.pem --key $P/expired.key --receipt-key $P/cad.sign.pub 2>>$T/push.err
$SEQA outbox show -o $T/ob3.db $id | grep -q '"state": "rejected"' && t_ok "seqa push with an expired certificate: delivery rejected (HTTP 403)" || t_fail "push expired cert"
# seqa push refuses an inbox whose certificate is not from the configured CA
$SEQA outbox retry -o $T/ob3.db 2>/dev/null
$SEQA push -o $T/ob3.db --url $URL --ca $P/bad-ca.pem --cert $P/plat1.pem --key $P/plat1.key --receipt-key $P/cad.sign.pub 2>$T/push4.err; rc=$?
[ $rc -eq 8 ] && grep -qi "certificate" $T/push4.err && t_ok "seqa push does not trust an inbox outside the CAD's CA (exit 8)" || t_fail "server cert check: rc=$rc"

# --- the client side: seqa push will not talk to a server offering TLS 1.1 or a non-AEAD suite ---
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for mode in "-tls1_1 -cipher DEFAULT:@SECLEVEL=0" "-tls1_2 -cipher AES128-SHA:ECDHE-ECDSA-AES128-SHA"; do
	openssl s_server -accept 127.0.0.1:$sport -cert $P/server.pem -key $P/server.key $mode -www >$T/weak.log 2>&1 & wp=$!
	sleep 0.5
	$SEQA outbox retry -o $T/ob3.db 2>/dev/null
	$SEQA push -o $T/ob3.db --url https://127.0.0.1:$sport --ca $P/ca.pem --cert $P/plat1.pem --key $P/plat1.key --receipt-key $P/cad.sign.pub 2>$T/weak.err; rc=$?
	kill $wp 2>/dev/null; wait $wp 2>/dev/null
	[ $rc -eq 8 ] && grep -qi "ssl\|tls\|handshake" $T/weak.err && t_ok "seqa push refuses a server with ${mode%% *} ${mode#* -cipher }" || t_fail "weak server ($mode): rc=$rc"
done
$SEQA outbox retry -o $T/ob3.db 2>/dev/null

# --- rate limit: a second inbox allowing 1 request/s (burst 2) ---
inbox_stop
inbox_start $T/inbox2 $P --rate 1 || t_fail "second inbox"
codes=""; for i in 1 2 3 4 5 6; do codes="$codes $(mtls $URL/v1/deliveries)"; done
M=0; LOG=$T/inbox2.log
echo "$codes" | grep -q 429 && logged "rate limit" && t_ok "rate limit: 429 + log (codes:$codes)" || t_fail "rate limit: codes$codes"
inbox_stop

# --- abandoned uploads are removed at start-up after --staging-ttl days (0 here: all of them) ---
np=$(ls $T/inbox/staging | grep -c '\.part$')
inbox_start $T/inbox $P --staging-ttl 0 || t_fail "inbox restart"
inbox_stop
left=$(ls $T/inbox/staging | grep -c '\.part$')
[ "$np" -gt 0 ] && [ "$left" -eq 0 ] && grep -q "removed [0-9]* upload(s) left uncommitted" $T/inbox.log \
	&& t_ok "abandoned uploads removed at start-up ($np staging files)" || t_fail "staging TTL: $np -> $left"

# --- nothing was committed by any of this ---
n=$(ls $T/inbox/store | wc -l)
t_check "nothing committed (store empty)" [ "$n" -eq 0 ]
$INBOX list --dir $T/inbox | grep -q delivery_id && t_fail "inbox lists a delivery" || t_ok "inbox lists no delivery"
inbox_stop; [ $_f -eq 0 ] && [ -z "${SEQA_KEEP_OUT:-}" ] && rm -rf "$T"   # kept when something failed
t_done
