#!/bin/sh
# Run every libFuzzer harness (build-fuzz/fuzz_*, built by `make fuzz`) for FUZZ_SECONDS each on
# a working copy of its committed corpus (tests/fuzz/corpus/NAME/); FUZZ_ONLY="a b" limits the
# set.  Crashing inputs are saved under tests/fuzz/crashes/NAME/ (commit them, fix the bug, and
# move the input to tests/fuzz/regressions/NAME/ where tests/cli/fuzz_regress.sh replays it).
# New interesting inputs found are merged back into the corpus (-merge=1, so it stays small).
# Statistics (execs, exec/s, coverage, features, corpus size) are printed per harness and
# appended to tests/out/fuzz/stats.txt.  Exit 1 if any harness crashed.
cd "$(dirname "$0")/../.." || exit 1
S=${FUZZ_SECONDS:-60}
B=${FUZZ_BUILD:-build-fuzz}
W=tests/out/fuzz
mkdir -p "$W"
bad=0
for bin in "$B"/fuzz_*; do
	[ -x "$bin" ] || continue
	n=$(basename "$bin" | sed 's/^fuzz_//')
	if [ -n "$FUZZ_ONLY" ]; then case " $FUZZ_ONLY " in *" $n "*) ;; *) continue;; esac; fi
	c=tests/fuzz/corpus/$n
	mkdir -p "$c" "$W/$n/new" tests/fuzz/crashes/$n
	dict=; [ -f tests/fuzz/dict/$n.dict ] && dict=-dict=tests/fuzz/dict/$n.dict
	log=$W/$n.log
	echo "# fuzz_$n: $S s"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$bin" -max_total_time="$S" -timeout=20 -rss_limit_mb=2048 -max_len=${FUZZ_MAX_LEN:-65536} -print_final_stats=1 \
		-artifact_prefix=tests/fuzz/crashes/$n/ $dict "$W/$n/new" "$c" >"$log" 2>&1
	rc=$?
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
	eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
	line="fuzz_$n: ${S}s execs=${execs:-?} exec/s=${eps:-?} ${cov:-no coverage line} rc=$rc ($(date -u +%FT%TZ))"
	echo "$line" | tee -a "$W/stats.txt"
	if [ $rc -ne 0 ]; then
		bad=1
		echo "fuzz_$n FAILED (exit $rc): crash inputs in tests/fuzz/crashes/$n/, log $log"
		grep -E 'ERROR: |SUMMARY: |^    #[0-3] ' "$log" | head -20
	fi
	# keep the corpus small: merge what the run found into it
	if [ -n "$(ls "$W/$n/new" 2>/dev/null)" ]; then
		"$bin" -merge=1 -timeout=20 -max_len=${FUZZ_MAX_LEN:-65536} "$c" "$W/$n/new" >"$W/$n.merge.log" 2>&1 && rm -rf "$W/$n/new"
	fi
done
exit $bad
