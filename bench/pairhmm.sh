#!/bin/sh
# seqa — pair-HMM benchmark: GCUPS per backend, single thread (pinned) and all threads, on the
# realistic region workload generated with a fixed seed by `seqa pairhmm --workload realistic`
# (drivers/phmm_io.c sq_phmm_set_realistic: 2,000 reads of 151 bp x 8 haplotypes of 350 bp, reads
# sampled from the haplotypes with ~1% substitutions and occasional 1-5 bp indels, base quals
# 20-40, indel quals 45, gcp 10, seed 1; 845.6 M cells).  `--write-workload FILE` dumps it in
# the GATK test format for peer tools.
#
# Each figure is the median of RUNS runs (default 5) of the batch alone (the workload is
# generated and the device opened before timing; device transfers are inside the time).  Also
# reported: GCUPS per CPU second of the process (robust when other processes share the core,
# as on a shared build machine).  Results: bench/results/pairhmm-<host>.json.
#
# Usage: sh bench/pairhmm.sh [--quick]      (SEQA=path/to/seqa, RUNS=n, PIN_CPU=n, OUT=file)
set -u
SEQA=${SEQA:-./seqa}
RUNS=${RUNS:-5}
PIN=${PIN_CPU:-1}
QUICK=0; [ "${1:-}" = "--quick" ] && QUICK=1 && RUNS=${RUNS_QUICK:-3}
NCPU=$(nproc)
HOST=$(hostname -s 2>/dev/null || echo host)
OUT=${OUT:-bench/results/pairhmm-$HOST.json}
TMP=${TMPDIR:-/tmp}/seqa-bench-phmm.$$
mkdir -p "$TMP" "$(dirname "$OUT")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$SEQA" ] || { echo "bench/pairhmm.sh: $SEQA not built (run make)" >&2; exit 1; }
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')

# run NAME ENV THREADS PIN(yes/no) EXTRA...: RUNS runs, median wall GCUPS and CPU-time GCUPS
results=""
run() {
	name=$1 envs=$2 th=$3 pin=$4; shift 4
	pre=""; [ "$pin" = yes ] && command -v taskset >/dev/null && pre="taskset -c $PIN"
	env $envs $pre "$SEQA" pairhmm --workload realistic "$@" -t "$th" --bench --repeat "$RUNS" -n \
		2> "$TMP/$name.err" || { echo "  $name: failed: $(tail -2 "$TMP/$name.err")"; return 0; }
	grep '^backend=' "$TMP/$name.err" > "$TMP/$name.lines"
	[ -s "$TMP/$name.lines" ] || { echo "  $name: no result"; return 0; }
	line=$(awk '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } 
		  g[NR] = v["gcups"]; c[NR] = v["cpu_seconds"] > 0 ? v["cells"] / v["cpu_seconds"] / 1e9 : 0; be = v["backend"]; cells = v["cells"] }
		function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		                                 return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		END { n = NR; mn = g[1]; mx = g[1]; for (i = 1; i <= n; i++) { if (g[i] < mn) mn = g[i]; if (g[i] > mx) mx = g[i] }
		      printf "%s %s %.4f %.4f %.4f %.4f %d\n", be, cells, med(g, n), mn, mx, med(c, n), n }' "$TMP/$name.lines")
	set -- $line
	printf '  %-16s %-58s threads=%-3s median %7.3f GCUPS (min %.3f max %.3f, %d runs); per CPU-second %.3f\n' \
		"$name" "$1" "$th" "$3" "$4" "$5" "$7" "$6"
	results="$results${results:+,
}    {\"name\": \"$name\", \"backend\": \"$1\", \"threads\": $th, \"pinned\": $( [ "$pin" = yes ] && echo true || echo false ), \"cells\": $2, \"runs\": $7, \"gcups_median\": $3, \"gcups_min\": $4, \"gcups_max\": $5, \"gcups_per_cpu_second_median\": $6}"
}

