#!/bin/sh
# `make check`, part 1: the test suite against the ASan+UBSan build (BUILD=build-san,
# SEQA=build-san/seqa).  Sanitizer reports go to files (log_path) so that a report in a command
# whose failure a test expects is still caught: any report file fails the check.
# CHECK_TESTS="test_util tests/cli/ingest.sh ..." runs only those (CI's reduced set).
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build-san}
export BUILD SEQA=${SEQA:-$BUILD/seqa} SEQA_INBOX=${SEQA_INBOX:-$BUILD/seqa-inbox}
R=$PWD/$BUILD/san-reports
rm -rf "$R"; mkdir -p "$R"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:log_path=$R/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:log_path=$R/ubsan"
# tests that run `make` themselves (serve_lint: make install) must build the normal tree, not
# build-san/ (BUILD is in the environment for tests/run.sh): a command-line override for sub-makes
export MAKEFLAGS="BUILD=build"
t0=$(date +%s)
if [ -z "$CHECK_TESTS" ]; then
	sh tests/run.sh; rc=$?
else
	P=0; F=0; S=0; rc=0
	# read a private copy of ../shared (tools write index files beside what they read; see tests/run.sh)
	SD=${SEQA_SHARED:-../shared}
	if [ -d "$SD/data" ]; then
		rm -rf tests/out/san-shared && mkdir -p tests/out/san-shared && cp -R "$SD/data" tests/out/san-shared/ \
			&& chmod -R u+w tests/out/san-shared && SEQA_SHARED=$PWD/tests/out/san-shared && export SEQA_SHARED
	fi
	for t in $CHECK_TESTS; do
		case "$t" in test_*) t=$BUILD/tests/$t;; esac
		log=tests/out/san-$(basename "$t").log
		case "$t" in *.sh) sh "$t" >"$log" 2>&1;; *) "$t" >"$log" 2>&1;; esac
		r=$?
		last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		echo "# $t: ${last:-no summary} (exit $r)"
		grep -E '^not ok' "$log"
		[ $r -ne 0 ] || [ -z "$last" ] && rc=1
	done
fi
n=$(ls "$R" | wc -l)
echo "# sanitizer suite: $(($(date +%s) - t0)) s, $n report file(s) in $R"
for f in "$R"/*; do
	[ -e "$f" ] || continue
	echo "## $f"; grep -E 'ERROR|runtime error|SUMMARY|^    #[0-4] ' "$f" | head -12
done
[ $rc -eq 0 ] && [ "$n" -eq 0 ]
