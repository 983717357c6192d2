#!/bin/sh
# make demo: the whole FASTQ -> VCF run on an embedded default that a fresh Debian 12 has:
# the phage lambda genome shipped by Debian's bowtie2-examples, 30x of 2x150 reads simulated
# by `seqa simulate` with known SNPs and indels, then `seqa run` (ingest, align, call, QC,
# provenance), and the accuracy of the calls against the simulated truth.
set -e
HERE=$(cd "$(dirname "$0")/.." && pwd)   # source tree, or PREFIX/share/seqa when installed
SEQA=${SEQA:-$HERE/seqa}
OUT=${DEMO_OUT:-demo-out}
T=${THREADS:-2}
mkdir -p "$OUT"
ref=$OUT/lambda.fa
if [ ! -s "$ref" ]; then
	src=/usr/share/doc/bowtie2/examples/reference/lambda_virus.fa.gz
	if [ ! -s "$src" ]; then
		# Docker-style images drop /usr/share/doc on install: take the file from the package itself
		deb=$(ls /var/cache/apt/archives/bowtie2-examples_*.deb 2>/dev/null | head -n 1)
		if [ -z "$deb" ]; then (cd "$OUT" && apt-get download bowtie2-examples >/dev/null 2>&1) || true; deb=$(ls "$OUT"/bowtie2-examples_*.deb 2>/dev/null | head -n 1); fi
		[ -n "$deb" ] || { echo "demo: cannot find the lambda phage genome (package bowtie2-examples)" >&2; exit 4; }
		dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/bowtie2/examples/reference/lambda_virus.fa.gz > "$OUT/lambda.fa.gz"
		src=$OUT/lambda.fa.gz
	fi
	# a plain contig name ("lambda") instead of the NCBI gi|...| identifier
	gzip -dc "$src" | sed '1s/^>.*/>lambda NC_001416.1 Enterobacteria phage lambda/' > "$ref.tmp" && mv "$ref.tmp" "$ref"
fi
echo "== seqa index (bwa-compatible FM index, .fai, contig table)"
$SEQA index "$ref" 2>/dev/null
echo "== seqa simulate (diploid sample with known SNPs/indels, 30x 2x150)"
$SEQA simulate -r "$ref" -o "$OUT/DEMO1" -c 30 -s 2026 --snp-rate 0.003 --indel-rate 0.0006 -t "$T" 2>/dev/null
echo "== seqa run (ingest -> align -> call -> QC -> provenance)"
set +e
$SEQA run -r "$ref" -1 "$OUT/DEMO1_R1.fq.gz" -2 "$OUT/DEMO1_R2.fq.gz" --sample DEMO1 --pseudonym PSN-DEMO-0001 \
	--indication RD-BONE --sex unknown --qc-profile "$HERE/scripts/demo-qc-profile.json" -o "$OUT/DEMO1" -t "$T" 2> "$OUT/run.log"
rc=$?
set -e
tail -n 12 "$OUT/run.log"
[ $rc -eq 0 ] || [ $rc -eq 7 ] || { echo "demo: seqa run failed (exit $rc); see $OUT/run.log" >&2; exit $rc; }
echo
echo "== accuracy against the simulated truth (normalised, matched on POS/REF/ALT)"
echo "CLASS   TP FP FN precision recall F1 genotype_concordance"
sh "$HERE/bench/vcf_compare.sh" "$ref" "$OUT/DEMO1.truth.vcf.gz" "$OUT/DEMO1/DEMO1.vcf.gz"
echo
echo "QC gate: $(sed -n 's/.*"gate": "\([A-Z]*\)".*/\1/p' "$OUT/DEMO1/run.json" | head -n 1)"
echo "Outputs in $OUT/DEMO1/:"
ls -1 "$OUT/DEMO1" | sed 's/^/  /'
echo "Open $OUT/DEMO1/qc.html in a browser for the QC report."