echo "pair-HMM realistic workload (2,000 x 151 bp reads x 8 x 350 bp haplotypes, seed 1) on $CPU_MODEL, $NCPU CPUs"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run avx512-1t "SEQA_CPU_ISA=avx512" 1 yes -b cpu
run avx2-1t "SEQA_CPU_ISA=avx2" 1 yes -b cpu
run scalar-1t "SEQA_CPU_ISA=scalar" 1 yes -b cpu
run avx512-all "SEQA_CPU_ISA=avx512" "$NCPU" no -b cpu
run avx2-all "SEQA_CPU_ISA=avx2" "$NCPU" no -b cpu
if [ $QUICK = 0 ]; then
	run scalar-all "SEQA_CPU_ISA=scalar" "$NCPU" no -b cpu
	# OpenCL on the CPU device (PoCL here): the float16 kernel variant; first run includes PoCL's
	# lazy kernel compilation (the median drops it)
	run opencl-1t "POCL_MAX_PTHREAD_COUNT=1" 1 yes -b opencl
	run opencl-all "X=1" "$NCPU" no -b opencl
	# the one-pair-per-work-item kernel that GPUs get, on the same CPU device, for scale
	run opencl-gpukernel-all "SEQA_OPENCL_VEC=1" "$NCPU" no -b opencl --reads 200
	# the double-precision reference: a 1/10 slice (200 reads x 8 haplotypes)
	run ref-1t "X=1" 1 yes -b ref --reads 200
fi
if "$SEQA" pairhmm -b cuda --workload realistic --reads 16 -n 2>/dev/null; then
	run cuda "X=1" "$NCPU" no -b cuda
fi
# On a shared machine the pinned core is rarely quiet: QUIET_SETS=N repeats the AVX-512 single
# thread measurement N times (a median of RUNS runs each, QUIET_SLEEP seconds apart) and reports
# every set's median and the best one, i.e. the median of 5 runs in the quietest window seen.
quiet=""
if [ "${QUIET_SETS:-0}" -gt 0 ]; then
	sets=""
	i=0
	while [ $i -lt "$QUIET_SETS" ]; do
		pre=""; command -v taskset >/dev/null && pre="taskset -c $PIN"
		m=$(env SEQA_CPU_ISA=avx512 $pre "$SEQA" pairhmm --workload realistic -b cpu -t 1 --bench --repeat "$RUNS" -n 2>&1 |
			awk -F'gcups=' '/^backend=/ { split($2, a, " "); g[++n] = a[1] }
				END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (g[j] < g[i]) { t = g[i]; g[i] = g[j]; g[j] = t }
				      printf "%.4f", n % 2 ? g[(n + 1) / 2] : (g[n / 2] + g[n / 2 + 1]) / 2 }')
		sets="$sets${sets:+, }$m"
		i=$((i + 1))
		[ $i -lt "$QUIET_SETS" ] && sleep "${QUIET_SLEEP:-10}"
	done
	best=$(echo "$sets" | tr ',' '\n' | sort -g | tail -1 | tr -d ' ')
	echo "  avx512-1t quiet: medians of $RUNS pinned runs in $QUIET_SETS windows: $sets; best $best GCUPS"
	quiet=",
  \"avx512_1t_quiet_windows\": {\"runs_per_set\": $RUNS, \"set_medians\": [$sets], \"best_set_median_gcups\": $best}"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
{
	echo "{"
	echo "  \"benchmark\": \"pairhmm-realistic\","
	echo "  \"workload\": \"seqa pairhmm --workload realistic --seed 1 (2000 reads x 151 bp, 8 haplotypes x 350 bp; opencl-gpukernel/ref rows: --reads 200)\","
	echo "  \"host\": \"$HOST\", \"cpu\": \"$CPU_MODEL\", \"ncpu\": $NCPU,"
	echo "  \"seqa\": \"$("$SEQA" --version | head -1)\", \"commit\": \"$(git describe --always --dirty 2>/dev/null || echo unknown)\","
	echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
	echo "  \"results\": ["
	echo "$results"
	echo "  ]$quiet"
	echo "}"
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
