#!/bin/sh
# Run-folder watcher: an Illumina run folder copied in pieces is submitted exactly once, and only
# after CopyComplete.txt appears — not by inotify events on the pieces, not by the periodic
# rescans, not again after more events or a daemon restart.  A folder moved in whole is
# submitted too; a complete folder without a sample sheet is recorded as rejected.
# (Jobs run with the stand-in runner tests/data/server/fake_run.sh.)
. tests/lib.sh
. tests/cli/serve_common.inc
D=$(t_tmp serve_watch.$$)   # per process: `make test` of other checkouts may run this at the same time
DA=$(cd "$D" && pwd)
export FAKE_STAGE_SLEEP=0.05
srv_tokens "$D"
mkdir -p "$D/runs" "$D/staging"
printf '>q\nACGTACGTACGTACGT\n' > "$D/ref.fa"
cat > "$D/seqa.conf" <<EOF
[server]
listen = 127.0.0.1:0
[paths]
data_dir = $DA/data
[pipeline]
seqa = $(pwd)/tests/data/server/fake_run.sh
run_args = run -r {reference} -1 {r1} -2 {r2} --sample {sample} -o {outdir} -t {threads} --backend {backend}
reference = $DA/ref.fa
threads = 1
[watch]
dirs = $DA/runs
rescan = 0.5
$(cat "$D/tokens.conf")
EOF
srv_start "$D" "$D/seqa.conf" || { t_fail "daemon starts"; t_done; exit 1; }

n_batches() { api GET /api/v1/batches "$TOK_TECH" >/dev/null; jq '.batches | length' < "$BODY_FILE"; }

# a run folder, written piece by piece as a sequencer + BCL Convert would
RUN=$DA/runs/241129_A01234_0042_BHXXXXDSX7
mkdir -p "$RUN"
RUNINFO='<?xml version="1.0"?>
<RunInfo Version="6"><Run Id="241129_A01234_0042_BHXXXXDSX7" Number="42"><Flowcell>HXXXXDSX7</Flowcell><Instrument>A01234</Instrument>
<Reads><Read Number="1" NumCycles="151" IsIndexedRead="N"/><Read Number="2" NumCycles="151" IsIndexedRead="N"/></Reads></Run></RunInfo>'
printf '%s' "$RUNINFO" | head -c 60 > "$RUN/RunInfo.xml"; sleep 0.3
printf '%s\n' "$RUNINFO" > "$RUN/RunInfo.xml.part" && mv "$RUN/RunInfo.xml.part" "$RUN/RunInfo.xml"
cat > "$RUN/SampleSheet.csv" <<'EOF'
[Header]
FileFormatVersion,2
RunName,WATCH42
[Reads]
Read1Cycles,151
Read2Cycles,151
[BCLConvert_Data]
Lane,Sample_ID,Index,Index2
1,S1,ACGTACGT,TTGGCCAA
1,S2,TGCATGCA,AACCGGTT
[Seqa_Data]
Sample_ID,Pseudonym,Indication,Sex
S1,P-0001,RD-BONE,female
S2,P-0002,RD-EYE,male
EOF
mkdir -p "$RUN/Analysis/1/Data/fastq"
for s in S1 S2; do
	for r in 1 2; do
		f=$RUN/Analysis/1/Data/fastq/${s}_${s}_R${r}_001.fastq.gz
		i=0; while [ $i -lt 200 ]; do printf '@%s:%d/%d\nACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIII\n' "$s" $i $r; i=$((i + 1)); done | gzip -c > "$D/staging/part"
		# copied in 3 pieces with pauses longer than the rescan interval
		head -c 300 "$D/staging/part" > "$f"; sleep 0.6
		tail -c +301 "$D/staging/part" | head -c 300 >> "$f"; sleep 0.6
		tail -c +601 "$D/staging/part" >> "$f"
	done
done
sleep 1.5
t_check "nothing submitted before CopyComplete.txt" [ "$(n_batches)" = 0 ]
api GET /api/v1/runs "$TOK_TECH" >/dev/null
t_check "the incomplete run is not recorded" [ "$(jq '.runs | length' < "$BODY_FILE")" = 0 ]
: > "$RUN/CopyComplete.txt"
one() { [ "$(n_batches)" = 1 ]; }
wait_until 60 one; t_check "submitted after CopyComplete.txt" [ $? -eq 0 ]
[ "$(jq -r '.batches[0].source' < "$BODY_FILE")" = "$RUN" ] && [ "$(jq -r '.batches[0].client' < "$BODY_FILE")" = watcher ]
t_check "the batch comes from the run folder, by the watcher" [ $? -eq 0 ]
B=$(jq -r '.batches[0].id' < "$BODY_FILE")
states=$(wait_jobs "$B" "$TOK_TECH" 180)
t_check "its 2 samples ran ($states)" [ "$states" = "done,done" ]
t_check "sample metadata from [Seqa_Data]" [ "$(jq -r '[.jobs[].spec.pseudonym] | sort | join(",")' < "$BODY_FILE")" = "P-0001,P-0002" ]
t_check "FASTQ found in the run folder" [ "$(jq -r '.jobs[] | select(.sample == "S2") | .spec.r2' < "$BODY_FILE")" = "$RUN/Analysis/1/Data/fastq/S2_S2_R2_001.fastq.gz" ]
# more events and rescans: still once
touch "$RUN/CopyComplete.txt"; : > "$RUN/RTAComplete.txt"; echo x >> "$RUN/CopyComplete.txt"
sleep 1.5
t_check "more events and rescans: still one batch" [ "$(n_batches)" = 1 ]
api GET /api/v1/runs "$TOK_TECH" >/dev/null
t_check "the run is recorded as submitted with its run id" [ "$(jq -r '.runs[0].run_id' < "$BODY_FILE")" = 241129_A01234_0042_BHXXXXDSX7 ]
srv_stop
srv_start "$D" "$D/seqa.conf" || t_fail "daemon restarts"
sleep 1.5
t_check "after a restart: still one batch" [ "$(n_batches)" = 1 ]
# a complete run folder moved in at once
mkdir -p "$D/staging/RUN2/fq"
cp "$RUN/RunInfo.xml" "$D/staging/RUN2/"; sed 's/WATCH42/WATCH43/; s/P-000/Q-000/' "$RUN/SampleSheet.csv" > "$D/staging/RUN2/SampleSheet.csv"
for s in S1 S2; do for r in 1 2; do printf '@%s/%d\nAC\n+\nII\n' "$s$s" $r > "$D/staging/RUN2/fq/${s}_R${r}.fastq"; done; done
: > "$D/staging/RUN2/CopyComplete.txt"
mv "$D/staging/RUN2" "$DA/runs/RUN2"
two() { [ "$(n_batches)" = 2 ]; }
wait_until 60 two; t_check "a complete folder moved in is submitted" [ $? -eq 0 ]
# complete but unusable: recorded once as rejected, nothing submitted
mkdir -p "$DA/runs/RUN3"; cp "$RUN/RunInfo.xml" "$DA/runs/RUN3/"; : > "$DA/runs/RUN3/CopyComplete.txt"
sleep 1.5
api GET /api/v1/runs "$TOK_TECH" >/dev/null
[ "$(jq -r '.runs[] | select(.path | endswith("/RUN3")) | .status' < "$BODY_FILE")" = "complete but SampleSheet.csv is missing" ] && [ "$(n_batches)" = 2 ]
t_check "a complete folder without a sample sheet is rejected, not submitted" [ $? -eq 0 ]
srv_stop
rm -f "$BODY_FILE"
[ "$_f" -eq 0 ] && rm -rf "$D"
t_done
