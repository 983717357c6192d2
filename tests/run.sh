#!/bin/sh
# Run every test program (build/tests/test_*, build/firmware/*/*_csim) and shell test
# (tests/cli/*.sh); each prints "N passed, N failed, N skipped" as its last line.  This prints
# the sums as the last line and exits non-zero if anything failed or crashed.
BUILD=${BUILD:-build}
export SEQA=${SEQA:-./seqa}
mkdir -p tests/out
# ../shared is read-only test data.  Tools make index files beside the files they read
# (samtools faidx, bcftools -f, htslib on a .gz): so every test reads a private copy (a few MB),
# and any file that still appears in the original fails the run.
SHARED_DIR=${SEQA_SHARED:-../shared}
if [ -d "$SHARED_DIR/data" ]; then
	find "$SHARED_DIR/" -type f | sort > tests/out/.shared-before
	rm -rf tests/out/shared && mkdir -p tests/out/shared && cp -R "$SHARED_DIR/data" tests/out/shared/ \
		&& chmod -R u+w tests/out/shared && SEQA_SHARED=$(pwd)/tests/out/shared && export SEQA_SHARED
fi
P=0; F=0; S=0; bad=""
for t in $BUILD/tests/test_* $BUILD/firmware/*/*_csim tests/cli/*.sh; do
	[ -e "$t" ] || continue
	case "$t" in *.d|*.o) continue;; esac
	echo "# $t"
	log=tests/out/$(basename "$t").log
	t0=$(date +%s)
	case "$t" in
	*.sh) sh "$t" >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	grep -E '^(ok|not ok|skip) - |FAIL' "$log"
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$last" ]; then
		echo "not ok - $t exited $rc without a summary (see $log)"; tail -n 5 "$log"
		F=$((F + 1)); bad="$bad $t"; continue
	fi
	p=$(echo "$last" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$last" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$last" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p'); s=${s:-0}
	P=$((P + p)); F=$((F + f)); S=$((S + s))
	[ "$f" -gt 0 ] || [ "$rc" -ne 0 ] && { bad="$bad $t"; [ "$f" -eq 0 ] && F=$((F + 1)); }
	echo "#   $last ($(($(date +%s) - t0)) s)"
done
if [ -f tests/out/.shared-before ]; then
	find "$SHARED_DIR/" -type f | sort > tests/out/.shared-after
	new=$(comm -13 tests/out/.shared-before tests/out/.shared-after)
	if [ -n "$new" ]; then
		echo "not ok - tests wrote into $SHARED_DIR (read-only test data): $new"
		F=$((F + 1)); bad="$bad (writes-into-shared)"
		echo "$new" | while read -r f; do rm -f "$f"; done
	fi
fi
[ -n "$bad" ] && echo "# failing:$bad (logs in tests/out/)"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
