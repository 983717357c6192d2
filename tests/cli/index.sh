#!/bin/sh
# seqa index through the CLI: exit codes, messages, outputs identical to `bwa index`, reuse.
. tests/lib.sh
d=$(t_tmp index_cli)
q=$SHARED/data/tiny_chr22/q.fa

$SEQA index >/dev/null 2>&1; t_check "no FASTA: usage error (2)" [ $? -eq 2 ]
$SEQA index -a nope x.fa >/dev/null 2>&1; t_check "bad -a: usage error (2)" [ $? -eq 2 ]
msg=$($SEQA index $d/missing.fa 2>&1); rc=$?
[ $rc -eq 4 ] && echo "$msg" | grep -q "cannot open reference '$d/missing.fa'" && t_ok "missing FASTA: exit 4, names the file" \
	|| t_fail "missing FASTA: rc=$rc $msg"
printf '>a\nACGT\n>a\nACGT\n' > $d/dup.fa
msg=$($SEQA index $d/dup.fa 2>&1); rc=$?
[ $rc -eq 3 ] && echo "$msg" | grep -q "dup.fa:3: duplicate sequence name 'a'" && t_ok "bad FASTA: exit 3 with file:line" \
	|| t_fail "bad FASTA: rc=$rc $msg"
[ -z "$(ls $d | grep -v '^dup.fa$' | grep dup)" ] && t_ok "bad FASTA: nothing written" || t_fail "bad FASTA left: $(ls $d)"

if [ -r "$q" ] && command -v bwa >/dev/null; then
	cp $q $d/a.fa; cp $q $d/b.fa; chmod u+w $d/a.fa $d/b.fa
	bwa index $d/a.fa 2>/dev/null
	out=$($SEQA index --json $d/b.fa 2>$d/err); rc=$?
	t_check "index exits 0" [ $rc -eq 0 ]
	echo "$out" | grep -q '"bwa_index": "built"' && t_ok "--json says built" || t_fail "--json: $out"
	grep -q 'Real time' $d/err && t_ok "summary line on stderr" || t_fail "no summary line"
	same=1; for e in bwt pac ann amb sa; do cmp -s $d/a.fa.$e $d/b.fa.$e || same=0; done
	t_check "byte-identical to bwa index" [ $same -eq 1 ]
	cmp -s $d/b.fa.fai $(samtools faidx $d/a.fa && echo $d/a.fa.fai) && t_ok ".fai as samtools faidx" || t_fail ".fai differs from samtools faidx"
	out=$($SEQA index --json $d/a.fa 2>/dev/null); rc=$?
	[ $rc -eq 0 ] && echo "$out" | grep -q '"bwa_index": "kept"' && t_ok "existing bwa index kept" || t_fail "existing: rc=$rc $out"
	$SEQA index -p $d/pre/idx $d/b.fa >/dev/null 2>&1; rc=$?
	t_check "unwritable prefix: exit 5" [ $rc -eq 5 ]
	[ -z "$(ls $d | grep -e 'tmp' -e '^pre')" ] && t_ok "unwritable prefix: nothing left" || t_fail "left: $(ls $d)"
	mkdir -p $d/pre
	$SEQA index -p $d/pre/idx $d/b.fa >/dev/null 2>&1 && [ -s $d/pre/idx.bwt ] && [ -s $d/pre/idx.fai ] && [ -s $d/pre/idx.contigs.json ] \
		&& t_ok "-p PREFIX" || t_fail "-p PREFIX: $(ls $d/pre)"
else
	t_skip "index vs bwa (no ../shared data or bwa)"
fi
t_done
