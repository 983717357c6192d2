#!/bin/sh
# Reference-intrinsic mappability: the benchmark ("confident") region for simulated truth sets.
#
# Every L-bp window of the reference (L = read length, one every STEP bp, windows with an N
# skipped) is aligned back to the reference by bwa mem as a single-end read; a window counts as
# uniquely mappable when bwa places its primary alignment at the window's own origin with
# MAPQ >= Q.  The region is the union of the uniquely mappable windows, as a sorted, merged BED.
#
# This is the Umap/GEM idea behind GIAB's "low mappability" stratification, computed with the
# peer aligner from the reference alone: it depends neither on the simulated reads nor on any
# caller, so every contender is scored on the same bases.  Sequence outside it (centromeric
# satellites, segmental duplications, and GRCh38's known false duplications on chr21 5.0-9.5 Mb)
# yields only MAPQ 0 reads with any short-read aligner: no caller can see variants there, and
# bench/call.sh and bench/e2e.sh report those "overall" figures beside the mappable ones.
#
# usage: sh bench/mappable.sh [-l LEN] [-s STEP] [-q MAPQ] [-t THREADS] REF.fa > OUT.bed
#   REF.fa must be bwa-indexed.  Defaults: LEN 150, STEP 10, MAPQ 20, THREADS 2.
set -eu
len=150; step=10; mapq=20; threads=2
while [ $# -gt 0 ]; do
	case "$1" in
	-l) len=$2; shift 2;;
	-s) step=$2; shift 2;;
	-q) mapq=$2; shift 2;;
	-t) threads=$2; shift 2;;
	-h|--help) sed -n '2,17p' "$0"; exit 0;;
	-*) echo "mappable.sh: unknown option $1" >&2; exit 2;;
	*) break;;
	esac
done
[ $# -eq 1 ] || { echo "usage: sh bench/mappable.sh [-l LEN] [-s STEP] [-q MAPQ] [-t THREADS] REF.fa > OUT.bed" >&2; exit 2; }
ref=$1
[ -s "$ref.bwt" ] && [ -s "$ref.sa" ] || { echo "mappable.sh: $ref is not bwa-indexed (run bwa index $ref)" >&2; exit 4; }

# windows as FASTQ: name = contig:0-based-start
python3 -c '
import re, sys
ref, L, S = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out, q, bad = sys.stdout, "I" * L, re.compile("[^ACGT]")
def emit(name, seq):
    for i in range(0, len(seq) - L + 1, S):
        w = seq[i:i + L]
        if not bad.search(w):
            out.write("@%s:%d\n%s\n+\n%s\n" % (name, i, w, q))
name, parts = None, []
for line in open(ref):
    if line.startswith(">"):
        if name is not None: emit(name, "".join(parts).upper())
        name, parts = line[1:].split()[0], []
    else: parts.append(line.strip())
if name is not None: emit(name, "".join(parts).upper())
' "$ref" $len $step \
| bwa mem -t $threads "$ref" - 2>/dev/null \
| samtools view -F 0x914 -q $mapq - \
| awk -v L=$len 'BEGIN { OFS = "\t" }
	{	k = split($1, a, ":"); start = a[k]; contig = substr($1, 1, length($1) - length(start) - 1)
		if ($3 == contig && $4 - 1 == start) print contig, start, start + L }' \
| sort -k1,1 -k2,2n \
| awk 'BEGIN { OFS = "\t" }
	{ if ($1 == c && $2 <= e) { if ($3 > e) e = $3 } else { if (c != "") print c, s, e; c = $1; s = $2; e = $3 } }
	END { if (c != "") print c, s, e }'
