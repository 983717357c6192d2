#!/bin/sh
# seqa — GPU machine check: builds the CUDA library, runs every CUDA test and every kernel
# benchmark on the GPU, writes JSON under bench/results/, all in < 8 minutes.
#
# Usage (repository root, on a machine with an NVIDIA GPU and nvcc):  sh bench/gpu.sh
# Exit status: 0 when every section passed; a CUDA test that SKIPs here counts as a failure
# (this script is only run where a GPU is present).
#
# Extending: write a section_NAME() function below (build targets, tests, benchmark, JSON) and add
# NAME to SECTIONS.  Helpers: need_build TARGET..., run_tests BIN FILTER, bench_median CMD...
set -u
cd "$(dirname "$0")/.." || exit 1
NVCC=${NVCC:-$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)}
export SEQA_CUDA_LIB=${SEQA_CUDA_LIB:-$PWD/build/libseqa_cuda.so}
RES=bench/results
LOG=${TMPDIR:-/tmp}/seqa-gpu.$$
mkdir -p "$RES" "$LOG"
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' ' '_')
GPU=${GPU:-unknown_gpu}
T0=$(date +%s)
fail=0
note() { echo "[gpu.sh +$(( $(date +%s) - T0 ))s] $*"; }

need_build() {   # make the given targets (no deps step: the machine is assumed provisioned)
	make -j"$(nproc)" NVCC="$NVCC" "$@" > "$LOG/build.log" 2>&1 || { tail -30 "$LOG/build.log"; return 1; }
}
run_tests() {    # BIN FILTER: run the unit tests whose names contain FILTER; skips are failures
	out=$(timeout 300 "$1" "$2" 2>&1); rc=$?
	echo "$out" | sed 's/^/    /'
	if echo "$out" | grep -q '^skip.*CUDA'; then note "CUDA tests skipped on a GPU machine: failure"; return 1; fi
	echo "$out" | grep -q '^ok' || return 1
	return $rc
}
# bench_median OUT_JSON_FRAGMENT_VAR CMD...: run CMD (prints --bench lines on stderr), median gcups
bench_median() {
	"$@" 2> "$LOG/bench.err" > /dev/null || { tail -5 "$LOG/bench.err"; return 1; }
	grep '^backend=' "$LOG/bench.err" | awk '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } g[NR] = v["gcups"]; s[NR] = v["seconds"]; be = v["backend"]; cells = v["cells"] }
		END { n = NR; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) { if (g[j] < g[i]) { t = g[i]; g[i] = g[j]; g[j] = t } if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t } }
		      m = n % 2 ? g[(n + 1) / 2] : (g[n / 2] + g[n / 2 + 1]) / 2; ms = n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
		      printf "{\"backend\": \"%s\", \"cells\": %s, \"runs\": %d, \"gcups_median\": %.2f, \"gcups_min\": %.2f, \"gcups_max\": %.2f, \"seconds_median\": %.6f}\n", be, cells, n, m, g[1], g[n], ms }'
}

# ---- pair-HMM (issue 4) ------------------------------------------------------------------------
section_pairhmm() {
	note "pairhmm: build"
	need_build seqa build/libseqa_cuda.so build/tests/test_pairhmm || return 1
	note "pairhmm: CUDA tests (GATK vectors, sweeps, modes/threads)"
	run_tests ./build/tests/test_pairhmm cuda || return 1
	note "pairhmm: CLI on the GATK file"
	G=${SEQA_SHARED:-../shared}/data/pairhmm/gatk-pairhmm-testdata.txt
	if [ -r "$G" ]; then ./seqa pairhmm -b cuda --check -n "$G" || return 1; else note "  ($G absent: CLI check skipped)"; fi
	note "pairhmm: benchmark (realistic workload, including host-device transfers)"
	r1=$(bench_median ./seqa pairhmm -b cuda --workload realistic --bench --repeat 7 -n) || return 1
	r10=$(bench_median ./seqa pairhmm -b cuda --workload realistic --reads 20000 --bench --repeat 5 -n) || return 1
	cpu=$(bench_median ./seqa pairhmm -b cpu --workload realistic --bench --repeat 3 -n) || cpu=null
	echo "    realistic: $r1"
	echo "    10x reads: $r10"
	cat > "$RES/pairhmm-cuda-$GPU.json.tmp" <<JSON
{
  "benchmark": "pairhmm-realistic", "gpu": "$GPU", "host": "$(hostname -s)",
  "commit": "$(git describe --always --dirty 2>/dev/null || echo unknown)", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "note": "seconds = wall time of sq_phmm_run including host-device transfers; device opened before timing",
  "realistic_2000x8": $r1,
  "realistic_20000x8": $r10,
  "cpu_same_machine_all_threads": $cpu,
  "required_gcups": 1000
}
JSON
	mv "$RES/pairhmm-cuda-$GPU.json.tmp" "$RES/pairhmm-cuda-$GPU.json"
	note "pairhmm: wrote $RES/pairhmm-cuda-$GPU.json"
	echo "$r1" | awk -F'"gcups_median": ' '{ split($2, a, ","); if (a[1] + 0 < 1000) { print "    below the 1,000 GCUPS requirement"; exit 1 } }'
}

