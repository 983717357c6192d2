#!/bin/sh
# seqa serve against a running daemon on loopback, with a stand-in for `seqa run`
# (tests/data/server/fake_run.sh: same stage records, deterministic outputs, resumable) so that
# the service's own behaviour is tested fast and alone: authentication and roles, submission
# and idempotency, progress to completion, QC, cancellation, kill -9 of the daemon mid-job and
# restart, retry, metrics, structured logs.  The same flow with the real pipeline and a real
# seqa-inbox is tests/cli/serve_e2e.sh.
. tests/lib.sh
. tests/cli/serve_common.inc
D=$(t_tmp serve_api.$$)   # per process: `make test` of other checkouts may run this at the same time
DA=$(cd "$D" && pwd)
RUNNER=$(pwd)/tests/data/server/fake_run.sh
export FAKE_STAGE_SLEEP=0.8
srv_tokens "$D"

# inputs: 3 samples (tiny FASTQ), a reference
mkdir -p "$D/in"
for s in A B C K; do
	printf '@%s/1\nACGTACGTAC\n+\nIIIIIIIIII\n' "$s" > "$D/in/${s}_R1.fq"
	printf '@%s/2\nGTACGTACGT\n+\nIIIIIIIIII\n' "$s" > "$D/in/${s}_R2.fq"
done
printf '>q\nACGTACGTACGTACGT\n' > "$D/in/ref.fa"
cat > "$D/seqa.conf" <<EOF
[server]
listen = 127.0.0.1:0
[paths]
data_dir = $DA/data
allow_inputs = $DA/in
[pipeline]
seqa = $RUNNER
run_args = run -r {reference} -1 {r1} -2 {r2} --sample {sample} -o {outdir} -t {threads} --backend {backend}
reference = $DA/in/ref.fa
threads = 1
cpu_slots = 1
gpus = cuda:0
cancel_grace = 3
$(cat "$D/tokens.conf")
EOF
$SEQA serve --check -c "$D/seqa.conf" >/dev/null 2>&1; t_check "configuration is valid" [ $? -eq 0 ]
srv_start "$D" "$D/seqa.conf" || { t_fail "daemon starts"; t_done; exit 1; }
t_ok "daemon starts on a free loopback port"

# ---- authentication and roles ------------------------------------------------------------
t_check "health needs no token" [ "$(api GET /api/v1/health '')" = 200 ]
t_check "no token: 401" [ "$(api GET /api/v1/jobs '')" = 401 ]
t_check "unknown token: 401" [ "$(api GET /api/v1/jobs 'not-a-token')" = 401 ]
t_check "metrics without token: 401" [ "$(api GET /metrics '')" = 401 ]
BODY='{"samples":[]}'
t_check "submit without token: 401" [ "$(api POST /api/v1/batches '')" = 401 ]
t_check "the stored hash is not a token: 401" [ "$(api GET /api/v1/jobs "$(sed -n 's/^lims = pipeline //p' "$D/tokens.conf")")" = 401 ]
api GET /api/v1/whoami "$TOK_TECH" >/dev/null
t_check "whoami: technician" [ "$(jq -r .role < "$BODY_FILE")" = technician ]

# ---- submit 2 samples ----------------------------------------------------------------------
BODY=$(printf '{"seqa_batch":1,"samples":[{"id":"A","pseudonym":"P-A","indication":"RD-BONE","sex":"F","r1":"%s","r2":"%s"},{"id":"B","r1":"%s","r2":"%s"}]}' \
	"$DA/in/A_R1.fq" "$DA/in/A_R2.fq" "$DA/in/B_R1.fq" "$DA/in/B_R2.fq")
