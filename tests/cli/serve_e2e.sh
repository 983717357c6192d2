#!/bin/sh
# seqa serve end to end with the real pipeline and a real seqa-inbox on loopback: a batch of 2
# simulated samples is submitted over the API, followed to completion, its QC fetched, and its
# deliveries reach the inbox (enqueue + push run by the daemon); a kill -9 of the daemon
# mid-job then a restart completes the job with outputs identical to an uninterrupted run.
# The batch samples are 150x (a few seconds per job) so that a poll at 0.2 s surely sees a job
# between stages.  Reference: the phage lambda genome of Debian's bowtie2-examples (no ../shared needed).
# Every component it needs must be built: a missing one is a failure, not a skip.
. tests/lib.sh
. tests/cli/serve_common.inc
D=$(t_tmp serve_e2e.$$)   # per process: `make test` of other checkouts may run this at the same time
DA=$(cd "$D" && pwd)
missing=""
$SEQA run --help >/dev/null 2>&1 || missing="$missing seqa-run"
$SEQA outbox --help >/dev/null 2>&1 || missing="$missing seqa-outbox"
$SEQA push --help >/dev/null 2>&1 || missing="$missing seqa-push"
$SEQA simulate --help >/dev/null 2>&1 || missing="$missing seqa-simulate"
[ -x "${SEQA_INBOX:-./seqa-inbox}" ] || missing="$missing seqa-inbox"
for t in openssl samtools bcftools jq curl; do command -v $t >/dev/null || missing="$missing $t"; done
src=/usr/share/doc/bowtie2/examples/reference/lambda_virus.fa.gz
if [ ! -s "$src" ]; then
	deb=$(ls /var/cache/apt/archives/bowtie2-examples_*.deb 2>/dev/null | head -n 1)
	if [ -n "$deb" ]; then dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/bowtie2/examples/reference/lambda_virus.fa.gz > "$D/lambda.fa.gz"; src=$D/lambda.fa.gz; fi
fi
[ -s "$src" ] || missing="$missing lambda-genome(bowtie2-examples)"
if [ -n "$missing" ]; then
	t_fail "serve_e2e needs components that are not built or installed:$missing"
	t_done; exit 1
fi
. tests/cli/cad_common.inc

# ---- data: reference, 2 simulated samples; PKI; the inbox -----------------------------------
gzip -dc "$src" | sed '1s/^>.*/>lambda/' > "$D/ref.fa"
$SEQA index "$D/ref.fa" 2>"$D/index.log" || { t_fail "seqa index"; t_done; exit 1; }
for s in 1 2; do $SEQA simulate -r "$D/ref.fa" -o "$D/S$s" -c 150 -s $s --snp-rate 0.003 --indel-rate 0.0005 2>/dev/null; done
# a deeper one for the crash test, so that the daemon is surely killed mid-job
$SEQA simulate -r "$D/ref.fa" -o "$D/S3" -c 60 -s 3 --snp-rate 0.003 --indel-rate 0.0005 2>/dev/null
[ -s "$D/S1_R1.fq.gz" ] && [ -s "$D/S2_R2.fq.gz" ] && [ -s "$D/S3_R2.fq.gz" ]; t_check "samples simulated" [ $? -eq 0 ]
cad_pki "$D/pki" || { t_fail "test PKI"; t_done; exit 1; }
inbox_start "$D/inbox" "$D/pki" || { t_fail "seqa-inbox starts"; t_done; exit 1; }
INBOX_URL=$URL
P=$DA/pki
srv_tokens "$D"
# QC profiles: RD-BONE = the demo profile (a phage passes it); RD-MITO = the same with an
# impossible mapping threshold, so that its gate fails
mkdir -p "$D/profiles"
cp scripts/demo-qc-profile.json "$D/profiles/RD-BONE.json"
jq '.indication = "RD-MITO" | .profile_id = "SQ-QC-TEST-STRICT" | (.rules[] | select(.metric == "pct_reads_mapped") | .min) = {"fail": 100.5, "warn": 100.6}' \
	scripts/demo-qc-profile.json > "$D/profiles/RD-MITO.json"
