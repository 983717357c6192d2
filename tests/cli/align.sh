#!/bin/sh
# seqa align end to end, against the real peer tools (bwa mem 0.7.17, samtools):
#  - real reads (tiny_chr22): mapped / properly-paired rates within 0.2% of bwa mem's, primary
#    placements equal, quickcheck + flagstat clean, duplicates = samtools fixmate|sort|markdup
#    within 1%, metrics JSON; identical records for -t 1/-t 2, cpu/opencl/ref backends and a
#    spilling sort;
#  - simulated 2x150 reads (seqa simulate over a GRCh38 chr21 slice): primary contig/pos/strand
#    equal to bwa mem's for >= 99.5% of reads, fraction within 5 bp of the truth >= bwa mem's;
#  - every record (fields and tags) equal to bwa mem's on the real reads and on a pairing stress
#    set (swapped/other-contig mates, chimeras, short and N-rich reads; paired and single-end),
#    and the records built directly byte-identical to bwa's SAM text parsed;
#  - bad input: mismatched mates, truncated gzip, missing/mismatched index, empty input,
#    unwritable output, disk full -> clear error, right exit code, nothing that looks complete.
. tests/lib.sh
d=$(t_tmp align)
TINY=$SHARED/data/tiny_chr22
CHR21=$SHARED/data/human/GRCh38.chr21_1-10M.fa.gz
for tool in bwa samtools python3; do
	command -v $tool >/dev/null || { t_skip "$tool not installed"; t_done; exit $?; }
done
[ -r $TINY/q.fa ] || { t_skip "../shared/data absent"; t_done; exit $?; }

# primary records: name, mate, contig, pos, strand, mapq, cigar, proper -> compare two files
cat > $d/cmp.py <<'PY'
import sys, subprocess
def load(f):
    d = {}
    out = subprocess.run(['samtools', 'view', '-F', '0x900', f], capture_output=True, text=True, check=True).stdout
    for l in out.splitlines():
        t = l.split('\t'); fl = int(t[1])
        d[(t[0], fl & 0xc0)] = (t[2], int(t[3]), fl & 16, fl & 4)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
keys = set(a) | set(b)
same = sum(1 for k in keys if a.get(k) == b.get(k))
res = {"reads": len(keys), "equal": same, "frac": same / max(1, len(keys))}
if len(sys.argv) > 3:   # truth from seqa simulate names: CONTIG_POS1_POS2_STRAND_HAP_INDEX
    def near(d):
        n = 0
        for (name, m), v in d.items():
            f = name.rsplit('_', 5)
            pos = int(f[1]) if m == 0x40 else int(f[2])
            if not v[3] and v[0] == f[0] and abs(v[1] - pos) <= 5: n += 1
        return n / max(1, len(d))
    res["near_a"], res["near_b"] = near(a), near(b)
print(" ".join("%s=%s" % kv for kv in res.items()))
PY
# every record bwa mem writes (primary + supplementary) vs ours, all 11 fields and bwa's tags;
# ours may add MQ (as samtools fixmate) and the duplicate flag; RG tags are ignored
cat > $d/recs.py <<'PY'
import sys, subprocess
def load(f, ours):
    out = subprocess.run(['samtools', 'view', f], capture_output=True, text=True, check=True).stdout
    d = {}
    for l in out.splitlines():
        t = l.split('\t'); fl = int(t[1])
        if ours: fl &= ~0x400
        tags = sorted(x for x in t[11:] if not x.startswith('RG:') and not (ours and x.startswith('MQ:')))
        d.setdefault((t[0], fl & 0xc0, fl & 0x900, t[2], t[3]), []).append((fl,) + tuple(t[2:11]) + tuple(tags))
    return d
