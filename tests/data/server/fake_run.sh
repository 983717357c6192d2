#!/bin/sh
# A stand-in for `seqa run` used by the service tests that exercise the scheduler alone
# (cancel, crash recovery of the daemon, idempotency): the same stage records as the real pipeline
# (OUTDIR/.seqa/stage-NAME.json), deterministic outputs computed from the inputs, resumable
# (a stage whose record exists is skipped), FAKE_STAGE_SLEEP seconds per stage.
# Usage: fake_run.sh run -r REF -1 R1 -2 R2 --sample ID -o OUTDIR [-t N] [--backend B]
set -e
shift  # "run"
while [ $# -gt 0 ]; do
	case "$1" in
	-r) ref=$2; shift 2;; -1) r1=$2; shift 2;; -2) r2=$2; shift 2;;
	--sample) sample=$2; shift 2;; -o) out=$2; shift 2;; *) shift;;
	esac
done
[ -n "$out" ] && [ -r "$r1" ] && [ -r "$r2" ] || { echo "fake_run: missing arguments or inputs" >&2; exit 4; }
mkdir -p "$out/.seqa"
# where and when it ran (beside the run folder, so outputs stay comparable): for scheduling tests
echo "start $(date +%s.%N) ${SEQA_DEVICE:-none} ${CUDA_VISIBLE_DEVICES:-unset}" >> "$out.slot"
trap 'echo "end $(date +%s.%N) ${SEQA_DEVICE:-none}" >> "$out.slot"' EXIT
trap 'exit 143' TERM
sleep_s=${FAKE_STAGE_SLEEP:-0.3}
for st in ingest align call qc; do
	rec="$out/.seqa/stage-$st.json"
	if [ -f "$rec" ]; then echo "[fake_run] $st: done before, skipped" >&2; continue; fi
	echo "[fake_run] $st: running" >&2
	if [ $st = call ]; then sleep "$(awk "BEGIN { print $sleep_s * 3 }")"; else sleep "$sleep_s"; fi
	case $st in
	ingest) cat "$r1" "$r2" | sha256sum | cut -c1-64 > "$out/$sample.ingest.txt";;
	align)  { cat "$out/$sample.ingest.txt"; echo align; } | sha256sum | cut -c1-64 > "$out/$sample.bam.txt";;
	call)   { cat "$out/$sample.bam.txt"; echo call; } | sha256sum | cut -c1-64 > "$out/$sample.vcf.txt";;
	qc)     n=$(wc -c < "$r1")
	        printf '{"schema":"seqa-qc/1","sample":"%s","stages":{"fastq":{"metrics":{"reads":{"value":%d,"unit":"reads"}},"per_cycle_quality":[30,32,34,35,35,34,33,31]}},"gate":{"status":"PASS","profile_id":"fake","checks":[{"metric":"reads","value":%d,"rule":">= 1","status":"PASS"}]}}\n' \
	            "$sample" "$n" "$n" > "$out/qc.json.tmp" && mv "$out/qc.json.tmp" "$out/qc.json"
	        echo "<html><body>QC $sample</body></html>" > "$out/qc.html";;
	esac
	printf '{"stage":"%s","wall_s":%s}\n' "$st" "$sleep_s" > "$rec.tmp" && mv "$rec.tmp" "$rec"
done
echo "[fake_run] $sample finished" >&2
