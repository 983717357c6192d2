#!/bin/sh
# The dashboard in headless Chromium against a running daemon: every page loads and renders
# its data (the job table with progress bars, a sample page with its QC gate and QC plots, the
# devices with their runtimes, the outbox and run folders), and screenshots are saved in
# tests/out/serve_dashboard/*.png.  Jobs use the stand-in runner (its qc.json carries a per-cycle
# quality series); tests/cli/serve_e2e.sh loads the sample page on real QC results.
. tests/lib.sh
. tests/cli/serve_common.inc
D=$(t_tmp serve_dashboard.$$)   # per process: `make test` of other checkouts may run this at the same time
DA=$(cd "$D" && pwd)
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
[ -n "$CHROME" ] || { t_fail "chromium is needed (Debian package chromium, installed by make deps)"; t_done; exit 1; }
export FAKE_STAGE_SLEEP=0.05
srv_tokens "$D"
mkdir -p "$D/in"
for s in A B C; do printf '@%s/1\nACGT\n+\nIIII\n' $s > "$D/in/${s}_R1.fq"; printf '@%s/2\nACGT\n+\nIIII\n' $s > "$D/in/${s}_R2.fq"; done
printf '>q\nACGT\n' > "$D/in/ref.fa"
cat > "$D/seqa.conf" <<EOC
[server]
listen = 127.0.0.1:0
[paths]
data_dir = $DA/data
[pipeline]
seqa = $(pwd)/tests/data/server/fake_run.sh
run_args = run -r {reference} -1 {r1} -2 {r2} --sample {sample} -o {outdir} -t {threads} --backend {backend}
reference = $DA/in/ref.fa
$(cat "$D/tokens.conf")
EOC
srv_start "$D" "$D/seqa.conf" || { t_fail "daemon starts"; t_done; exit 1; }
BODY=$(printf '{"samples":[{"id":"A","pseudonym":"P-A","indication":"RD-BONE","sex":"F","r1":"%s","r2":"%s"},{"id":"B","r1":"%s","r2":"%s"},{"id":"C","r1":"%s","r2":"%s"}]}' \
	"$DA/in/A_R1.fq" "$DA/in/A_R2.fq" "$DA/in/B_R1.fq" "$DA/in/B_R2.fq" "$DA/in/C_R1.fq" "$DA/in/C_R2.fq")
api POST /api/v1/batches "$TOK_PIPE" >/dev/null
B=$(jq -r .id < "$BODY_FILE")
states=$(wait_jobs "$B" "$TOK_TECH" 180)
JA=$(jq -r '.jobs[] | select(.sample == "A") | .id' < "$BODY_FILE")

chrome() { # chrome OUT URL [extra args]: DOM after scripts ran (virtual time), to OUT
	out=$1; url=$2; shift 2
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
		--user-data-dir="$DA/profile" --virtual-time-budget=10000 "$@" "$url" > "$out" 2>>"$D/chromium.log"
}
T="#token=$TOK_TECH"
chrome "$D/index.dom" "$URL/index.html$T" --dump-dom
n=$(grep -o '<tr data-job="[0-9]*" data-state="done">' "$D/index.dom" | wc -l)
t_check "jobs page: the job table lists the 3 jobs ($n)" [ "$n" -eq 3 ]
n=$(grep -o 'class="progress complete" role="progressbar" aria-valuenow="100"' "$D/index.dom" | wc -l)
t_check "jobs page: a progress bar per job at 100 % ($n)" [ "$n" -eq 3 ]
grep -q '<table id="batches">.*'"$B" "$D/index.dom"; t_check "jobs page: the batch table" [ $? -eq 0 ]
grep -q 'data-loaded="1"' "$D/index.dom"; t_check "jobs page: scripts ran to the end" [ $? -eq 0 ]

chrome "$D/job.dom" "$URL/job.html?id=$JA$T" --dump-dom
n=$(grep -o '<svg class="qc-plot"' "$D/job.dom" | wc -l)
t_check "sample page: QC plots ($n)" [ "$n" -ge 1 ]
grep -q 'data-title="stages.fastq.per_cycle_quality"' "$D/job.dom" && grep -q '<polyline\|<rect' "$D/job.dom"
t_check "sample page: the per-cycle quality plot is drawn" [ $? -eq 0 ]
grep -q 'id="qc-gate"[^>]*>.*class="badge s-pass">PASS' "$D/job.dom"; t_check "sample page: the QC gate (PASS)" [ $? -eq 0 ]
grep -q 'P-A' "$D/job.dom" && grep -q 'RD-BONE' "$D/job.dom"; t_check "sample page: pseudonym and indication" [ $? -eq 0 ]
grep -q 'role="progressbar" aria-valuenow="100"' "$D/job.dom"; t_check "sample page: progress" [ $? -eq 0 ]

chrome "$D/devices.dom" "$URL/devices.html$T" --dump-dom
grep -q '<table id="slots">.*<td>cpu:0</td>' "$D/devices.dom"; t_check "devices page: scheduler slots" [ $? -eq 0 ]
api GET /api/v1/devices "$TOK_TECH" >/dev/null
first=$(jq -r '[.runtimes[] | select(.available) | .name][0] // empty' < "$BODY_FILE")
if [ -n "$first" ]; then grep -qF "<td>$first</td>" "$D/devices.dom"; t_check "devices page: runtime device $first" [ $? -eq 0 ]; fi
chrome "$D/outbox.dom" "$URL/outbox.html$T" --dump-dom
grep -q 'id="outbox-status"[^>]*>[0-9][0-9]* deliveries<' "$D/outbox.dom"; t_check "outbox page: the outbox is read (0 deliveries)" [ $? -eq 0 ]
grep -q '<table id="runs">' "$D/outbox.dom"; t_check "outbox page: run folders table" [ $? -eq 0 ]
# without a token a page asks for one and shows no data
rm -rf "$DA/profile"
chrome "$D/anon.dom" "$URL/index.html" --dump-dom
grep -q 'id="token"' "$D/anon.dom" && ! grep -q '<tr data-job' "$D/anon.dom"; t_check "no token: the page asks for one, shows nothing" [ $? -eq 0 ]

for p in index devices outbox; do
	chrome /dev/null "$URL/$p.html$T" --screenshot="$DA/$p.png" --window-size=1400,900
done
chrome /dev/null "$URL/job.html?id=$JA$T" --screenshot="$DA/job.png" --window-size=1400,2000
for p in index job devices outbox; do
	[ "$(od -An -tx1 -N8 "$D/$p.png" 2>/dev/null | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$(wc -c < "$D/$p.png")" -gt 10000 ]
	t_check "screenshot $D/$p.png" [ $? -eq 0 ]
done
srv_stop
rm -f "$BODY_FILE"
mkdir -p tests/out/serve_dashboard && cp "$D"/*.png tests/out/serve_dashboard/ 2>/dev/null
[ "$_f" -eq 0 ] && rm -rf "$D"
t_done