a, b = load(sys.argv[1], False), load(sys.argv[2], True)
keys = set(a) | set(b)
same = sum(1 for k in keys if sorted(a.get(k, [])) == sorted(b.get(k, [])))
print("records=%d identical=%d supplementary=%d" % (len(keys), same, sum(1 for k in keys if k[2] & 0x800)))
for k in [k for k in keys if sorted(a.get(k, [])) != sorted(b.get(k, []))][:2]: print('#', k, a.get(k), b.get(k))
sys.exit(0 if same == len(keys) else 1)
PY

# ---- real reads --------------------------------------------------------------------------
cp $TINY/q.fa $d/q.fa && bwa index $d/q.fa 2>/dev/null && samtools faidx $d/q.fa
samtools collate -u -O $TINY/NA12878.chr22.tiny.bam 2>/dev/null | samtools fastq -n -1 $d/r1.fq -2 $d/r2.fq -0 /dev/null -s /dev/null - 2>/dev/null
gzip -c $d/r1.fq > $d/r1.fq.gz; gzip -c $d/r2.fq > $d/r2.fq.gz
$SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/t2.bam -t 2 --backend cpu \
	--rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>$d/t2.log; rc=$?
t_check "align real reads exits 0" [ $rc -eq 0 ]
t_check "quickcheck" samtools quickcheck $d/t2.bam
t_check ".bai written" [ -s $d/t2.bam.bai ]
samtools idxstats $d/t2.bam >/dev/null 2>&1; t_check "index usable (idxstats)" [ $? -eq 0 ]
samtools view -H $d/t2.bam | grep -q '^@HD.*SO:coordinate' && t_ok "header says coordinate-sorted" || t_fail "header SO"
samtools view -H $d/t2.bam | grep '^@PG' | grep -q 'ID:seqa.*backend=cpu.*CL:.*seqa align' && t_ok "@PG with backend and command line" || t_fail "@PG"
samtools view -H $d/t2.bam | grep -q '^@RG	ID:tiny	SM:NA12878' && t_ok "@RG" || t_fail "@RG"
samtools view $d/t2.bam | head -1000 | grep -v 'RG:Z:tiny' | grep -q . && t_fail "RG tag on every record" || t_ok "RG tag on every record"
samtools sort -O sam $d/t2.bam 2>/dev/null | samtools view | awk '{print $3, $4}' > $d/sorted.txt
samtools view $d/t2.bam | awk '{print $3, $4}' | cmp -s - $d/sorted.txt && t_ok "records in coordinate order" || t_fail "order"

bwa mem -K 10000000 $d/q.fa $d/r1.fq.gz $d/r2.fq.gz 2>/dev/null > $d/bwa.sam
samtools fixmate -m $d/bwa.sam - 2>/dev/null | samtools sort - 2>/dev/null | samtools markdup - $d/bwa.md.bam 2>/dev/null
samtools flagstat -O tsv $d/t2.bam > $d/fs.seqa; samtools flagstat -O tsv $d/bwa.md.bam > $d/fs.bwa
fs() { awk -F'\t' -v k="$2" '$3 == k {print $1}' $1; }
tot=$(fs $d/fs.seqa "primary")
for k in "primary mapped" "properly paired"; do
	a=$(fs $d/fs.seqa "$k"); b=$(fs $d/fs.bwa "$k")
	python3 -c "import sys; sys.exit(0 if abs($a - $b) / $tot <= 0.002 else 1)" && t_ok "$k rate within 0.2% of bwa mem ($a vs $b)" || t_fail "$k: seqa $a vs bwa $b"
done
t_check "flagstat: no QC-failed reads, counts add up" [ "$(fs $d/fs.seqa 'primary')" -eq "$(wc -l < $d/r1.fq | awk '{print $1/2}')" ]
a=$(fs $d/fs.seqa "primary duplicates"); b=$(fs $d/fs.bwa "primary duplicates")
python3 -c "import sys; sys.exit(0 if $b > 0 and abs($a - $b) <= 0.01 * $b else 1)" && t_ok "duplicates within 1% of samtools markdup ($a vs $b)" || t_fail "duplicates: seqa $a vs samtools $b"
python3 -c "import json; m = json.load(open('$d/t2.bam.markdup.json')); assert m['LIBRARY'] == 'lib1' and m['DUPLICATE_RECORDS_MARKED'] == $a and m['READ_PAIRS_EXAMINED'] > 0" \
	&& t_ok "duplicate metrics JSON" || t_fail "duplicate metrics JSON"