cat > "$D/seqa.conf" <<EOF
[server]
listen = 127.0.0.1:0
[paths]
data_dir = $DA/data
allow_inputs = $DA
[pipeline]
reference = $DA/ref.fa
run_args = run -r {reference} -1 {r1} -2 {r2} --sample {sample} --pseudonym {pseudonym} --indication {indication} --sex {sex} -o {outdir} -t {threads} --backend {backend} --profiles $DA/profiles
threads = 1
cpu_slots = 2
[delivery]
enqueue_args = outbox enqueue -o $DA/outbox.db --platform plat1 --sign-key $P/plat1.sign --cad-key $P/cad.c4gh.pub {outdir}
push_args = push -o $DA/outbox.db --url $INBOX_URL --ca $P/ca.pem --cert $P/plat1.pem --key $P/plat1.key --receipt-key $P/cad.sign.pub
push_interval = 1
outbox_args = outbox list -o $DA/outbox.db --json
$(cat "$D/tokens.conf")
EOF
srv_start "$D" "$D/seqa.conf" || { t_fail "daemon starts"; kill $INBOX_PID; t_done; exit 1; }

# ---- a batch of 2 -----------------------------------------------------------------------------
BODY=$(printf '{"seqa_batch":1,"samples":[{"id":"S1","pseudonym":"PSN-0001","indication":"RD-BONE","sex":"female","r1":"%s","r2":"%s"},{"id":"S2","pseudonym":"PSN-0002","indication":"RD-BONE","sex":"male","r1":"%s","r2":"%s"}]}' \
	"$DA/S1_R1.fq.gz" "$DA/S1_R2.fq.gz" "$DA/S2_R1.fq.gz" "$DA/S2_R2.fq.gz")
t_check "submit 2 simulated samples: 201" [ "$(api POST /api/v1/batches "$TOK_PIPE")" = 201 ]
B=$(jq -r .id < "$BODY_FILE")
# follow: record the progress values seen
: > "$D/progress.seen"
i=0
while [ $i -lt 600 ]; do
	api GET "/api/v1/batches/$B" "$TOK_PIPE" >/dev/null
	jq -r '.jobs[] | "\(.sample) \(.state) \(.stage) \(.progress)"' < "$BODY_FILE" >> "$D/progress.seen"
	[ "$(jq '[.jobs[] | select(.state == "queued" or .state == "running")] | length' < "$BODY_FILE")" = 0 ] && break
	sleep 0.2; i=$((i + 1))
done
states=$(jq -r '[.jobs[].state] | sort | join(",")' < "$BODY_FILE")
t_check "both jobs done ($states)" [ "$states" = "done,done" ]
[ "$states" = "done,done" ] || { tail -n 5 "$DA"/data/logs/job-*.log; }
n=$(awk '$2 == "running" && $4 > 0 && $4 < 100' "$D/progress.seen" | wc -l)
t_check "progress followed while running ($n intermediate values)" [ "$n" -gt 0 ]
t_check "stage timings for ingest, align, call, qc" [ "$(jq -r '[.jobs[0].stage_times | keys[]] | sort | join(",")' < "$BODY_FILE")" = "align,call,ingest,qc" ]
J1=$(jq -r '.jobs[] | select(.sample == "S1") | .id' < "$BODY_FILE")
O1=$(jq -r '.jobs[] | select(.sample == "S1") | .outdir' < "$BODY_FILE")
code=$(api GET "/api/v1/jobs/$J1/qc" "$TOK_PIPE")
g=$(jq -r .gate.status < "$BODY_FILE")
[ "$code" = 200 ] && { [ "$g" = PASS ] || [ "$g" = WARN ]; }; t_check "QC of S1 fetched: gate $g" [ $? -eq 0 ]
cmp -s "$BODY_FILE" "$O1/qc.json"; t_check "the API's QC is the job's qc.json" [ $? -eq 0 ]
t_check "job QC verdict recorded" [ "$(job_field "$J1" qc "$TOK_PIPE")" = "$(echo "$g" | tr A-Z a-z)" ]
t_check "QC report (HTML)" [ "$(api GET "/api/v1/jobs/$J1/qc.html" "$TOK_PIPE")" = 200 ]
bcftools view -H "$O1/S1.vcf.gz" >/dev/null 2>&1; t_check "the job's VCF reads with bcftools" [ $? -eq 0 ]

