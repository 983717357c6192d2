#!/bin/sh
# Replays every committed fuzz input (tests/fuzz/corpus/NAME/ and the crash regressions
# tests/fuzz/regressions/NAME/) through its harness built without libFuzzer
# (build/fuzz-replay/fuzz_NAME, see tests/fuzz/replay_main.c): no crash, no sanitizer report
# under `make check`.  The harnesses abort on their own consistency checks.
. tests/lib.sh
B=${BUILD:-build}/fuzz-replay
nin=0
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename $h .c | sed 's/^fuzz_//')
	[ $name = inbox ] && continue   # needs seqa-inbox internals: replayed by make fuzz only
	bin=$B/fuzz_$name
	if [ ! -x $bin ]; then t_fail "fuzz_$name replay binary missing ($bin: make test builds it)"; continue; fi
	dirs=; for x in tests/fuzz/corpus/$name tests/fuzz/regressions/$name; do [ -d $x ] && dirs="$dirs $x"; done
	out=$($bin $dirs 2>tests/out/fuzz_replay_$name.err); rc=$?
	nin=$((nin + $(echo "$out" | sed -n 's/ inputs replayed//p')))
	t_check "fuzz_$name: $(echo "$out" | tail -1) (corpus + regressions), exit $rc" [ $rc -eq 0 ]
done
echo "# $nin fuzz inputs replayed"
t_done