out=$(python3 $d/cmp.py $d/bwa.sam $d/t2.bam); echo "# real reads vs bwa mem: $out"
echo "$out" | python3 -c "import sys; d = dict(x.split('=') for x in sys.stdin.read().split()); sys.exit(0 if float(d['frac']) >= 0.995 else 1)" \
	&& t_ok "primary placements equal bwa mem's" || t_fail "primary placements: $out"
out=$(python3 $d/recs.py $d/bwa.sam $d/t2.bam) && t_ok "real reads: every record equals bwa mem's, all fields and tags ($out)" || t_fail "real reads: records differ from bwa mem: $out"
# the records above came through seqa's AVX2 extension kernel, not libbwa's scalar one
if grep -qw avx2 /proc/cpuinfo; then
	grep -q "extension avx2" $d/t2.log && t_ok "seed extension ran on the AVX2 kernel" || t_fail "extension: $(grep -o 'extension [a-z0-9]*' $d/t2.log)"
fi
# ... and libbwa's scalar extension (the fallback on CPUs without AVX2) writes the same records
SEQA_CPU_ISA=scalar $SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/t2s.bam -t 2 --backend cpu \
	--rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>$d/t2s.log
a=$(samtools view $d/t2.bam | md5sum); b=$(samtools view $d/t2s.bam 2>/dev/null | md5sum)
grep -q "extension scalar" $d/t2s.log && [ "$a" = "$b" ] && t_ok "SEQA_CPU_ISA=scalar (libbwa's extension): identical records" \
	|| t_fail "scalar extension: $(grep -o 'extension [a-z0-9]*' $d/t2s.log), records $( [ "$a" = "$b" ] && echo same || echo differ)"
# tags bwa mem writes, and the mate tags
samtools view $d/t2.bam | awk '!and($2, 4)' 2>/dev/null | head -1 > /dev/null
for tag in NM MD AS XS MC MQ; do
	samtools view -F 0x904 $d/t2.bam | head -200 | grep -q "	$tag:" && t_ok "tag $tag present" || t_fail "tag $tag missing"
done

# same records whatever the threads, backend or sort spilling
body() { samtools view "$1" | md5sum | cut -d' ' -f1; }
ref=$(body $d/t2.bam)
$SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/t1.bam -t 1 --backend cpu --rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>/dev/null
t_check "-t 1 and -t 2: identical records" [ "$(body $d/t1.bam)" = "$ref" ]
$SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/sp.bam -t 2 --sort-mem 1M --batch-size 100000 --backend ref --rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>$d/sp.log
grep -q "[1-9][0-9]* sort spills" $d/sp.log && t_ok "small --sort-mem spills" || t_fail "no spill: $(tail -3 $d/sp.log)"
$SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/sp2.bam -t 2 --sort-mem 1M --batch-size 100000 --backend cpu --rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>/dev/null
t_check "ref and cpu backends, spilled sort: identical records" [ "$(body $d/sp.bam)" = "$(body $d/sp2.bam)" ]
# duplicate keys past sort_mem/2 go to sorted runs on disk, merged at the end: same flags, same metrics
SEQA_LOG_LEVEL=debug $SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/sp3.bam -t 2 --sort-mem 64K --batch-size 100000 --backend cpu --rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>$d/sp3.log
grep -q "duplicate keys: [1-9][0-9]* sorted runs on disk" $d/sp3.log && t_ok "small --sort-mem spills duplicate keys" || t_fail "no duplicate-key runs: $(grep -i dup $d/sp3.log | tail -2)"
t_check "duplicate keys spilled: identical records ($(samtools view -c -f 0x400 $d/sp3.bam) duplicates)" \
	[ "$(body $d/sp3.bam)" = "$(body $d/sp2.bam)" ] && [ "$(samtools view -c -f 0x400 $d/sp3.bam)" -gt 0 ]
