#!/bin/sh
# Exactly-once delivery under faults, against a real seqa-inbox on 127.0.0.1:
#  - the uploader (seqa push) is killed with SIGKILL 20 times: at seeded random fault points
#    (SEQA_FAULT_KILL_AT: after create, mid-PATCH after N bytes, after a PATCH, before commit,
#    between the inbox's commit and the receipt being stored, after storing) and at seeded
#    random times; each time it is simply run again;
#  - the inbox is killed with SIGKILL 10 times (mid-PATCH, after verification, with the commit
#    folder staged, right after the commit rename, and at random times) and restarted;
#  - then the outbox drains: every delivery is delivered exactly once, with matching checksums
#    and receipts, and the inbox holds no leftovers;
#  - an inbox that is down for a while: `seqa push --loop` waits (backoff) and drains after.
# SEQA_TEST_SEED changes the seeded choices (default 7).
. tests/lib.sh
. tests/cli/cad_common.inc
if ! cad_have_tools; then t_skip "cad_faults: needs openssl, bcftools, ./seqa-inbox and ../shared/data"; t_done; exit; fi
SEED=${SEQA_TEST_SEED:-7}
T=$(t_tmp cad_faults.$$)   # per process: concurrent test runs must not share it
P=$T/pki
cad_pki $P || { t_fail "test PKI"; t_done; exit 1; }
make_run $T/run S000 || { t_fail "run folder"; t_done; exit 1; }
head -c 2000000 /dev/urandom > $T/run/qc.html          # a bigger file, so kills land mid-PATCH
inbox_start $T/inbox $P || { t_fail "inbox start"; t_done; exit 1; }
trap 'inbox_stop; [ -n "$LOOP" ] && kill $LOOP 2>/dev/null' EXIT
OB=$T/ob.db
NQ=0
enq() { NQ=$((NQ + 1)); $SEQA outbox enqueue -o $OB --platform plat1 --sign-key $P/plat1.sign --cad-key $P/cad.c4gh.pub \
	--sample S$(printf %03d $NQ) $T/run >/dev/null 2>>$T/enq.err; }
rnd() { awk -v s="$SEED" -v i="$1" -v lo="$2" -v hi="$3" 'BEGIN { srand(s * 1000 + i); printf "%d\n", lo + int(rand() * (hi - lo + 1)) }'; }
push() { $SEQA push -o $OB $(push_opts $P) --backoff 0.05 --backoff-max 0.2 "$@" >>$T/push.log 2>&1; }
# push_bg: the same in the background, with $! the pid of seqa itself (exec), so kill -9 hits it
push_bg() { (exec $SEQA push -o $OB $(push_opts $P) --backoff 0.05 --backoff-max 0.2 >>$T/push.log 2>&1) & }
for i in 1 2 3; do enq; done

# ---- 20 kills of the uploader ----
kills=0; it=0; pts=""
while [ $kills -lt 20 ] && [ $it -lt 60 ]; do
	it=$((it + 1))
	[ $((it % 3)) -eq 0 ] && enq
	case $((it % 7)) in
	0) pt=created:$(rnd $it 1 3) ;;
	1|4) pt=patch-bytes:$(rnd $it 1000 2000000) ;;
	2) pt=patched:$(rnd $it 1 3) ;;
	3) pt=committed:$(rnd $it 1 2) ;;
	5) pt=commit:$(rnd $it 1 2) ;;
	6) pt=random ;;
	esac
	if [ "$pt" = random ]; then
		push_bg; pp=$!
		sleep 0.$(rnd $it 05 30)
		if kill -9 $pp 2>/dev/null; then wait $pp; rc=$?; else wait $pp; rc=0; fi
	else
		SEQA_FAULT_KILL_AT=$pt push; rc=$?
	fi
	[ $rc -eq 137 ] && { kills=$((kills + 1)); pts="$pts $pt"; }
done
t_check "uploader killed 20 times (points:$pts)" [ $kills -ge 20 ]
echo "$pts" | grep -q "patch-bytes" && echo "$pts" | grep -q "committed" && t_ok "kills include mid-PATCH and between commit and receipt" \
	|| t_fail "kill points missing mid-PATCH or commit/receipt"