code=$(api POST /api/v1/batches "$TOK_PIPE")
t_check "submit a batch of 2: 201" [ "$code" = 201 ]
B1=$(jq -r .id < "$BODY_FILE")
t_check "2 jobs queued" [ "$(jq '.jobs | length' < "$BODY_FILE")" = 2 ]
code=$(api POST /api/v1/batches "$TOK_PIPE")
[ "$code" = 200 ] && [ "$(jq -r .id < "$BODY_FILE")" = "$B1" ] && [ "$(jq -r .new < "$BODY_FILE")" = false ]; t_check "same batch again: 200, same id, nothing new" [ $? -eq 0 ]
api GET /api/v1/jobs "$TOK_TECH" >/dev/null
t_check "still 2 jobs in total" [ "$(jq '.jobs | length' < "$BODY_FILE")" = 2 ]
BODY=$(printf '{"samples":[{"id":"X","r1":"/etc/passwd","r2":"%s"},{"id":"../evil","r1":"%s","r2":"%s"}]}' "$DA/in/A_R2.fq" "$DA/in/A_R1.fq" "$DA/in/A_R2.fq")
code=$(api POST /api/v1/batches "$TOK_PIPE")
[ "$code" = 422 ] && [ "$(jq '.problems | length' < "$BODY_FILE")" -ge 2 ]; t_check "bad batch (file outside allow_inputs, bad id): 422 with problems" [ $? -eq 0 ]

# follow progress: seen running with a stage and progress between 0 and 100
seen_progress() { api GET "/api/v1/batches/$B1" "$TOK_PIPE" >/dev/null; jq -e '[.jobs[] | select(.state == "running" and .progress > 0 and .progress < 100)] | length > 0' < "$BODY_FILE" >/dev/null; }
wait_until 60 seen_progress; t_check "progress reported while running" [ $? -eq 0 ]
states=$(wait_jobs "$B1" "$TOK_PIPE" 180)
t_check "both jobs done ($states)" [ "$states" = "done,done" ]
t_check "progress 100 and stage finished" [ "$(jq '[.jobs[] | select(.progress == 100 and .stage == "finished")] | length' < "$BODY_FILE")" = 2 ]
t_check "stage timings recorded" [ "$(jq '[.jobs[].stage_times | length] | min' < "$BODY_FILE")" = 4 ]
t_check "QC verdict pass" [ "$(jq -r '[.jobs[].qc] | unique | join(",")' < "$BODY_FILE")" = pass ]
JA=$(jq -r '.jobs[] | select(.sample == "A") | .id' < "$BODY_FILE")
[ "$(api GET "/api/v1/jobs/$JA/qc" "$TOK_PIPE")" = 200 ] && [ "$(jq -r .gate.status < "$BODY_FILE")" = PASS ]; t_check "fetch QC (JSON)" [ $? -eq 0 ]
t_check "fetch QC report (HTML)" [ "$(api GET "/api/v1/jobs/$JA/qc.html" "$TOK_PIPE")" = 200 ]

# scheduling: one job on the accelerator slot, the other beside it on the CPU slot
sa=$(sed -n 's/^start [0-9.]* \([^ ]*\) \([^ ]*\)$/\1 \2/p' "$DA/data/batches/$B1/A.slot" | head -n 1)
sb=$(sed -n 's/^start [0-9.]* \([^ ]*\) \([^ ]*\)$/\1 \2/p' "$DA/data/batches/$B1/B.slot" | head -n 1)
[ "$(printf '%s\n%s\n' "$sa" "$sb" | sort | tr '\n' ';')" = "cpu:0 unset;cuda:0 0;" ]
t_check "one job on cuda:0 (CUDA_VISIBLE_DEVICES=0), one beside it on cpu:0 ($sa / $sb)" [ $? -eq 0 ]
api GET "/api/v1/batches/$B1" "$TOK_PIPE" >/dev/null
t_check "device recorded per job" [ "$(jq -r '[.jobs[].device] | sort | join(",")' < "$BODY_FILE")" = "cpu:0,cuda:0" ]
ta=$(awk '$1 == "start" { s = $2 } $1 == "end" { e = $2 } END { print s, e }' "$DA/data/batches/$B1/A.slot")
tb=$(awk '$1 == "start" { s = $2 } $1 == "end" { e = $2 } END { print s, e }' "$DA/data/batches/$B1/B.slot")
echo "$ta $tb" | awk '{ exit !($1 < $4 && $3 < $2) }'; t_check "the CPU job ran beside the accelerator job (overlapping)" [ $? -eq 0 ]