t_check "duplicate keys spilled: identical duplicate metrics" cmp -s $d/sp3.bam.markdup.json $d/sp2.bam.markdup.json
if $SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/cl.bam -t 2 --backend opencl --rg '@RG\tID:tiny\tSM:NA12878\tLB:lib1\tPL:ILLUMINA' 2>$d/cl.log; then
	t_check "--backend opencl: identical records" [ "$(body $d/cl.bam)" = "$ref" ]
	samtools view -H $d/cl.bam | grep -q 'backend=opencl;device=opencl:' && t_ok "@PG names the OpenCL device" || t_fail "@PG device"
else
	t_skip "no OpenCL device ($(tail -1 $d/cl.log))"
fi

# ---- simulated reads with known origin -------------------------------------------------
if [ -r $CHR21 ] && $SEQA simulate --help >/dev/null 2>&1; then
	samtools faidx $CHR21 chr21:5000001-5800000 2>/dev/null | sed 's/^>.*/>chr21s/' > $d/c21.fa
	bwa index $d/c21.fa 2>/dev/null
	$SEQA simulate -r $d/c21.fa -o $d/sim -c 6 -s 7 2>/dev/null; rc=$?
	t_check "simulate" [ $rc -eq 0 ]
	$SEQA align -r $d/c21.fa -1 $d/sim_R1.fq.gz -2 $d/sim_R2.fq.gz -o $d/sim.bam -t 2 --backend cpu 2>$d/sim.log || echo "# seqa align failed: $(tail -3 $d/sim.log)"
	bwa mem -t 2 -K 10000000 $d/c21.fa $d/sim_R1.fq.gz $d/sim_R2.fq.gz 2>/dev/null > $d/sim.bwa.sam
	out=$(python3 $d/cmp.py $d/sim.bwa.sam $d/sim.bam truth); echo "# simulated vs bwa mem: $out"
	echo "$out" | python3 -c "import sys; d = dict(x.split('=') for x in sys.stdin.read().split()); sys.exit(0 if int(d['reads']) > 1000 and float(d['frac']) >= 0.995 else 1)" \
		&& t_ok "simulated: primary placements equal bwa mem's (>= 99.5%)" || t_fail "simulated placements: $out"
	echo "$out" | python3 -c "import sys; d = dict(x.split('=') for x in sys.stdin.read().split()); sys.exit(0 if float(d['near_b']) >= float(d['near_a']) and float(d['near_b']) > 0.9 else 1)" \
		&& t_ok "simulated: within 5 bp of truth at least as often as bwa mem" || t_fail "truth: $out"
	# more reads than one seeding chunk (16384): a device seeds the next chunk while the CPU
	# extends this one; the records must not change
	if $SEQA align -r $d/c21.fa -1 $d/sim_R1.fq.gz -2 $d/sim_R2.fq.gz -o $d/sim.cl.bam -t 2 --backend opencl 2>$d/sim.cl.log; then
		t_check "simulated, --backend opencl (seeding overlapped with extension): identical records" [ "$(body $d/sim.cl.bam)" = "$(body $d/sim.bam)" ]
	else
		t_skip "no OpenCL device ($(tail -1 $d/sim.cl.log))"
	fi

	# pairing stress set over 2 contigs: real + simulated pairs, swapped mates, mates on the
	# other contig, chimeric reads, short and N-rich reads.  Records built directly (pair.c)
	# must be byte-identical to bwa's own SAM text parsed (SEQA_ALIGN_SAMTEXT=1), and every
	# record must equal bwa mem's, paired and single-end.
	cat $d/q.fa $d/c21.fa > $d/multi.fa && bwa index $d/multi.fa 2>/dev/null && samtools faidx $d/multi.fa
	python3 - $d/r1.fq $d/r2.fq $d/sim_R1.fq.gz $d/sim_R2.fq.gz $d/mix <<'PY'
