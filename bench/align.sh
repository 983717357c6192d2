#!/bin/sh
# seqa — alignment benchmark, one invocation, same input for every contender:
#   seqa align -t T --backend cpu                      (FASTQ -> sorted, dup-marked BAM + .bai)
#   bwa mem -t T | samtools fixmate -m | samtools sort | samtools markdup ; samtools index
#   seqa align -t T --backend opencl                   (PoCL or whatever OpenCL device exists)
# Input: seqa simulate, 2x150, COV x (default 30) over ../shared/data/human/GRCh38.chr21_1-10M.fa.gz.
# Prints wall-time ratios (and CPU-time ratios: on a shared machine the wall clock mostly measures
# the neighbours), reads/s, peak RSS (GNU time), the agreement of seqa's primary
# placements with bwa mem's and with the simulated truth; writes bench/results/align-HOST.json.
#
# Environment: THREADS (2), COV (30), WORK (bench/out/align), RUNS (1: runs per contender; the
# median is reported), OPENCL (1: include the OpenCL backend).
set -u
cd "$(dirname "$0")/.." || exit 1
THREADS=${THREADS:-2}; COV=${COV:-30}; RUNS=${RUNS:-1}; OPENCL=${OPENCL:-1}
WORK=${WORK:-bench/out/align}
SHARED=${SEQA_SHARED:-../shared}
SRC=$SHARED/data/human/GRCh38.chr21_1-10M.fa.gz
RES=bench/results
HOST=$(hostname -s)
mkdir -p "$WORK" "$RES"
for t in bwa samtools python3 /usr/bin/time; do command -v $t >/dev/null || { echo "bench/align: $t not found" >&2; exit 1; }; done
[ -r "$SRC" ] || { echo "bench/align: $SRC absent" >&2; exit 1; }
SEQA=${SEQA:-./seqa}
[ -x "$SEQA" ] || { echo "bench/align: build seqa first (make)" >&2; exit 1; }
note() { echo "[bench/align] $*" >&2; }

# ---- input (cached) --------------------------------------------------------------------------
REF=$WORK/chr21.fa
if [ ! -s $REF.sa ]; then
	note "reference + bwa index"
	zcat "$SRC" > $REF && $SEQA index $REF >/dev/null 2>&1 || bwa index $REF 2>/dev/null || exit 1
fi
SIM=$WORK/sim${COV}x
if [ ! -s ${SIM}.truth.vcf.gz ]; then
	note "simulating ${COV}x 2x150"
	$SEQA simulate -r $REF -o $SIM -c $COV -t $THREADS 2>/dev/null || exit 1
fi
R1=${SIM}_R1.fq.gz; R2=${SIM}_R2.fq.gz
PAIRS=$(zcat $R1 | awk 'END {print NR / 4}')
note "$PAIRS pairs"

