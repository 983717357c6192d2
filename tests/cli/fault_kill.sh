#!/bin/sh
# kill -9 of `seqa run` at exact points, then a rerun: outputs identical to an uninterrupted run.
# The points come from a traced reference run (tests/fault/shim.c, SEQA_FAULT_TRACE): every
# durable rename of the run (each output file and each stage record OUTDIR/.seqa/stage-*.json,
# i.e. every stage boundary), killed just before and just after it, and the first write into
# every output file (a kill inside the stage that writes it) plus later writes of the BAM.
# SEQA_FAULT_FULL=1 runs every point; by default (make test) a sample: the stage boundaries
# (after each stage record), before the first output's rename and a kill inside align and call.
# After each kill: rerun exits 0, BAM/VCF/gVCF/indexes/JSON byte-identical to the reference
# (qc.json apart from its creation time), run.json complete, no temporary file left.
. tests/lib.sh
. tests/cli/fault_common.inc
fault_need fault_kill
fault_data fault_kill 17:300001-400000 10
run() {   # run OUTDIR [env...]: the same command line every time (it is recorded in the outputs)
	o=$1; shift
	env "$@" $SEQA run -r $d/ref.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 --pseudonym PSN-1 --indication RD-BONE \
		--sex female --qc-profile scripts/demo-qc-profile.json -t 2 -o $o
}
K=$d/k
# exit 0, or 7: the demo gate fails on 10x of 100 kb (outputs complete, kept; no delivery)
ok_rc() { [ "$1" -eq 0 ] || [ "$1" -eq 7 ]; }
run $K SEQA_FAULT_TRACE=1 SEQA_FAULT_LOG=$PWD/$d/trace LD_PRELOAD=$SHIM 2>$d/ref.log; rc=$?
ok_rc $rc || { t_fail "fault_kill: reference run failed: $(tail -3 $d/ref.log)"; t_done; exit 1; }
mkdir -p $d/ref && cp $K/* $d/ref/ && cp -r $K/.seqa $d/ref/
FILES="S1.bam S1.bam.bai S1.markdup.json S1.vcf.gz S1.vcf.gz.tbi S1.g.vcf.gz S1.g.vcf.gz.tbi PSN-1.seqa_mqc.json ingest.json"   # MultiQC files are named by the pseudonym
same_outputs() {   # same_outputs DIR: why not, on stdout; nothing if identical
	for f in $FILES; do cmp -s $1/$f $d/ref/$f || echo "$f differs"; done
	python3 - "$1/qc.json" "$d/ref/qc.json" <<'PY' || echo "qc.json differs"
import json, sys
def load(p):
    j = json.load(open(p)); j.pop("created", None); return j
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
	grep -q '"status": "complete"' $1/run.json 2>/dev/null || echo "run.json not complete"
	find $1 -name '*.tmp*' | grep -q . && echo "temporary files left: $(find $1 -name '*.tmp*' | head -3)"
}

# injection points: "KILL_SPEC|label"
grep '^rename ' $d/trace | sed 's/^rename //' > $d/renames
n_ren=$(wc -l < $d/renames)
t_check "reference run traced $n_ren durable renames (stage records among them)" [ "$n_ren" -ge 10 ]
: > $d/points
i=0
while read -r p; do
	i=$((i + 1)); b=$(basename "$p")
	case "$p" in */.seqa/stage-*) kind=boundary;; *) kind=output;; esac
	echo "rename:*:$i:before|$kind before rename $i ($b)" >> $d/points
	echo "rename:*:$i|$kind after rename $i ($b)" >> $d/points
done < $d/renames
grep '^path ' $d/trace | sed 's/^path //' | grep '\.tmp\.' | while read -r p; do
	b=$(basename "$p" | sed 's/\.tmp\.[0-9]*//')
	echo "write:*/$(basename "$p" | sed 's/\.tmp\.[0-9]*/.tmp.*/'):1|inside first write of $b" >> $d/points
done
echo "write:*/S1.bam.tmp.*:2|inside write 2 of S1.bam" >> $d/points
if [ -z "$SEQA_FAULT_FULL" ]; then   # the sample run by make test
	grep -E 'after rename [0-9]+ \(stage-|before rename 1 |first write of S1\.bam$|first write of S1\.vcf\.gz\.gz$' $d/points > $d/points.s
	mv $d/points.s $d/points
fi
n_pts=$(wc -l < $d/points)
n_bound=$(grep -c '|boundary' $d/points); n_in=$(grep -c '|inside' $d/points)
bad=0; killed=0; missed=0
while IFS='|' read -r spec label; do
	rm -rf $K
	run $K SEQA_KILL_ON="$spec" LD_PRELOAD=$SHIM >/dev/null 2>&1; rc=$?
	if [ $rc -ne 137 ]; then missed=$((missed + 1)); echo "# $label: not reached (exit $rc)"; ok_rc $rc && continue; fi
	killed=$((killed + 1))
	run $K >/dev/null 2>$d/rerun.log; rc=$?
	why=$(same_outputs $K)
	if ! ok_rc $rc || [ -n "$why" ]; then
		bad=$((bad + 1)); echo "# $label: rerun exit $rc; $why"; tail -3 $d/rerun.log
		rm -rf $d/fail.$bad; cp -r $K $d/fail.$bad
	fi
done < $d/points
echo "# kill -9 injection points: $n_pts ($n_bound at stage boundaries, $n_in inside stages, the rest around output commits); killed $killed, not reached $missed${SEQA_FAULT_FULL:+ (full sweep)}"
t_check "kill -9 at $killed points then rerun: identical outputs (failures: $bad)" [ $bad -eq 0 ]
t_check "every kill point reached ($missed missed)" [ $missed -eq 0 ]
t_check "every stage boundary covered ($n_bound >= 4)" [ $n_bound -ge 4 ]
t_done