# the dashboard's sample page on the real QC result (headless Chromium), with a screenshot
CHROME=$(command -v chromium || command -v chromium-browser)
if [ -n "$CHROME" ]; then
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$DA/profile" \
		--virtual-time-budget=10000 --dump-dom "$URL/job.html?id=$J1#token=$TOK_TECH" > "$D/job.dom" 2>/dev/null
	n=$(grep -o '<svg class="qc-plot"' "$D/job.dom" | wc -l)
	t_check "dashboard: real QC plots on the sample page ($n)" [ "$n" -ge 2 ]
	grep -q "id=\"qc-gate\"[^>]*>.*class=\"badge s-$(echo "$g" | tr A-Z a-z)\">$g" "$D/job.dom"; t_check "dashboard: the real QC gate ($g)" [ $? -eq 0 ]
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$DA/profile" \
		--virtual-time-budget=10000 --window-size=1400,2400 --screenshot="$DA/job.png" "$URL/job.html?id=$J1#token=$TOK_TECH" >/dev/null 2>&1
	t_check "dashboard screenshot $D/job.png" [ -s "$D/job.png" ]
else
	t_fail "chromium is needed for the dashboard check (make deps installs it)"
fi

# ---- deliveries reach the inbox ------------------------------------------------------------------
delivered() { api GET /api/v1/deliveries "$TOK_TECH" >/dev/null; [ "$(jq '[.deliveries[] | select(.state == "delivered")] | length' < "$BODY_FILE")" -ge "$1" ]; }
wait_until 60 delivered 2; t_check "2 deliveries delivered (API, from the outbox)" [ $? -eq 0 ]
"${SEQA_INBOX:-./seqa-inbox}" list --dir "$D/inbox" > "$D/inbox.list" 2>/dev/null
n=$(grep -o '"PSN-000[12]"' "$D/inbox.list" | sort -u | wc -l)
t_check "seqa-inbox holds the 2 samples' deliveries ($n)" [ "$n" -eq 2 ]

# ---- kill -9 of the daemon mid-job, restart, identical outputs -------------------------------------
BODY=$(printf '{"samples":[{"id":"S3","pseudonym":"PSN-0003","indication":"RD-BONE","sex":"female","r1":"%s","r2":"%s"}]}' "$DA/S3_R1.fq.gz" "$DA/S3_R2.fq.gz")
api POST /api/v1/batches "$TOK_PIPE" >/dev/null; B3=$(jq -r .id < "$BODY_FILE"); J3=$(jq -r '.jobs[0].id' < "$BODY_FILE")
O3=$(jq -r '.jobs[0].outdir' < "$BODY_FILE")
started() { [ -s "$O3/.seqa/stage-ingest.json" ] || [ -s "$O3/.seqa/stage-align.json" ]; }
wait_until 60 started
kill -9 "$SRV_PID"; wait "$SRV_PID" 2>/dev/null
t_check "daemon killed mid-job (before the QC stage)" [ ! -f "$O3/.seqa/stage-qc.json" ]
sleep 0.3
t_check "no seqa run left running for S3" [ -z "$(pgrep -f "run .*--sample S3 " 2>/dev/null)" ]
srv_start "$D" "$D/seqa.conf" || t_fail "daemon restarts"
states=$(wait_jobs "$B3" "$TOK_TECH" 120)
t_check "after restart the job completes ($states)" [ "$states" = done ]
t_check "on a second attempt" [ "$(job_field "$J3" attempts "$TOK_TECH")" = 2 ]
# the same sample, uninterrupted, outside the daemon
$SEQA run -r "$DA/ref.fa" -1 "$DA/S3_R1.fq.gz" -2 "$DA/S3_R2.fq.gz" --sample S3 --pseudonym PSN-0003 --indication RD-BONE --sex female \
	-o "$DA/ref_S3" -t 1 --backend cpu --profiles "$DA/profiles" 2>"$D/ref_run.log"
