#!/bin/sh
# `make check`, part 2: ThreadSanitizer on the threaded stages.  Builds seqa and test_util with
# -fsanitize=thread into build-tsan/ (its own folder), then runs: the thread pool / sq_for unit
# tests, ingest -t 2, align -t 2 and call -t 2 on a small simulated sample.  Any TSan report fails.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
B=build-tsan
make -s BUILD=$B OPT=-O1 SAN='-fsanitize=thread -fno-omit-frame-pointer' $B/seqa $B/tests/test_util >/dev/null || { t_fail "tsan build"; t_done; exit 1; }
R=$PWD/$B/tsan-reports; rm -rf "$R"; mkdir -p "$R"
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$R/tsan"
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
d=$(t_tmp tsan)
$B/tests/test_util >$d/test_util.log 2>&1; t_check "test_util (thread pool, sq_for) under TSan" [ $? -eq 0 ]
if [ -r "$src" ]; then
	cp "$src" $d/src.fa && samtools faidx $d/src.fa 17:420001-450000 | sed '1s/.*/>chr17s/' > $d/ref.fa
	./seqa index $d/ref.fa 2>/dev/null; ./seqa simulate -r $d/ref.fa -o $d/S -c 6 -s 3 2>/dev/null
	printf '{"samples":[{"id":"S1","pseudonym":"P1","indication":"RD-BONE","sex":"female","r1":"S_R1.fq.gz","r2":"S_R2.fq.gz"},{"id":"S2","pseudonym":"P2","indication":"RD-BONE","sex":"male","r1":"S_R1.fq.gz","r2":"S_R2.fq.gz"}]}' > $d/batch.json
	$B/seqa ingest -t 2 $d/batch.json >/dev/null 2>$d/ingest.log; t_check "ingest -t 2 under TSan" [ $? -le 3 ]
	$B/seqa align -t 2 -r $d/ref.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz -o $d/a.bam 2>$d/align.log; t_check "align -t 2 under TSan" [ $? -eq 0 ]
	$B/seqa call -t 2 -r $d/ref.fa -i $d/a.bam -o $d/c.vcf.gz -g $d/c.g.vcf.gz 2>$d/call.log; t_check "call -t 2 under TSan" [ $? -eq 0 ]
else
	t_skip "tsan: $src absent: only the unit tests ran"
fi
n=$(ls "$R" | wc -l)
for f in "$R"/*; do [ -e "$f" ] && { echo "## $f"; grep -E 'WARNING|SUMMARY|^    #[0-3] ' "$f" | head -12; }; done
t_check "no ThreadSanitizer report ($n)" [ "$n" -eq 0 ]
t_done
