#!/bin/sh
# Write failures on every output file of `seqa run` (tests/fault/shim.c, SEQA_FAIL_IO): ENOSPC on
# write, EIO on fsync, EIO on close and EIO on the rename that commits the file.  The output
# files are the durable renames of a traced reference run (each result file and each stage
# record).  For each injection: exit 5 (cannot write output), a message naming the cause on
# stderr, the file not present under its final name, no temporary left; with SEQA_FAULT_FULL=1
# also a fault-free rerun that must give outputs identical to the reference.  By default (make
# test) ENOSPC is injected on every file and the other three errors on the BAM, the VCF, qc.json
# and each stage record; SEQA_FAULT_FULL=1 injects all four on every file.
. tests/lib.sh
. tests/cli/fault_common.inc
fault_need fault_io
fault_data fault_io 17:420001-460000 6
run() {
	o=$1; shift
	env "$@" $SEQA run -r $d/ref.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 --pseudonym PSN-1 --indication RD-BONE \
		--sex female --qc-profile scripts/demo-qc-profile.json -t 2 -o $o
}
ok_rc() { [ "$1" -eq 0 ] || [ "$1" -eq 7 ]; }   # 7: the demo gate may fail on this small sample
K=$d/k
run $K SEQA_FAULT_TRACE=1 SEQA_FAULT_LOG=$PWD/$d/trace LD_PRELOAD=$SHIM 2>$d/ref.log; rc=$?
ok_rc $rc || { t_fail "fault_io: reference run (exit $rc)"; t_done; exit 1; }
mkdir -p $d/ref && cp $K/* $d/ref/
grep '^rename ' $d/trace | sed 's/^rename //' > $d/files
t_check "reference run commits $(wc -l < $d/files) files durably" [ "$(wc -l < $d/files)" -ge 10 ]
: > $d/points
# the temporary each final file is written under (NAME.tmp.PID, or NAME.tmp.PID.gz[.tbi] for
# the VCF writers), as a glob
grep '^path ' $d/trace | sed 's/^path //' | grep '\.tmp\.' > $d/tmps
tmp_glob() {   # tmp_glob FINAL_BASENAME
	t=$(while read -r x; do y=$(basename "$x"); z=$(echo "$y" | sed -E 's/\.tmp\.[0-9]+//; s/\.gz\.gz(\.tbi)?$/.gz\1/')
		[ "$z" = "$1" ] && echo "$y" | sed -E 's/\.tmp\.[0-9]+/.tmp.*/' && break; done < $d/tmps)
	echo "*/${t:-$1.tmp.*}"
}
while read -r p; do
	b=$(basename "$p")
	for op in write:ENOSPC fsync:EIO close:EIO rename:EIO; do
		case $op in rename:*) pat="*/$b";; *) pat=$(tmp_glob "$b");; esac
		if [ -z "$SEQA_FAULT_FULL" ] && [ $op != write:ENOSPC ]; then
			case "$b" in S1.bam|S1.vcf.gz|qc.json|stage-*) ;; *) continue;; esac
		fi
		echo "$op:$pat|$b" >> $d/points
	done
done < $d/files
n=0; bad=0; noinj=0
while IFS='|' read -r spec b; do
	n=$((n + 1)); rm -rf $K; rm -f $d/flog
	run $K SEQA_FAIL_IO="$spec" SEQA_FAULT_LOG=$PWD/$d/flog LD_PRELOAD=$SHIM >/dev/null 2>$d/err; rc=$?
	why=
	if ! grep -q '^inject' $d/flog 2>/dev/null; then
		noinj=$((noinj + 1)); echo "# $spec: never injected (the file is written otherwise: exit $rc)"; continue
	fi
	[ $rc -eq 5 ] || why="exit $rc, want 5;"
	grep -qiE 'No space left|Input/output error|cannot write|failed' $d/err || why="$why no message;"
	final=$(grep -F "/$b" $d/files | head -1)
	case "$final" in */.seqa/*) f=$K/.seqa/$b;; *) f=$K/$b;; esac
	[ -e "$f" ] && ! cmp -s "$f" $d/ref/$b && why="$why $b left under its final name;"
	t=$(find $K -name '*.tmp*' 2>/dev/null | head -2); [ -n "$t" ] && why="$why temporaries left: $t;"
	if [ -n "$SEQA_FAULT_FULL" ] && [ -z "$why" ]; then
		run $K >/dev/null 2>&1; rc=$?
		ok_rc $rc && for x in S1.bam S1.vcf.gz S1.g.vcf.gz ingest.json; do cmp -s $K/$x $d/ref/$x || why="$why rerun: $x differs;"; done
		ok_rc $rc || why="$why rerun exit $rc;"
	fi
	if [ -n "$why" ]; then bad=$((bad + 1)); echo "# $spec ($b): $why"; grep -v '^\[[MI]::' $d/err | tail -2 | sed 's/^/#   /'; fi
done < $d/points
echo "# write-failure injection points: $n ($noinj never reached)${SEQA_FAULT_FULL:+, full sweep with reruns}"
t_check "write failures on $n points: exit 5, message, no partial output ($bad bad)" [ $bad -eq 0 ]
t_done
