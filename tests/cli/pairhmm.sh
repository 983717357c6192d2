#!/bin/sh
# seqa pairhmm: GATK conformance file through the CLI (values computed against the file's own
# expected column), --bench line format, --json, workload generator round trip, exit codes.
. tests/lib.sh
D=$(t_tmp pairhmm)
G=$SHARED/data/pairhmm/gatk-pairhmm-testdata.txt
# compare one value per line with column 7 of the GATK file: within 1e-5 (log10) plus half a unit
# in the last printed digit (%.6e of a value >= 10 in magnitude is itself rounded by 5e-6)
cmp_expected() { # $1: values file
	grep -v '^#' "$G" | awk '{print $7}' | paste - "$1" | awk '
		NF != 2 { bad++; next }
		{ d = $1 - $2; if (d < 0) d = -d; a = $1 < 0 ? -$1 : $1; e = 0; while (a >= 10) { a /= 10; e++ }
		  if (d > 1e-5 + 0.5 * 10 ^ (e - 6)) bad++
		  if ($2 !~ /^-?[0-9]\.[0-9][0-9][0-9][0-9][0-9][0-9]e[-+][0-9][0-9]$/) fmt++ }
		END { if (NR != 104 || bad || fmt) { print "n=" NR " bad=" bad+0 " badformat=" fmt+0; exit 1 } }'
}
if [ -r "$G" ]; then
	for b in auto ref cpu opencl; do
		$SEQA pairhmm -b $b -t 2 --bench "$G" > $D/$b.txt 2> $D/$b.err; rc=$?
		[ $b = auto ] && { $SEQA pairhmm "$G" > $D/plain.txt; cmp -s $D/plain.txt $D/auto.txt && t_ok "pairhmm FILE = -b auto" || t_fail "pairhmm FILE != -b auto"; }
		if [ $b = opencl ] && [ $rc -eq 6 ]; then t_skip "pairhmm opencl: no OpenCL device"; continue; fi
		t_check "pairhmm -b $b exits 0" [ $rc -eq 0 ]
		cmp_expected $D/$b.txt && t_ok "pairhmm -b $b: 104 values %.6e within 1e-5 of GATK" || t_fail "pairhmm -b $b values"
		grep -Eq '^backend=[^ ]+ cells=754121 seconds=[0-9.]+ gcups=[0-9.]+' $D/$b.err \
			&& t_ok "pairhmm -b $b --bench line" || t_fail "pairhmm -b $b --bench line: $(cat $D/$b.err)"
	done
	$SEQA pairhmm --check -n "$G"; t_check "pairhmm --check passes on the GATK file" [ $? -eq 0 ]
	# a corrupted expected value makes --check fail
	sed '2s/-5.725231e+00/-5.725331e+00/' "$G" > $D/bad_expected.txt
	$SEQA pairhmm --check -n $D/bad_expected.txt 2>/dev/null; t_check "pairhmm --check catches a wrong value" [ $? -eq 1 ]
	$SEQA pairhmm --json -b cpu "$G" > $D/out.json
	python3 -c "import json,sys; d=json.load(open('$D/out.json')); sys.exit(0 if len(d['log10'])==104 and d['backend'].startswith('cpu') else 1)" \
		&& t_ok "pairhmm --json" || t_fail "pairhmm --json"
	# stdin
	head -5 "$G" | $SEQA pairhmm -b cpu - > $D/stdin.txt; t_check "pairhmm reads stdin" [ "$(wc -l < $D/stdin.txt)" -eq 4 ]
	# thread counts give identical output
	$SEQA pairhmm -b cpu -t 1 "$G" > $D/t1.txt && $SEQA pairhmm -b cpu -t 3 "$G" > $D/t3.txt
	cmp -s $D/t1.txt $D/t3.txt && t_ok "pairhmm -t 1 and -t 3 identical" || t_fail "pairhmm thread counts differ"
else
	t_skip "pairhmm GATK file absent ($G)"
fi
# the realistic workload generator: deterministic, written in GATK format, read back identically
$SEQA pairhmm --workload realistic --reads 40 --haps 3 --seed 7 --write-workload $D/w.txt; rc=$?
t_check "pairhmm --write-workload exits 0" [ $rc -eq 0 ]
t_check "workload has 40 x 3 pairs" [ "$(grep -vc '^#' $D/w.txt)" -eq 120 ]
awk '!/^#/ && (length($2) != 151 || length($1) != 350 || $4 !~ /^N+$/ || $6 !~ /^\++$/) {bad++} END {exit bad ? 1 : 0}' $D/w.txt \
	&& t_ok "workload shape: 151 bp reads, 350 bp haplotypes, indel quals 45 (N), gcp 10 (+)" || t_fail "workload shape"
$SEQA pairhmm --workload realistic --reads 40 --haps 3 --seed 7 -b cpu > $D/w_direct.txt
$SEQA pairhmm -b cpu $D/w.txt > $D/w_file.txt
cmp -s $D/w_direct.txt $D/w_file.txt && t_ok "workload in memory and via the file agree" || t_fail "workload round trip"
# exit codes
$SEQA pairhmm /nonexistent/file.txt 2>/dev/null; t_check "missing file exits 4" [ $? -eq 4 ]
printf 'ACGT ACG III III\n' > $D/bad.txt
$SEQA pairhmm $D/bad.txt 2>/dev/null; t_check "malformed line exits 3" [ $? -eq 3 ]
printf 'ACGT ACX III III III +++\n' > $D/bad2.txt
$SEQA pairhmm $D/bad2.txt 2>/dev/null; t_check "invalid base exits 3" [ $? -eq 3 ]
$SEQA pairhmm -b gpu x 2>/dev/null; t_check "unknown backend exits 2" [ $? -eq 2 ]
$SEQA pairhmm -b fpga "$G" 2>/dev/null; t_check "fpga without a binary exits 6" [ $? -eq 6 ]
$SEQA pairhmm 2>/dev/null; t_check "no FILE exits 2" [ $? -eq 2 ]
t_done