# wrong roles
t_check "pipeline may not cancel: 403" [ "$(api POST "/api/v1/jobs/$JA/cancel" "$TOK_PIPE")" = 403 ]
t_check "pipeline may not read deliveries: 403" [ "$(api GET /api/v1/deliveries "$TOK_PIPE")" = 403 ]
t_check "pipeline may not read job logs: 403" [ "$(api GET "/api/v1/jobs/$JA/log" "$TOK_PIPE")" = 403 ]
t_check "technician may not run the device self-test: 403" [ "$(api POST /api/v1/devices/selftest "$TOK_TECH")" = 403 ]
t_check "another pipeline does not see the job: 404" [ "$(api GET "/api/v1/jobs/$JA" "$TOK_OTHER")" = 404 ]
api GET /api/v1/jobs "$TOK_OTHER" >/dev/null
t_check "another pipeline lists no jobs" [ "$(jq '.jobs | length' < "$BODY_FILE")" = 0 ]
[ "$(api GET "/api/v1/jobs/$JA/log" "$TOK_TECH")" = 200 ] && grep -q "fake_run" "$BODY_FILE"; t_check "technician reads the job log" [ $? -eq 0 ]
t_check "cancel of a finished job: 409" [ "$(api POST "/api/v1/jobs/$JA/cancel" "$TOK_TECH")" = 409 ]

# ---- cancel a running job ----------------------------------------------------------------
BODY=$(printf '{"samples":[{"id":"C","r1":"%s","r2":"%s"}]}' "$DA/in/C_R1.fq" "$DA/in/C_R2.fq")
api POST /api/v1/batches "$TOK_PIPE" >/dev/null; BC=$(jq -r .id < "$BODY_FILE"); JC=$(jq -r '.jobs[0].id' < "$BODY_FILE")
is_running() { [ "$(job_field "$JC" state "$TOK_TECH")" = running ] && [ "$(job_field "$JC" progress "$TOK_TECH")" != 0 ]; }
wait_until 60 is_running
t_check "cancel a running job: 202" [ "$(api POST "/api/v1/jobs/$JC/cancel" "$TOK_TECH")" = 202 ]
states=$(wait_jobs "$BC" "$TOK_TECH" 180)
t_check "job cancelled ($states)" [ "$states" = cancelled ]
sleep 0.5
t_check "its process group is gone" [ -z "$(pgrep -f "fake_run.sh run .* --sample C " 2>/dev/null)" ]
t_check "cancelled job did not finish its stages" [ ! -f "$DA/data/batches/$BC/C/.seqa/stage-qc.json" ]
t_check "retry the cancelled job: 202" [ "$(api POST "/api/v1/jobs/$JC/retry" "$TOK_TECH")" = 202 ]
states=$(wait_jobs "$BC" "$TOK_TECH" 180)
t_check "retried job completes ($states)" [ "$states" = done ]