# gtime FILE CMD...: run under GNU time; FILE gets "wall rss_kb user sys"
gtime() {
	f=$1; shift
	/usr/bin/time -f "%e %M %U %S" -o $f.t "$@"; rc=$?
	cat $f.t | tail -1 > $f; return $rc
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

run_seqa() {   # BACKEND OUT TAG
	for i in $(seq $RUNS); do
		rm -f $2 $2.bai
		gtime $WORK/$3.$i $SEQA align -r $REF -1 $R1 -2 $R2 -o $2 -t $THREADS --backend $1 \
			--rg '@RG\tID:sim\tSM:SIM\tLB:sim\tPL:ILLUMINA' 2> $WORK/$3.log || { tail -5 $WORK/$3.log >&2; return 1; }
	done
}
run_bwa() {
	for i in $(seq $RUNS); do
		rm -f $WORK/bwa.bam $WORK/bwa.bam.bai
		t0=$(date +%s.%N)
		/usr/bin/time -f "%M %U %S" -o $WORK/bwa.rss.mem bwa mem -t $THREADS -R '@RG\tID:sim\tSM:SIM\tLB:sim\tPL:ILLUMINA' $REF $R1 $R2 2> $WORK/bwa.log \
		| /usr/bin/time -f "%M %U %S" -o $WORK/bwa.rss.fixmate samtools fixmate -m - - \
		| /usr/bin/time -f "%M %U %S" -o $WORK/bwa.rss.sort samtools sort -T $WORK/bwa.sorttmp - 2>/dev/null \
		| /usr/bin/time -f "%M %U %S" -o $WORK/bwa.rss.markdup samtools markdup - $WORK/bwa.bam 2>/dev/null || return 1
		/usr/bin/time -f "%M %U %S" -o $WORK/bwa.rss.index samtools index $WORK/bwa.bam || return 1
		t1=$(date +%s.%N)
		echo "$t0 $t1" | awk '{print $2 - $1}' > $WORK/bwa.$i
		# CPU of the whole pipeline is not separable per process here; record RSS per stage
	done
}

note "seqa align --backend cpu (x$RUNS)"
run_seqa cpu $WORK/seqa.bam seqa || exit 1
note "bwa mem | samtools fixmate | sort | markdup; index (x$RUNS)"
run_bwa || { echo "bench/align: bwa pipeline failed" >&2; exit 1; }
ocl=null
if [ "$OPENCL" = 1 ]; then
	note "seqa align --backend opencl"
	if run_seqa opencl $WORK/seqa.ocl.bam seqaocl; then ocl=1; else note "OpenCL backend unavailable"; fi
fi

seqa_wall=$(for i in $(seq $RUNS); do cut -d' ' -f1 $WORK/seqa.$i; done | median)
seqa_rss=$(for i in $(seq $RUNS); do cut -d' ' -f2 $WORK/seqa.$i; done | median)
seqa_cpu=$(for i in $(seq $RUNS); do awk '{print $3 + $4}' $WORK/seqa.$i; done | median)
bwa_wall=$(for i in $(seq $RUNS); do cat $WORK/bwa.$i; done | median)
bwa_rss=$(tail -1 $WORK/bwa.rss.mem | cut -d' ' -f1)
pipe_rss_max=$(for s in mem fixmate sort markdup index; do tail -1 $WORK/bwa.rss.$s | cut -d' ' -f1; done | sort -n | tail -1)
pipe_rss_sum=$(for s in mem fixmate sort markdup; do tail -1 $WORK/bwa.rss.$s | cut -d' ' -f1; done | awk '{s += $1} END {print s}')
bwa_cpu=$(for s in mem fixmate sort markdup index; do tail -1 $WORK/bwa.rss.$s; done | awk '{s += $2 + $3} END {printf "%.2f", s}')
cpu_ratio=$(echo "$bwa_cpu $seqa_cpu" | awk '{printf "%.3f", $1 / $2}')
if [ "$ocl" = 1 ]; then
	ocl_wall=$(for i in $(seq $RUNS); do cut -d' ' -f1 $WORK/seqaocl.$i; done | median)
	ocl_dev=$(samtools view -H $WORK/seqa.ocl.bam | sed -n 's/.*device=\([^;	]*\).*/\1/p' | head -1)
	same=$( [ "$(samtools view $WORK/seqa.bam | md5sum)" = "$(samtools view $WORK/seqa.ocl.bam | md5sum)" ] && echo true || echo false)
	ocl_json="{\"wall_s\": $ocl_wall, \"reads_per_s\": $(echo "$PAIRS $ocl_wall" | awk '{printf "%.0f", 2 * $1 / $2}'), \"device\": \"$ocl_dev\", \"records_identical_to_cpu\": $same}"
else ocl_json=null; fi

# agreement with bwa mem and with the truth (names: CONTIG_POS1_POS2_STRAND_HAP_INDEX)
agree=$(python3 - $WORK/bwa.bam $WORK/seqa.bam <<'PY'
import sys, subprocess
def load(f):
    d = {}
    p = subprocess.Popen(['samtools', 'view', '-F', '0x900', f], stdout=subprocess.PIPE, text=True)
    for l in p.stdout:
        t = l.split('\t', 5); fl = int(t[1])
        d[(t[0], fl & 0xc0)] = (t[2], int(t[3]), fl & 16, fl & 4)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
keys = set(a) | set(b)
eq = sum(1 for k in keys if a.get(k) == b.get(k))
def near(d):
    n = 0
    for (name, m), v in d.items():
        f = name.rsplit('_', 5)
        pos = int(f[1]) if m == 0x40 else int(f[2])
        n += (not v[3]) and v[0] == f[0] and abs(v[1] - pos) <= 5
    return n / max(1, len(d))
print('{"reads": %d, "primary_equal_frac": %.6f, "within5bp_truth_seqa": %.6f, "within5bp_truth_bwa": %.6f}' % (len(keys), eq / max(1, len(keys)), near(b), near(a)))
PY
)
fs() { samtools flagstat -O tsv $1 | awk -F'\t' -v k="$2" '$3 == k {print $1}'; }
dup_s=$(fs $WORK/seqa.bam "primary duplicates"); dup_b=$(fs $WORK/bwa.bam "primary duplicates")

ratio=$(echo "$bwa_wall $seqa_wall" | awk '{printf "%.3f", $1 / $2}')
rss_ratio=$(echo "$seqa_rss $bwa_rss" | awk '{printf "%.3f", $1 / $2}')
rss_ratio_pipe=$(echo "$seqa_rss $pipe_rss_max" | awk '{printf "%.3f", $1 / $2}')
rps=$(echo "$PAIRS $seqa_wall" | awk '{printf "%.0f", 2 * $1 / $2}')
rps_b=$(echo "$PAIRS $bwa_wall" | awk '{printf "%.0f", 2 * $1 / $2}')
cat <<TXT
bench/align: $PAIRS pairs (2x150, ${COV}x), $THREADS threads, $RUNS run(s), host $HOST, load avg $(cut -d' ' -f1-3 /proc/loadavg)
  seqa align --backend cpu     wall $seqa_wall s   $rps reads/s   CPU $seqa_cpu s   peak RSS $((seqa_rss / 1024)) MiB
  bwa mem|fixmate|sort|markdup wall $bwa_wall s   $rps_b reads/s   CPU $bwa_cpu s   peak RSS bwa mem $((bwa_rss / 1024)) MiB, largest stage $((pipe_rss_max / 1024)) MiB, sum $((pipe_rss_sum / 1024)) MiB
  speed-up (bwa pipeline wall / seqa wall): ${ratio}x   (target >= 1.5); CPU-time ratio ${cpu_ratio}x
  RSS seqa / bwa mem: $rss_ratio (target <= 1.2); seqa / largest pipeline stage: $rss_ratio_pipe
  OpenCL: $ocl_json
  agreement: $agree
  duplicates (primary records): seqa $dup_s, samtools markdup $dup_b
TXT
cat > $RES/align-$HOST.json.tmp <<JSON
{
  "benchmark": "align", "host": "$HOST", "commit": "$(git describe --always --dirty 2>/dev/null || echo unknown)",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "threads": $THREADS, "coverage": $COV, "pairs": $PAIRS, "runs": $RUNS,
  "load_avg": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "seqa_cpu": {"wall_s": $seqa_wall, "cpu_s": $seqa_cpu, "reads_per_s": $rps, "peak_rss_kb": $seqa_rss},
  "bwa_samtools": {"wall_s": $bwa_wall, "cpu_s": $bwa_cpu, "reads_per_s": $rps_b, "bwa_mem_peak_rss_kb": $bwa_rss, "largest_stage_peak_rss_kb": $pipe_rss_max, "sum_stage_peak_rss_kb": $pipe_rss_sum},
  "speedup": $ratio, "cpu_time_ratio": $cpu_ratio, "rss_ratio_vs_bwa_mem": $rss_ratio, "rss_ratio_vs_largest_stage": $rss_ratio_pipe,
  "opencl": $ocl_json,
  "agreement": $agree,
  "duplicates": {"seqa": $dup_s, "samtools_markdup": $dup_b},
  "targets": {"speedup_min": 1.5, "rss_ratio_max": 1.2}
}
JSON
mv $RES/align-$HOST.json.tmp $RES/align-$HOST.json
note "wrote $RES/align-$HOST.json"