# ---- 10 kills of the inbox, each followed by a restart ----
ik=0; it=0; ipts=""
while [ $ik -lt 10 ] && [ $it -lt 40 ]; do
	it=$((it + 1))
	[ $((it % 2)) -eq 1 ] && enq
	case $((it % 5)) in
	0) ipt=patch-bytes:$(rnd $((it + 100)) 1000 2000000) ;;
	1) ipt=inbox-verified:1 ;;
	2) ipt=inbox-staged:1 ;;
	3) ipt=inbox-renamed:1 ;;
	4) ipt=random ;;
	esac
	inbox_stop
	if [ "$ipt" = random ]; then
		inbox_start $T/inbox $P
		push_bg; pp=$!
		sleep 0.$(rnd $((it + 200)) 05 30)
		kill -9 $INBOX_PID 2>/dev/null && { wait $INBOX_PID; [ $? -eq 137 ] && { ik=$((ik + 1)); ipts="$ipts random"; }; }
		INBOX_PID=
		wait $pp
	else
		export SEQA_FAULT_KILL_AT=$ipt
		inbox_start $T/inbox $P
		unset SEQA_FAULT_KILL_AT
		push
		sleep 0.1
		if ! kill -0 $INBOX_PID 2>/dev/null; then wait $INBOX_PID; [ $? -eq 137 ] && { ik=$((ik + 1)); ipts="$ipts $ipt"; }; INBOX_PID=; fi
	fi
	inbox_stop
	inbox_start $T/inbox $P
done
t_check "inbox killed 10 times and restarted (points:$ipts)" [ $ik -ge 10 ]

# ---- drain and check: every delivery exactly once, checksums and receipts ----
i=0
while [ $i -lt 30 ]; do
	push --json > $T/last.json 2>/dev/null
	grep -q '"pending": 0' $T/last.json && break
	i=$((i + 1)); sleep 0.2
done
nd=$($SEQA outbox list -o $OB --json | grep -c '"state": "delivered"')
t_check "all $NQ deliveries delivered (got $nd)" [ "$nd" -eq $NQ ]
$INBOX list --dir $T/inbox > $T/list.json
ni=$(grep -c '"delivery_id"' $T/list.json)
dup=$(grep '"delivery_id"' $T/list.json | sort | uniq -d | wc -l)
t_check "inbox holds $NQ deliveries (got $ni), none twice" [ "$ni" -eq $NQ ] && [ "$dup" -eq 0 ]
nstore=$(ls $T/inbox/store | wc -l)
t_check "one store folder per delivery ($nstore)" [ "$nstore" -eq $NQ ]
bad=0
for d in $T/inbox/store/*; do
	$SEQA verify --platform-key $P/platform-keys/plat1.pub --sk $P/cad.c4gh --receipt-key $P/cad.sign.pub $d >/dev/null 2>>$T/verify.err || bad=$((bad + 1))
done
t_check "every stored delivery verifies: signature, encrypted + plaintext SHA-256, receipt ($bad bad)" [ $bad -eq 0 ]
ok=1
for id in $($SEQA outbox list -o $OB --json | grep '"id"' | sed 's/.*"id": "\([0-9a-f]*\)".*/\1/'); do
	$SEQA outbox show -o $OB $id > $T/show.json
	grep -q "\"delivery_id\": \"$id\"" $T/show.json || ok=0
	for f in $(ls $T/inbox/store/$id/*.c4gh 2>/dev/null); do
		grep -q "$(sha256sum $f | cut -c1-64)" $T/show.json || ok=0
	done
done
t_check "each outbox receipt names its delivery and the stored files' SHA-256" [ $ok -eq 1 ]
left=$(ls $T/inbox/staging | grep -c 'commit-')
t_check "no half-made commit left in the inbox" [ "$left" -eq 0 ]
grep -q "rolled back the interrupted commit\|indexing delivery" $T/inbox.log && t_ok "inbox recovered interrupted commits on restart" || t_fail "no recovery logged"

# ---- inbox down for a while: the loop waits, then drains ----
inbox_stop
enq; enq
$SEQA push -o $OB $(push_opts $P) --loop --poll 0.2 --backoff 0.2 --backoff-max 0.5 >$T/loop.log 2>&1 & LOOP=$!
sleep 1.5
nw=$($SEQA outbox list -o $OB --json | grep -c '"state": "delivered"')
grep -q "deferred" $T/loop.log && [ "$nw" -eq $((NQ - 2)) ] && t_ok "inbox down: deliveries wait (deferred with backoff)" || t_fail "inbox down: $nw delivered"
inbox_restart_same_port $T/inbox $P
i=0
while [ $i -lt 50 ]; do
	nd=$($SEQA outbox list -o $OB --json | grep -c '"state": "delivered"')
	[ "$nd" -eq $NQ ] && break
	i=$((i + 1)); sleep 0.2
done
kill $LOOP; wait $LOOP; rc=$?; LOOP=
t_check "inbox back: the loop drained the outbox ($nd of $NQ)" [ "$nd" -eq $NQ ]
t_check "push --loop exits 0 on SIGTERM" [ $rc -eq 0 ]
ni=$($INBOX list --dir $T/inbox | grep -c '"delivery_id"')
t_check "inbox holds each delivery once ($ni)" [ "$ni" -eq $NQ ]
inbox_stop; [ $_f -eq 0 ] && [ -z "${SEQA_KEEP_OUT:-}" ] && rm -rf "$T"   # kept when something failed
t_done