# ---- kill -9 of the daemon mid-job, restart, same outputs as an uninterrupted run -------------
BODY=$(printf '{"samples":[{"id":"K","r1":"%s","r2":"%s"}]}' "$DA/in/K_R1.fq" "$DA/in/K_R2.fq")
api POST /api/v1/batches "$TOK_PIPE" >/dev/null; BK=$(jq -r .id < "$BODY_FILE"); JK=$(jq -r '.jobs[0].id' < "$BODY_FILE")
mid_job() { p=$(job_field "$JK" progress "$TOK_TECH"); [ "${p%.*}" -ge 50 ] && [ "${p%.*}" -lt 75 ]; }
wait_until 60 mid_job; t_check "job K is mid-way (align done, call running)" [ $? -eq 0 ]
kill -9 "$SRV_PID"; wait "$SRV_PID" 2>/dev/null
sleep 0.3
t_check "the job's process died with the daemon" [ -z "$(pgrep -f "fake_run.sh run .* --sample K " 2>/dev/null)" ]
t_check "interrupted: no qc record yet" [ ! -f "$DA/data/batches/$BK/K/.seqa/stage-qc.json" ]
srv_start "$D" "$D/seqa.conf" || t_fail "daemon restarts"
states=$(wait_jobs "$BK" "$TOK_TECH" 180)
t_check "after restart the job completes ($states)" [ "$states" = done ]
t_check "second attempt" [ "$(job_field "$JK" attempts "$TOK_TECH")" = 2 ]
grep -q "ingest: done before, skipped" "$DA/data/logs/job-$JK.log"; t_check "finished stages were not redone" [ $? -eq 0 ]
# uninterrupted reference run of the same sample
"$RUNNER" run -r "$DA/in/ref.fa" -1 "$DA/in/K_R1.fq" -2 "$DA/in/K_R2.fq" --sample K -o "$DA/ref_K" 2>/dev/null
same=1
for f in K.ingest.txt K.bam.txt K.vcf.txt qc.json qc.html; do cmp -s "$DA/ref_K/$f" "$DA/data/batches/$BK/K/$f" || same=0; done
t_check "outputs identical to an uninterrupted run" [ $same -eq 1 ]
grep -q '"msg":"recovered 1 interrupted job' "$D/serve.log"; t_check "restart logged the recovery (JSON lines)" [ $? -eq 0 ]
bad=$(grep -v '^{"ts":"[^"]*","level":"[a-z]*","func":"[^"]*","msg":".*"}$' "$D/serve.log" | grep -v '^\[' | head -n 3)
t_check "daemon log is JSON lines" [ -z "$bad" ]

# ---- metrics ------------------------------------------------------------------------------
api GET /api/v1/jobs 'wrong-token' >/dev/null
code=$(api GET /metrics "$TOK_TECH")
t_check "metrics: 200" [ "$code" = 200 ]
grep -q '^seqa_jobs{state="done"} 4$' "$BODY_FILE"; t_check "metrics: jobs by state" [ $? -eq 0 ]
grep -q '^seqa_stage_duration_seconds_count{stage="align"} 4$' "$BODY_FILE"; t_check "metrics: stage durations" [ $? -eq 0 ]
grep -q '^seqa_device_busy{device="cuda:0"} [01]$' "$BODY_FILE" && grep -q '^seqa_device_jobs_total{device="cuda:0"} [1-9]' "$BODY_FILE"; t_check "metrics: device slots" [ $? -eq 0 ]
grep -q '^seqa_outbox_depth ' "$BODY_FILE" && grep -q '^seqa_delivery_failures_total ' "$BODY_FILE"; t_check "metrics: outbox depth and delivery failures" [ $? -eq 0 ]
grep -q '^seqa_http_auth_failures_total [1-9]' "$BODY_FILE"; t_check "metrics: auth failures counted" [ $? -eq 0 ]
api GET /api/v1/devices "$TOK_PIPE" >/dev/null
[ "$(jq '.slots | length' < "$BODY_FILE")" = 2 ] && jq -e '.runtimes | length > 0' < "$BODY_FILE" >/dev/null; t_check "devices: slots (cuda:0, cpu:0) and runtimes" [ $? -eq 0 ]

# every operation docs/openapi.yaml describes exists on the daemon (no 404 "unknown", no 405)
if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$JA" "$B1" > "$D/ops" <<'PY'
import sys, yaml
d = yaml.safe_load(open("docs/openapi.yaml"))
assert str(d["openapi"]).startswith("3."), "not OpenAPI 3"
for path, ops in d["paths"].items():
    for m in ops:
        if m in ("get", "post", "put", "delete", "patch"):
            print(m.upper(), path.replace("{id}", sys.argv[2] if path.startswith("/api/v1/batches/") else sys.argv[1]))
