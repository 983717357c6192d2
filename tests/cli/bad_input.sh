#!/bin/sh
# Bad-input corpus: every file of tests/bad-input/ listed in tests/bad-input/INDEX is given to
# the command its line names; the test checks the exit code, that stderr contains the expected
# message fragment, that nothing crashed (no signal, no sanitizer report), and that no output that
# looks complete is left (the outputs the line lists, and no temporaries anywhere in the scratch
# folder).  INDEX lines:  NAME|EXIT|MESSAGE FRAGMENT|OUTPUTS THAT MUST NOT EXIST|COMMAND
# COMMAND is run by sh with $F (the bad file), $O (an empty scratch folder), good fixtures $REF
# (indexed reference), $R1 $R2 (FASTQ), $BAM, $VCF, $PROF (QC profile), $SK $PK (keys) and the
# helper `batch R1 R2 > FILE` (a one-sample JSON batch).  BAD_INPUT_SHOW=1 prints what each
# command said (to write new lines).
. tests/lib.sh
src=$SHARED/data/human/human_g1k_v37.chr17_1Mb.fasta
if [ ! -r "$src" ]; then t_skip "bad_input: $src absent"; t_done; exit 0; fi
T=$(t_tmp bad_input)
# private copies of the binaries under test (the shared tree's ./seqa may be relinked meanwhile)
SI=${SEQA_INBOX:-$(dirname "$SEQA")/seqa-inbox}
cp "$SEQA" $T/seqa && SEQA=$PWD/$T/seqa && $SEQA --version >/dev/null || { t_fail "bad_input: copy of $SEQA"; t_done; exit 1; }
[ -x "$SI" ] && cp "$SI" $T/seqa-inbox
export SEQA
# good fixtures
samtools faidx "$src" 17:420001-450000 | sed '1s/.*/>chr17s/' > $T/ref.fa
$SEQA index $T/ref.fa 2>/dev/null && $SEQA simulate -r $T/ref.fa -o $T/S -c 3 -s 3 2>/dev/null \
	&& $SEQA align -r $T/ref.fa -1 $T/S_R1.fq.gz -2 $T/S_R2.fq.gz -o $T/good.bam 2>/dev/null \
	&& $SEQA call -r $T/ref.fa -i $T/good.bam -o $T/good.vcf.gz 2>/dev/null \
	&& $SEQA outbox keygen --sign $T/sign.sk $T/sign.pk 2>/dev/null && $SEQA outbox keygen --c4gh $T/c4gh.sk $T/c4gh.pk 2>/dev/null \
	|| { t_fail "bad_input: fixtures"; t_done; exit 1; }
export REF=$PWD/$T/ref.fa R1=$PWD/$T/S_R1.fq.gz R2=$PWD/$T/S_R2.fq.gz BAM=$PWD/$T/good.bam VCF=$PWD/$T/good.vcf.gz \
	PROF=$PWD/scripts/demo-qc-profile.json SK=$PWD/$T/sign.sk PK=$PWD/$T/sign.pk CPK=$PWD/$T/c4gh.pk CSK=$PWD/$T/c4gh.sk
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$PWD/$T/asan" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$PWD/$T/ubsan"
n=0; files=0
while IFS='|' read -r name want msg outs cmd; do
	case "$name" in ''|'#'*) continue;; esac
	n=$((n + 1))
	O=$PWD/$T/o.$n; mkdir -p $O
	F=$PWD/tests/bad-input/$name
	[ -e "$F" ] && files=$((files + 1))
	rm -f $PWD/$T/asan.* $PWD/$T/ubsan.*
	( cd $O && F=$F O=$O timeout 120 sh -c "batch() { printf '{\"samples\":[{\"id\":\"S1\",\"pseudonym\":\"P1\",\"indication\":\"RD-BONE\",\"sex\":\"female\",\"r1\":\"%s\",\"r2\":\"%s\"}]}' \"\$1\" \"\$2\"; }; $cmd" ) >$O.out 2>$O.err
	rc=$?
	why=
	[ "$rc" -eq "$want" ] || why="exit $rc, want $want;"
	[ $rc -ge 124 ] && why="$why crashed/hung;"
	grep -qF -- "$msg" $O.err $O.out || why="$why message '$msg' missing;"
	for f in $outs; do [ -e "$O/$f" ] && why="$why left $f;"; done
	left=$(find $O -name '*.tmp*' | head -3); [ -n "$left" ] && why="$why temporaries left: $left;"
	ls $PWD/$T/asan.* $PWD/$T/ubsan.* >/dev/null 2>&1 && why="$why sanitizer report;"
	if [ -n "$BAD_INPUT_SHOW" ]; then echo "## $name: exit $rc"; grep -v '^\[M::\|^\[I::' $O.err | head -4; fi
	if [ -z "$why" ]; then t_ok "$name: exit $want, '$msg'"; else t_fail "$name: $why $(grep -v '^\[M::\|^\[I::' $O.err | head -2 | tr '\n' ' ')"; fi
done < tests/bad-input/INDEX
echo "# $n bad inputs checked ($files corpus files)"
t_check "corpus has at least 40 bad inputs ($n)" [ $n -ge 40 ]
t_done