import gzip, random, sys
random.seed(5)
def rd(f):
    with (gzip.open if f.endswith('.gz') else open)(f, 'rt') as fh: L = fh.read().split('\n')
    return [(L[i + 1], L[i + 3]) for i in range(0, len(L) - 3, 4)]
t1, t2, a1, a2 = (rd(f) for f in sys.argv[1:5])
o1, o2 = open(sys.argv[5] + '_R1.fq', 'w'), open(sys.argv[5] + '_R2.fq', 'w')
def w(n, x, y):
    o1.write('@%s\n%s\n+\n%s\n' % (n, x[0], x[1])); o2.write('@%s\n%s\n+\n%s\n' % (n, y[0], y[1]))
for i in range(len(t1)): w('t%d' % i, t1[i], t2[i])
for i in range(min(len(a1), 6000)):
    x, j, k = random.random(), random.randrange(len(a2)), random.randrange(len(t1))
    if x < .15: w('sw%d' % i, a1[i], a2[j])
    elif x < .30: w('ch%d' % i, (a1[i][0][:80] + t1[k][0][80:150], a1[i][1][:80] + t1[k][1][80:150]), a2[i])
    elif x < .40: w('oc%d' % i, a1[i], t2[k])
    elif x < .45:
        l = random.randrange(10, 60); w('sh%d' % i, (a1[i][0][:l], a1[i][1][:l]), a2[i])
    elif x < .50:
        s = list(a1[i][0])
        for p in random.sample(range(len(s)), 40): s[p] = 'N'
        w('nn%d' % i, (''.join(s), a1[i][1]), a2[i])
    else: w('ok%d' % i, a1[i], a2[i])
PY
	for mode in pe se; do
		m2="-2 $d/mix_R2.fq"; b2=$d/mix_R2.fq; [ $mode = se ] && m2="" && b2=""
		SEQA_ALIGN_SAMTEXT=1 $SEQA align -r $d/multi.fa -1 $d/mix_R1.fq $m2 -o $d/mix.$mode.bam -t 2 --backend cpu 2>/dev/null && mv $d/mix.$mode.bam $d/mix.$mode.txt.bam
		$SEQA align -r $d/multi.fa -1 $d/mix_R1.fq $m2 -o $d/mix.$mode.bam -t 2 --backend cpu 2>$d/mix.log
		a=$(bgzip -dc $d/mix.$mode.txt.bam | md5sum); b=$(bgzip -dc $d/mix.$mode.bam | md5sum)
		[ -s $d/mix.$mode.bam ] && [ "$a" = "$b" ] && t_ok "$mode: direct records byte-identical to bwa's SAM text parsed" \
			|| t_fail "$mode: direct records differ from bwa's SAM text parsed ($(tail -1 $d/mix.log))"
		bwa mem -K 10000000 $d/multi.fa $d/mix_R1.fq $b2 2>/dev/null > $d/mix.$mode.sam
		out=$(python3 $d/recs.py $d/mix.$mode.sam $d/mix.$mode.bam) && t_ok "$mode stress set: every record equals bwa mem's ($out)" || t_fail "$mode stress set vs bwa mem: $out"
	done
	n_oc=$(samtools view -F 0x90c -f 1 $d/mix.pe.bam | awk '$7 != "=" && $7 != "*"' | wc -l)
	n_sa=$(samtools view -c -f 0x800 $d/mix.pe.bam); n_un=$(samtools view -c -f 4 $d/mix.pe.bam); n_np=$(samtools view -c -f 1 -F 0x80e $d/mix.pe.bam)
	msg="stress set is not trivial (mates on other contigs $n_oc, supplementary $n_sa, unmapped $n_un, not proper $n_np)"
	[ "$n_oc" -gt 10 ] && [ "$n_sa" -gt 10 ] && [ "$n_un" -gt 10 ] && [ "$n_np" -gt 100 ] && t_ok "$msg" || t_fail "$msg"