PY
	ok=1; n=0
	while read -r m p; do
		n=$((n + 1))
		BODY='{}'; code=$(api "$m" "$p" "$TOK_ADMIN")
		if [ "$code" = 405 ] || { [ "$code" = 404 ] && grep -q 'unknown' "$BODY_FILE"; }; then ok=0; echo "# $m $p -> $code $(cat "$BODY_FILE")"; fi
	done < "$D/ops"
	[ $ok -eq 1 ] && [ $n -ge 15 ]; t_check "all $n operations of docs/openapi.yaml are served" [ $? -eq 0 ]
else
	t_fail "python3-yaml is needed to check docs/openapi.yaml"
fi

# over the whole test, never two jobs at once on one slot
# (intervals of runs that ended; a run killed with the daemon has no end line)
for f in "$DA"/data/batches/*/*.slot; do
	awk '$1 == "start" { s = $2; d = $3 } $1 == "end" && s != "" { print d, s, $2; s = "" }' "$f"
done | sort -k1,1 -k2,2n > "$D/intervals"
awk '$1 == dev && $2 < last { bad = 1 } { dev = $1; last = $3 } END { exit bad }' "$D/intervals"
t_check "never two jobs at once on a slot ($(wc -l < "$D/intervals") runs on cuda:0 and cpu:0)" [ $? -eq 0 ]

srv_stop; rc=$?
t_check "SIGTERM stops the daemon cleanly" [ $rc -eq 0 ]

# ---- TLS, the non-loopback rule, log reopening --------------------------------------------------
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/tls.key" -out "$D/tls.pem" -days 2 \
		-subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
	sed -e "s|^listen = .*|listen = 127.0.0.1:0\ntls_cert = $DA/tls.pem\ntls_key = $DA/tls.key|" \
	    -e "s|^data_dir = .*|data_dir = $DA/data\nlog_file = $DA/tls.log|" "$D/seqa.conf" > "$D/tls.conf"
	srv_start "$D" "$D/tls.conf" || t_fail "HTTPS daemon starts"
	P=$(cat "$D/port")
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$D/tls.pem" "https://127.0.0.1:$P/api/v1/health")
	t_check "HTTPS with the configured certificate" [ "$code" = 200 ]
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$D/tls.pem" --tls-max 1.1 "https://127.0.0.1:$P/api/v1/health")
	t_check "TLS 1.1 refused" [ "$code" = 000 ]
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$D/tls.pem" -H "Authorization: Bearer $TOK_TECH" "https://127.0.0.1:$P/api/v1/jobs")
	t_check "HTTPS API with a token" [ "$code" = 200 ]
	grep -q '"level":"info"' "$D/tls.log"; t_check "log_file gets the JSON log" [ $? -eq 0 ]
	mv "$D/tls.log" "$D/tls.log.1"; kill -HUP "$SRV_PID"; sleep 0.5
	curl -s -o /dev/null --cacert "$D/tls.pem" "https://127.0.0.1:$P/api/v1/jobs"
	sleep 0.3
	grep -q 'log file reopened' "$D/tls.log" && grep -q '401' "$D/tls.log"; t_check "SIGHUP reopens the log file (rotation)" [ $? -eq 0 ]
	srv_stop
fi
sed 's|^listen = .*|listen = 0.0.0.0:0|' "$D/seqa.conf" > "$D/open.conf"
$SEQA serve --check -c "$D/open.conf" >/dev/null 2>"$D/open.err"; rc=$?
[ $rc -eq 3 ] && grep -q "not loopback: tls_cert and tls_key are required" "$D/open.err"
t_check "a non-loopback address without TLS is refused (exit 3)" [ $? -eq 0 ]
rm -f "$BODY_FILE"
[ "$_f" -eq 0 ] && rm -rf "$D"
t_done