# ---- alignment seeding (issue 3) ---------------------------------------------------------------
# CUDA seeding vs kernels/ref (test_smem), then seqa align --backend cuda on simulated 2x150 reads
# (COV_GPU x over the GRCh38 chr21 slice): reads/s, records identical to --backend cpu.
section_align() {
	note "align: build"
	need_build seqa build/libseqa_cuda.so build/tests/test_smem || return 1
	note "align: CUDA seeding vs kernels/ref"
	run_tests ./build/tests/test_smem cuda || return 1
	SRC=${SEQA_SHARED:-../shared}/data/human/GRCh38.chr21_1-10M.fa.gz
	[ -r "$SRC" ] || { note "  ($SRC absent: align benchmark skipped)"; return 0; }
	W=$LOG/align; mkdir -p $W
	zcat "$SRC" > $W/ref.fa && bwa index $W/ref.fa 2>/dev/null || return 1
	./seqa simulate -r $W/ref.fa -o $W/sim -c ${COV_GPU:-10} -t "$(nproc)" 2>/dev/null || return 1
	pairs=$(zcat $W/sim_R1.fq.gz | awk 'END {print NR / 4}')
	t=$(nproc)
	for be in cuda cpu; do
		/usr/bin/time -f "%e %M" -o $W/$be.time ./seqa align -r $W/ref.fa -1 $W/sim_R1.fq.gz -2 $W/sim_R2.fq.gz \
			-o $W/$be.bam -t $t --backend $be --json > $W/$be.json 2> $W/$be.log || { tail -5 $W/$be.log; return 1; }
	done
	same=$( [ "$(samtools view $W/cuda.bam | md5sum)" = "$(samtools view $W/cpu.bam | md5sum)" ] && echo true || echo false)
	dev=$(samtools view -H $W/cuda.bam | sed -n 's/.*device=\([^;	]*\).*/\1/p' | head -1)
	cw=$(cut -d' ' -f1 $W/cuda.time); pw=$(cut -d' ' -f1 $W/cpu.time)
	cseed=$(sed -n 's/.*"seed_s": \([0-9.]*\).*/\1/p' $W/cuda.json); pseed=$(sed -n 's/.*"seed_s": \([0-9.]*\).*/\1/p' $W/cpu.json)
	cat > "$RES/align-cuda-$GPU.json.tmp" <<JSON
{
  "benchmark": "align-seeding-cuda", "gpu": "$GPU", "host": "$(hostname -s)", "threads": $t, "pairs": $pairs,
  "commit": "$(git describe --always --dirty 2>/dev/null || echo unknown)", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cuda": {"device": "$dev", "wall_s": $cw, "reads_per_s": $(echo "$pairs $cw" | awk '{printf "%.0f", 2 * $1 / $2}'), "seeding_s": ${cseed:-null}},
  "cpu": {"wall_s": $pw, "reads_per_s": $(echo "$pairs $pw" | awk '{printf "%.0f", 2 * $1 / $2}'), "seeding_s": ${pseed:-null}},
  "records_identical_cuda_vs_cpu": $same
}
JSON
	mv "$RES/align-cuda-$GPU.json.tmp" "$RES/align-cuda-$GPU.json"
	note "align: wrote $RES/align-cuda-$GPU.json (identical records: $same)"
	[ "$same" = true ]
}

SECTIONS=${SECTIONS:-"pairhmm align"}
nvidia-smi -L 2>/dev/null || note "nvidia-smi not found"
for s in $SECTIONS; do
	if section_$s; then note "$s: PASS"; else note "$s: FAIL"; fail=1; fi
done
note "done in $(( $(date +%s) - T0 ))s"
rm -rf "$LOG"
exit $fail