same=1
for f in S3.bam S3.vcf.gz S3.g.vcf.gz; do
	case $f in
	*.bam) a=$(samtools view "$O3/$f" | sha256sum); b=$(samtools view "$DA/ref_S3/$f" | sha256sum);;
	*) a=$(bcftools view -H "$O3/$f" | sha256sum); b=$(bcftools view -H "$DA/ref_S3/$f" | sha256sum);;
	esac
	[ "$a" = "$b" ] || { same=0; echo "# $f differs"; }
done
t_check "BAM and VCF/gVCF records identical to an uninterrupted run" [ $same -eq 1 ]
jq -S '[.. | objects | select(has("metrics")) | .metrics], .gate.status' "$O3/qc.json" > "$D/qc3.a" 2>/dev/null
jq -S '[.. | objects | select(has("metrics")) | .metrics], .gate.status' "$DA/ref_S3/qc.json" > "$D/qc3.b" 2>/dev/null
[ -s "$D/qc3.a" ] && cmp -s "$D/qc3.a" "$D/qc3.b"; t_check "QC metrics and gate identical too" [ $? -eq 0 ]
wait_until 60 delivered 3; t_check "its delivery reaches the inbox too" [ $? -eq 0 ]
api GET /metrics "$TOK_TECH" >/dev/null
grep -q '^seqa_outbox_delivered 3$' "$BODY_FILE"; t_check "metrics: 3 delivered" [ $? -eq 0 ]

# ---- a failed QC gate: held, not delivered; a technician overrides it; then delivered ------------
BODY=$(printf '{"samples":[{"id":"S4","pseudonym":"PSN-0004","indication":"RD-MITO","sex":"male","r1":"%s","r2":"%s"}]}' "$DA/S2_R1.fq.gz" "$DA/S2_R2.fq.gz")
api POST /api/v1/batches "$TOK_PIPE" >/dev/null; B4=$(jq -r .id < "$BODY_FILE"); J4=$(jq -r '.jobs[0].id' < "$BODY_FILE")
states=$(wait_jobs "$B4" "$TOK_TECH" 180)
[ "$states" = held ] && [ "$(job_field "$J4" qc "$TOK_TECH")" = fail ]; t_check "failed gate: job held ($states), QC verdict fail" [ $? -eq 0 ]
sleep 2
api GET /api/v1/deliveries "$TOK_TECH" >/dev/null
t_check "held sample not queued for delivery" [ "$(jq '[.deliveries[] | select(.sample == "PSN-0004")] | length' < "$BODY_FILE")" = 0 ]
BODY='{"reason":"validated by a second method"}'
t_check "pipeline may not override a gate: 403" [ "$(api POST "/api/v1/jobs/$J4/override" "$TOK_PIPE")" = 403 ]
t_check "technician overrides the failed gate: 202" [ "$(api POST "/api/v1/jobs/$J4/override" "$TOK_TECH")" = 202 ]
states=$(wait_jobs "$B4" "$TOK_TECH" 180)
t_check "after the override the job is done ($states)" [ "$states" = done ]
O4=$(jq -r '.jobs[0].outdir' < "$BODY_FILE")
[ "$(jq -r '.gate.override.who // .gate.override.by // empty' "$O4/qc.json")" = tech ]; t_check "the override (who) is recorded in the gate" [ $? -eq 0 ]
wait_until 60 delivered 4; t_check "the overridden sample is delivered" [ $? -eq 0 ]
srv_stop
kill "$INBOX_PID" 2>/dev/null; wait "$INBOX_PID" 2>/dev/null
rm -f "$BODY_FILE"
mkdir -p tests/out/serve_e2e && cp "$D"/job.png tests/out/serve_e2e/ 2>/dev/null
[ "$_f" -eq 0 ] && rm -rf "$D"
t_done