else
	t_skip "GRCh38 chr21 slice or seqa simulate absent"
fi

# ---- bad input ---------------------------------------------------------------------------
bad() {   # NAME EXPECTED_RC OUT PATTERN ARGS...
	n=$1; want=$2; o=$3; pat=$4; shift 4
	$SEQA align "$@" -o $o 2>$d/err.txt; rc=$?
	if [ $rc -eq $want ] && grep -qi "$pat" $d/err.txt && [ ! -e $o ] && [ ! -e $o.bai ] && ! ls $o.tmp* >/dev/null 2>&1; then
		t_ok "$n: exit $rc, clear message, no output"
	else
		t_fail "$n: rc=$rc (want $want), $(head -c 300 $d/err.txt), files: $(ls $o* 2>/dev/null)"
	fi
}
head -n 400 $d/r2.fq > $d/short.fq
bad "mates of different length" 3 $d/b1.bam "differ in length" -r $d/q.fa -1 $d/r1.fq.gz -2 $d/short.fq
awk 'NR % 8 == 1 {getline a; getline b; getline c; l1=$0; l2=a; l3=b; l4=c; getline; print; getline x; print x; getline y; print y; getline z; print z; print l1; print l2; print l3; print l4; next} {print}' $d/r2.fq > $d/swapped.fq
bad "mates out of step" 3 $d/b2.bam "out of step" -r $d/q.fa -1 $d/r1.fq.gz -2 $d/swapped.fq
head -c 30000 $d/r1.fq.gz > $d/trunc.fq.gz
bad "truncated gzip" 3 $d/b3.bam "truncated" -r $d/q.fa -1 $d/trunc.fq.gz -2 $d/r2.fq.gz
cp $TINY/q.fa $d/noidx.fa
bad "missing index" 4 $d/b4.bam "index" -r $d/noidx.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz
mkdir -p $d/mm && sed 's/^>q/>other/' $TINY/q.fa > $d/mm/ref.fa && bwa index $d/mm/ref.fa 2>/dev/null && cp $d/q.fa.fai $d/mm/ref.fa.fai
bad "index of another reference" 3 $d/b5.bam "does not match" -r $d/mm/ref.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz
: > $d/empty1.fq; : > $d/empty2.fq
bad "empty input" 3 $d/b6.bam "no reads" -r $d/q.fa -1 $d/empty1.fq -2 $d/empty2.fq
bad "missing input" 4 $d/b7.bam "cannot open" -r $d/q.fa -1 $d/nope.fq -2 $d/r2.fq.gz
bad "unwritable output" 5 $d/no/such/dir/out.bam "cannot write" -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz
# disk full: a file-size limit makes writes fail (EFBIG) past 64 KiB, as a full disk would
( trap '' XFSZ; ulimit -f 64; $SEQA align -r $d/q.fa -1 $d/r1.fq.gz -2 $d/r2.fq.gz -o $d/full.bam 2>$d/err.txt ); rc=$?
if [ $rc -eq 5 ] && grep -qi "disk full\|cannot write" $d/err.txt && [ ! -e $d/full.bam ] && [ ! -e $d/full.bam.bai ] && ! ls $d/full.bam.tmp* >/dev/null 2>&1; then
	t_ok "disk full: exit 5, message, no output"
else
	t_fail "disk full: rc=$rc $(head -c 300 $d/err.txt) $(ls $d/full.bam* 2>/dev/null)"
fi
t_done
