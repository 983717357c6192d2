#!/bin/sh
# `make check`, part 3: valgrind memcheck of `seqa run` (the normal build, ./seqa) on a small
# simulated sample, -t 2: zero errors and no definite leaks (--errors-for-leak-kinds=definite).
# SEQA_CPU_ISA=avx2 keeps the pair-HMM off AVX-512, which valgrind does not emulate.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if ! command -v valgrind >/dev/null || [ ! -r "$src" ]; then t_skip "valgrind or $src absent"; t_done; exit 0; fi
d=$(t_tmp valgrind_run)
cp "$src" $d/src.fa && samtools faidx $d/src.fa 17:420001-450000 | sed '1s/.*/>chr17s/' > $d/ref.fa
$SEQA index $d/ref.fa 2>/dev/null; $SEQA simulate -r $d/ref.fa -o $d/S -c 5 -s 3 2>/dev/null
SEQA_CPU_ISA=avx2 valgrind --tool=memcheck --suppressions=tests/fault/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
	--track-origins=no --log-file=$d/vg.log $SEQA run -r $d/ref.fa -1 $d/S_R1.fq.gz -2 $d/S_R2.fq.gz --sample S1 \
	--pseudonym PSN-1 --indication RD-BONE --sex female --qc-profile scripts/demo-qc-profile.json -t 2 -o $d/out 2>$d/run.log
rc=$?
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost' $d/vg.log | sed 's/^/# /'
t_check "seqa run under valgrind: exit 0 or 7 (gate), not 99 (errors/definite leaks): $rc" [ $rc -eq 0 -o $rc -eq 7 ]
grep -q 'ERROR SUMMARY: 0 errors' $d/vg.log && t_ok "valgrind: 0 errors" || t_fail "valgrind errors (see $d/vg.log)"
t_done
