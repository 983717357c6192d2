#!/bin/sh
# seqa — reference and simulator benchmark, same input for every contender:
#   seqa index REF            vs  bwa index REF                (same algorithm, same files)
#   seqa simulate -t 1 / -t T vs  dwgsim (Debian; writes plain FASTQ, no compression)
# Input: ../shared/data/human/GRCh38.chr21_1-10M.fa.gz (10 Mb, 3.69 Mb A/C/G/T), COV x 2x150.
# Prints wall/CPU/peak RSS and ratios; writes bench/results/simulate-HOST.json.
# Environment: THREADS (2), COV (30), WORK (bench/out/simulate), RUNS (1; median reported).
set -u
cd "$(dirname "$0")/.." || exit 1
THREADS=${THREADS:-2}; COV=${COV:-30}; RUNS=${RUNS:-1}
WORK=${WORK:-bench/out/simulate}
SHARED=${SEQA_SHARED:-../shared}
SRC=$SHARED/data/human/GRCh38.chr21_1-10M.fa.gz
RES=bench/results
HOST=$(hostname -s)
mkdir -p "$WORK" "$RES"
for t in bwa /usr/bin/time; do command -v $t >/dev/null || { echo "bench/simulate: $t not found" >&2; exit 1; }; done
[ -r "$SRC" ] || { echo "bench/simulate: $SRC absent" >&2; exit 1; }
[ -x ./seqa ] || { echo "bench/simulate: build seqa first (make)" >&2; exit 1; }
note() { echo "[bench/simulate] $*" >&2; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# bench TAG CMD...: RUNS runs under GNU time; sets TAG_wall TAG_cpu TAG_rss (medians)
bench() {
	tag=$1; shift
	: > $WORK/$tag.times
	for i in $(seq $RUNS); do
		/usr/bin/time -f "%e %U %S %M" -o $WORK/$tag.t "$@" >$WORK/$tag.log 2>&1 || { note "$tag failed"; tail -3 $WORK/$tag.log >&2; return 1; }
		tail -1 $WORK/$tag.t >> $WORK/$tag.times
	done
	eval ${tag}_wall=$(awk '{print $1}' $WORK/$tag.times | median)
	eval ${tag}_cpu=$(awk '{print $2 + $3}' $WORK/$tag.times | median)
	eval ${tag}_rss=$(awk '{print $4}' $WORK/$tag.times | median)
}
REF=$WORK/chr21.fa
zcat "$SRC" > $REF || exit 1
cp $REF $WORK/chr21b.fa

note "index: seqa vs bwa"
bench sidx sh -c "./seqa index --force $REF" || exit 1
bench bidx bwa index $WORK/chr21b.fa || exit 1
same=1; for e in bwt pac ann amb sa; do cmp -s $REF.$e $WORK/chr21b.fa.$e || same=0; done

note "simulate ${COV}x: seqa -t 1, seqa -t $THREADS, dwgsim"
bench sim1 ./seqa simulate -r $REF -o $WORK/s1 -c $COV -t 1 || exit 1
bench simT ./seqa simulate -r $REF -o $WORK/sT -c $COV -t $THREADS || exit 1
PAIRS=$(sed -n 's/.* \([0-9]*\) read pairs of.*/\1/p' $WORK/simT.log)
DW=0
if command -v dwgsim >/dev/null; then
	bench dwg dwgsim -z 11 -N $PAIRS -1 150 -2 150 -r 0.0012 -R 0.12 -X 0.4 -y 0 $REF $WORK/dw && DW=1
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-28s %8s %8s %10s\n' "contender" "wall_s" "cpu_s" "rss_kb"
printf '%-28s %8s %8s %10s\n' "seqa index" $sidx_wall $sidx_cpu $sidx_rss
printf '%-28s %8s %8s %10s\n' "bwa index" $bidx_wall $bidx_cpu $bidx_rss
printf '%-28s %8s %8s %10s\n' "seqa simulate -t 1" $sim1_wall $sim1_cpu $sim1_rss
printf '%-28s %8s %8s %10s\n' "seqa simulate -t $THREADS" $simT_wall $simT_cpu $simT_rss
[ $DW -eq 1 ] && printf '%-28s %8s %8s %10s\n' "dwgsim (plain FASTQ)" $dwg_wall $dwg_cpu $dwg_rss
echo "index files identical to bwa index: $same; seqa/bwa index wall ratio $(ratio $sidx_wall $bidx_wall)"
echo "simulate: $PAIRS pairs, $(awk -v p=$PAIRS -v w=$simT_wall 'BEGIN{printf "%.0f", p / w}') pairs/s at -t $THREADS"
[ $DW -eq 1 ] && echo "seqa simulate -t $THREADS / dwgsim wall ratio $(ratio $simT_wall $dwg_wall)"
cat > $RES/simulate-$HOST.json <<JSON
{
  "host": "$HOST", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "threads": $THREADS, "coverage": $COV, "pairs": $PAIRS,
  "index": { "seqa": { "wall_s": $sidx_wall, "cpu_s": $sidx_cpu, "rss_kb": $sidx_rss },
             "bwa": { "wall_s": $bidx_wall, "cpu_s": $bidx_cpu, "rss_kb": $bidx_rss }, "identical": $same },
  "simulate": { "seqa_t1": { "wall_s": $sim1_wall, "cpu_s": $sim1_cpu, "rss_kb": $sim1_rss },
                "seqa_t$THREADS": { "wall_s": $simT_wall, "cpu_s": $simT_cpu, "rss_kb": $simT_rss }$( [ $DW -eq 1 ] && echo ",
                \"dwgsim\": { \"wall_s\": $dwg_wall, \"cpu_s\": $dwg_cpu, \"rss_kb\": $dwg_rss, \"note\": \"plain FASTQ, no compression\" }") }
}
JSON
note "wrote $RES/simulate-$HOST.json"
