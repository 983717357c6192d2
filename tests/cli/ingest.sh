#!/bin/sh
# seqa ingest: one test per kind of bad input (exit code, message with its key words, file and
# record/line, and no report left behind), every problem reported in one run, and acceptance of
# the real NA12878 reads of ../shared/data/tiny_chr22 with counts checked against samtools and
# checksums against sha256sum, independent of -t.
. tests/lib.sh
export LC_ALL=C
T=$(t_tmp ingest)
CODES=""

# ---- fixtures ------------------------------------------------------------------------------
# mkfq DIR: a valid pair DIR/r1.fq DIR/r2.fq, 5 records of 20 bases; names carry /1 /2 and
# Illumina comments (both must be ignored when mates are compared).  Record k is on lines
# 4k-3 (@name) .. 4k (quality).
mkfq() {
	for m in 1 2; do
		i=1
		while [ $i -le 5 ]; do
			printf '@A00123:8:HFLWC:1:1101:%d:1000/%d %d:N:0:ACGTACGT+TTGGCCAA\n' $((1000 + i)) $m $m
			printf 'ACGTACGTacgtNNACGTAC\n+\nIIIIIFFFFF:::::,,,,#\n'
			i=$((i + 1))
		done > "$1/r$m.fq"
	done
}
# sheet DIR: DIR/sheet.csv from $VERSION $BCL_ROWS $SEQA_HDR $ROWS (defaults: a valid one-sample
# sheet using r1.fq/r2.fq).  [Seqa_Data] header is on line 18, the first sample row on line 19 (with one [BCLConvert_Data] row).
sheet() {
	{
		printf '[Header]\nFileFormatVersion,%s\nRunName,IngestTest\nInstrumentPlatform,NovaSeqXSeries\n\n' "${VERSION:-2}"
		printf '[Reads]\nRead1Cycles,20\nRead2Cycles,20\n\n'
		printf '[BCLConvert_Settings]\nSoftwareVersion,4.2.7\n\n'
		printf '[BCLConvert_Data]\nLane,Sample_ID,Index,Index2\n%s\n\n' "${BCL_ROWS:-1,S1,ACGTACGT,TTGGCCAA}"
		if [ -z "$NO_SEQA" ]; then
			printf '[Seqa_Data]\n%s\n%s\n' "${SEQA_HDR:-Sample_ID,Pseudonym,Indication,Sex,R1,R2}" \
				"${ROWS:-S1,PSN-0001,RD-BONE,female,r1.fq,r2.fq}"
		fi
	} > "$1/sheet.csv"
}
# case NAME: fresh DIR with a valid pair and sheet; sets $d
case_dir() { d=$(t_tmp "ingest/$1"); mkfq "$d"; }

# expect NAME CODE RC BATCH PATTERN...: run ingest -o, check exit code, that stderr has
# "error [CODE]" and each pattern, and that no report (nor temporary) was left.
expect() {
	name=$1 code=$2 want=$3 batch=$4; shift 4
	dd=$(dirname "$batch")
	$SEQA ingest -o "$dd/report.json" "$batch" > "$dd/out" 2> "$dd/err"; rc=$?
	why=""
	[ $rc -eq "$want" ] || why="$why exit $rc, want $want;"
	grep -qF "error [$code]" "$dd/err" || why="$why no 'error [$code]';"
	for p in "$@"; do grep -qF -- "$p" "$dd/err" || why="$why missing '$p';"; done
	[ -e "$dd/report.json" ] && why="$why report.json left behind;"
	ls "$dd" | grep -q '\.tmp\.' && why="$why temporary left behind;"
	grep -q '^FAIL' "$dd/out" || why="$why summary does not say FAIL;"
	if [ -z "$why" ]; then t_ok "bad input: $name"; CODES="$CODES $code"
	else t_fail "bad input: $name:$why"; sed 's/^/    | /' "$dd/err" | head -n 12; fi
}
VERSION= BCL_ROWS= SEQA_HDR= ROWS= NO_SEQA=

# ---- a valid small batch passes, with CRLF accepted ------------------------------------
case_dir good; sheet "$d"
$SEQA ingest -o "$d/report.json" "$d/sheet.csv" > "$d/out" 2> "$d/err"; rc=$?
[ $rc -eq 0 ] && [ -s "$d/report.json" ] && grep -q '"status": "pass"' "$d/report.json" && grep -q '^PASS' "$d/out" \
	&& t_ok "valid batch passes, report written" || { t_fail "valid batch: rc=$rc"; cat "$d/err"; }
grep -q '"reads": 5,' "$d/report.json" && grep -q '"bases": 100,' "$d/report.json" \
	&& t_ok "valid batch: 5 reads, 100 bases per file" || t_fail "valid batch counts"

case_dir crlf; for m in 1 2; do sed 's/$/\r/' "$d/r$m.fq" > "$d/x" && mv "$d/x" "$d/r$m.fq"; done; sheet "$d"
sed 's/$/\r/' "$d/sheet.csv" > "$d/x" && mv "$d/x" "$d/sheet.csv"
$SEQA ingest -o "$d/report.json" "$d/sheet.csv" > "$d/out" 2> "$d/err"; rc=$?
[ $rc -eq 0 ] && grep -q '"reads": 5,' "$d/report.json" && grep -qF 'warning [CRLF]' "$d/err" \
	&& t_ok "Windows line endings (sheet and FASTQ) accepted with a warning" || { t_fail "CRLF: rc=$rc"; cat "$d/err"; }

# ---- one test per kind of bad input --------------------------------------------------------
case_dir no_section; NO_SEQA=1 sheet "$d"
expect "missing [Seqa_Data] section" SHEET_SECTION 3 "$d/sheet.csv" "$d/sheet.csv" "required section [Seqa_Data] is missing"

case_dir no_column; SEQA_HDR=Sample_ID,Pseudonym,Indication,R1,R2 ROWS=S1,PSN-0001,RD-BONE,r1.fq,r2.fq sheet "$d"
expect "missing Sex column" SHEET_COLUMN 3 "$d/sheet.csv" "$d/sheet.csv line 18" "[Seqa_Data] has no Sex column"

case_dir version; VERSION=1 sheet "$d"
expect "sample sheet v1" SHEET_VERSION 3 "$d/sheet.csv" "$d/sheet.csv line 2" "FileFormatVersion is '1'"

case_dir dup; mkfq "$d"; cp "$d/r1.fq" "$d/s2_r1.fq"; cp "$d/r2.fq" "$d/s2_r2.fq"
ROWS="S1,PSN-0001,RD-BONE,female,r1.fq,r2.fq
S1,PSN-0002,RD-MITO,male,s2_r1.fq,s2_r2.fq" sheet "$d"
expect "duplicate sample id" SAMPLE_DUP 3 "$d/sheet.csv" "$d/sheet.csv line 20" "duplicate sample id 'S1' (first at line 19)"

case_dir indication; ROWS=S1,PSN-0001,RD-BONES,female,r1.fq,r2.fq sheet "$d"
expect "unknown indication code" INDICATION 3 "$d/sheet.csv" "$d/sheet.csv line 19" "unknown clinical indication code 'RD-BONES'" "seqa ingest --indications"

case_dir sex; ROWS=S1,PSN-0001,RD-BONE,F2,r1.fq,r2.fq sheet "$d"
expect "invalid declared sex" SEX 3 "$d/sheet.csv" "$d/sheet.csv line 19" "declared sex 'F2' is not female, male or unknown"

case_dir unmatched; BCL_ROWS="1,S1,ACGTACGT,TTGGCCAA
1,S9,CCCCAAAA,GGGGTTTT" sheet "$d"
expect "sample without [Seqa_Data] row" SAMPLE_UNMATCHED 3 "$d/sheet.csv" "$d/sheet.csv line 16" "sample 'S9' of [BCLConvert_Data] has no row in [Seqa_Data]"

case_dir sample_id; BCL_ROWS="1,S.1,ACGTACGT,TTGGCCAA" ROWS=S.1,PSN-0001,RD-BONE,female,r1.fq,r2.fq sheet "$d"
expect "invalid Sample_ID characters" SAMPLE_ID 3 "$d/sheet.csv" "$d/sheet.csv line 19" "Sample_ID 'S.1'"

case_dir pseudo; cp "$d/r1.fq" "$d/s2_r1.fq"; cp "$d/r2.fq" "$d/s2_r2.fq"
BCL_ROWS="1,S1,ACGTACGT,TTGGCCAA
1,S2,CCCCAAAA,GGGGTTTT" ROWS="S1,PSN-0001,RD-BONE,female,r1.fq,r2.fq
S2,PSN-0001,RD-BONE,male,s2_r1.fq,s2_r2.fq" sheet "$d"
expect "duplicate pseudonym" PSEUDONYM_DUP 3 "$d/sheet.csv" "$d/sheet.csv line 21" "sample 'S2' has the pseudonym 'PSN-0001' of sample 'S1'"

case_dir missing; ROWS=S1,PSN-0001,RD-BONE,female,r1.fq,S1_R2_001.fastq.gz sheet "$d"
expect "missing FASTQ file (exit 4)" FILE_MISSING 4 "$d/sheet.csv" "$d/S1_R2_001.fastq.gz" "R2 file not found"

case_dir same; ROWS=S1,PSN-0001,RD-BONE,female,r1.fq,./r1.fq sheet "$d"
expect "R1 and R2 are the same file" SAME_FILE 3 "$d/sheet.csv" "$d/./r1.fq" "R1 and R2 are the same file ('r1.fq' and './r1.fq')"

case_dir reused; BCL_ROWS="1,S1,ACGTACGT,TTGGCCAA
1,S2,CCCCAAAA,GGGGTTTT" ROWS="S1,PSN-0001,RD-BONE,female,r1.fq,r2.fq
S2,PSN-0002,RD-BONE,male,r1.fq,r2.fq" sheet "$d"
expect "FASTQ listed for two samples" FILE_REUSED 3 "$d/sheet.csv" "sample S2: $d/r1.fq" "R1 file is also R1 of sample 'S1'"

case_dir empty; : > "$d/r1.fq"; sheet "$d"
expect "empty FASTQ" EMPTY 3 "$d/sheet.csv" "$d/r1.fq" "file is empty (0 bytes)"

case_dir gz_trunc; gzip -c "$d/r1.fq" > "$d/full.gz"; head -c $(($(wc -c < "$d/full.gz") - 12)) "$d/full.gz" > "$d/r1.fq.gz"
gzip -c "$d/r2.fq" > "$d/r2.fq.gz"; rm "$d/full.gz"; ROWS=S1,PSN-0001,RD-BONE,female,r1.fq.gz,r2.fq.gz sheet "$d"
expect "truncated gzip" GZIP_TRUNCATED 3 "$d/sheet.csv" "$d/r1.fq.gz record" "gzip stream ends unexpectedly" "the file is truncated"

case_dir gz_corrupt; gzip -c "$d/r1.fq" > "$d/r1.fq.gz"; gzip -c "$d/r2.fq" > "$d/r2.fq.gz"
n=$(wc -c < "$d/r1.fq.gz"); printf '\377\377\377\377' | dd of="$d/r1.fq.gz" bs=1 seek=$((n - 8)) conv=notrunc 2>/dev/null
ROWS=S1,PSN-0001,RD-BONE,female,r1.fq.gz,r2.fq.gz sheet "$d"
expect "gzip CRC error" GZIP_CORRUPT 3 "$d/sheet.csv" "$d/r1.fq.gz" "gzip data error" "incorrect data check"

case_dir header; sed -i '9s/^@/A/' "$d/r1.fq"; sheet "$d"
expect "record without '@'" HEADER 3 "$d/sheet.csv" "$d/r1.fq record 3, line 9" "record header starts with 'A' instead of '@'"

case_dir plus; sed -i '7s/^+/-/' "$d/r2.fq"; sheet "$d"
expect "missing '+' line" SEPARATOR 3 "$d/sheet.csv" "$d/r2.fq record 2, line 7" "separator line starts with '-' instead of '+'"

case_dir length; sed -i '16s/#$//' "$d/r1.fq"; sheet "$d"
expect "SEQ/QUAL length mismatch" LENGTH 3 "$d/sheet.csv" "$d/r1.fq record 4, line 16" "sequence has 20 bases but quality has 19 characters"

case_dir qual; sed -i '12s/^IIII/II I/' "$d/r2.fq"; sheet "$d"
expect "quality below '!'" QUAL_RANGE 3 "$d/sheet.csv" "$d/r2.fq record 3, line 12" "quality byte 32 at position 3 is below '!'"

case_dir phred64; for m in 1 2; do awk 'NR%4==0{$0="hhhhhggggg^^^^^KKKKB"}1' "$d/r$m.fq" > "$d/x" && mv "$d/x" "$d/r$m.fq"; done; sheet "$d"
expect "phred+64 qualities" PHRED64 3 "$d/sheet.csv" "$d/r1.fq record 1, line 4" "looks like phred+64"

case_dir base; sed -i '18s/^ACGT/AC.T/' "$d/r1.fq"; sheet "$d"
expect "invalid base" BASE 3 "$d/sheet.csv" "$d/r1.fq record 5, line 18" "invalid base '.' at position 3"

case_dir iupac; sed -i '2s/^ACGT/ACRT/' "$d/r2.fq"; sheet "$d"
expect "IUPAC code" IUPAC 3 "$d/sheet.csv" "$d/r2.fq record 1, line 2" "IUPAC ambiguity code 'R' at position 3"

case_dir mate_name; sed -i '9s/:1000\/2 /:1001\/2 /' "$d/r2.fq"; sheet "$d"
expect "mate names differ" MATE_NAME 3 "$d/sheet.csv" "$d/r2.fq record 3, line 9" "mate names differ"

case_dir mate_count; head -n 16 "$d/r2.fq" > "$d/x" && mv "$d/x" "$d/r2.fq"; sheet "$d"
expect "R1/R2 record counts differ" MATE_COUNT 3 "$d/sheet.csv" "$d/r1.fq record 5" "R1 has 5 reads but R2 has 4: read 5 of R1 has no mate"

case_dir swapped; ROWS=S1,PSN-0001,RD-BONE,female,r2.fq,r1.fq sheet "$d"
expect "R1 and R2 swapped" MATE_ORDER 3 "$d/sheet.csv" "$d/r2.fq record 1, line 1" "record of the R1 file is read 2"

case_dir trunc_rec; head -n 18 "$d/r1.fq" > "$d/x" && mv "$d/x" "$d/r1.fq"; sheet "$d"
expect "file ends inside a record" TRUNCATED 3 "$d/sheet.csv" "$d/r1.fq record 5, line 18" "file ends inside record 5 after 2 of its 4 lines"

case_dir json_syntax
printf '{\n  "samples": [\n    {"id": "S1", "pseudonym": "P1" "indication": "RD-BONE"}\n  ]\n}\n' > "$d/batch.json"
expect "JSON batch syntax error" JSON_SYNTAX 3 "$d/batch.json" "$d/batch.json line 3" "invalid JSON"

case_dir json_schema
printf '{"seqa_batch": 1, "samples": [{"id": "S1", "pseudonym": "P1", "indication": "RD-BONE", "r1": "r1.fq", "r2": "r2.fq"}]}\n' > "$d/batch.json"
expect "JSON batch member missing" JSON_SCHEMA 3 "$d/batch.json" "$d/batch.json" 'samples[0]: required member "sex" is missing'

case_dir dir_as_file; mkdir "$d/S1_R1.fastq.gz"; ROWS=S1,PSN-0001,RD-BONE,female,S1_R1.fastq.gz,r2.fq sheet "$d"
expect "FASTQ path is a folder (exit 4)" FILE_UNREADABLE 4 "$d/sheet.csv" "$d/S1_R1.fastq.gz" "R1 path is not a regular file"

# a report of an earlier run is removed when the batch turns out invalid; -o never overwrites an input
case_dir stale; sheet "$d"
$SEQA ingest -o "$d/report.json" "$d/sheet.csv" > /dev/null 2>&1; rc1=$?
sed -i '7s/^+/-/' "$d/r1.fq"
$SEQA ingest -o "$d/report.json" "$d/sheet.csv" > /dev/null 2> "$d/err"; rc2=$?
[ $rc1 -eq 0 ] && [ $rc2 -eq 3 ] && [ ! -e "$d/report.json" ] && grep -q "removed the earlier report" "$d/err" \
	&& t_ok "earlier report removed when the batch becomes invalid" || t_fail "stale report: rc $rc1/$rc2"
cp "$d/r1.fq" "$d/keep.fq"
$SEQA ingest -o "$d/r1.fq" "$d/sheet.csv" > /dev/null 2> "$d/err"; rc=$?
[ $rc -eq 2 ] && cmp -s "$d/r1.fq" "$d/keep.fq" && t_ok "-o naming an input is refused (exit 2), input untouched" || t_fail "-o onto input: rc=$rc"
case_dir unwritable; sheet "$d"
$SEQA ingest -o "$d/no/such/dir/report.json" "$d/sheet.csv" > /dev/null 2> "$d/err"; rc=$?
[ $rc -eq 5 ] && t_ok "report that cannot be written exits 5" || t_fail "unwritable report: rc=$rc"

d=$(t_tmp ingest/no_batch)
$SEQA ingest -o "$d/report.json" "$d/nope.csv" > /dev/null 2> "$d/err"; rc=$?
[ $rc -eq 4 ] && grep -qF "$d/nope.csv" "$d/err" && [ ! -e "$d/report.json" ] && t_ok "missing batch file exits 4" || t_fail "missing batch: rc=$rc"

n=$(echo $CODES | tr ' ' '\n' | sort -u | grep -c .)
[ "$n" -ge 12 ] && t_ok "$n distinct kinds of bad input rejected with distinct codes" || t_fail "only $n distinct codes: $CODES"

# ---- every problem in one run, capped per file and kind -----------------------------------
case_dir many; awk 'NR%4==0{$0=" " substr($0,2)}1' "$d/r1.fq" > "$d/x"; for i in 1 2 3; do cat "$d/x"; done > "$d/r1.fq"
for i in 1 2 3; do cat "$d/r2.fq"; done > "$d/x" && mv "$d/x" "$d/r2.fq"; sed -i '6s/^ACGT/ACGX/' "$d/r2.fq"
ROWS=S1,PSN-0001,RD-NOPE,female,r1.fq,r2.fq sheet "$d"
$SEQA ingest -m 4 -o "$d/report.json" --json "$d/sheet.csv" > "$d/out" 2> "$d/err"; rc=$?
q=$(grep -c 'error \[QUAL_RANGE\].*record' "$d/err")
[ $rc -eq 3 ] && [ "$q" -eq 4 ] && grep -qF "error [QUAL_RANGE] sample S1: $d/r1.fq: 11 more not shown (15 in all)" "$d/err" \
	&& grep -qF 'error [INDICATION]' "$d/err" && grep -qF "error [BASE] sample S1: $d/r2.fq record 2, line 6" "$d/err" \
	&& grep -q '"QUAL_RANGE": 15' "$d/out" && grep -q '"n_errors": 17' "$d/out" && [ ! -e "$d/report.json" ] \
	&& t_ok "all problems reported in one run (sheet + both files), capped per kind with a count" \
	|| { t_fail "many problems: rc=$rc q=$q"; head -n 20 "$d/err"; }

# ---- real reads: NA12878 tiny chr22 ----------------------------------------------------
BAM=$SHARED/data/tiny_chr22/NA12878.chr22.tiny.bam
if [ ! -r "$BAM" ] || ! command -v samtools > /dev/null; then
	t_skip "real reads: $BAM or samtools absent"
else
	d=$(t_tmp ingest/real)
	samtools collate -u -O "$BAM" "$d/collate" | samtools fastq -1 "$d/r1.fq.gz" -2 "$d/r2.fq.gz" -0 /dev/null -s "$d/single.fq" -n - 2> /dev/null
	# expected counts from the BAM: primary first/second mates, and pairs with both mates present
	first=$(samtools view -c -f 0x40 -F 0x900 "$BAM"); second=$(samtools view -c -f 0x80 -F 0x900 "$BAM")
	samtools view -f 0x40 -F 0x900 "$BAM" | cut -f1 | sort > "$d/n1"; samtools view -f 0x80 -F 0x900 "$BAM" | cut -f1 | sort > "$d/n2"
	pairs=$(comm -12 "$d/n1" "$d/n2" | wc -l); single=$(awk 'NR%4==1' "$d/single.fq" | wc -l)
	bases1=$(samtools view -f 0x40 -F 0x900 "$BAM" | sort -k1,1 | join -t "$(printf '\t')" - "$d/n2" -o 1.10 | awk '{b+=length($0)} END{print b}')
	# the same reads as plain text and as BGZF (multi-member gzip), as three samples
	gzip -dc "$d/r1.fq.gz" > "$d/p1.fq"; gzip -dc "$d/r2.fq.gz" > "$d/p2.fq"
	bgzip -c "$d/p1.fq" > "$d/b1.fq.gz"; bgzip -c "$d/p2.fq" > "$d/b2.fq.gz"
	BCL_ROWS="1,NA12878,ACGTACGT,TTGGCCAA
1,NA12878p,CCCCAAAA,GGGGTTTT
2,NA12878b,TTTTGGGG,AAAACCCC" ROWS="NA12878,PSN-0001,RD-LEUKO,female,r1.fq.gz,r2.fq.gz
NA12878p,PSN-0002,CA-PRED,female,p1.fq,p2.fq
NA12878b,PSN-0003,rd-diab,unknown,b1.fq.gz,b2.fq.gz" sheet "$d"
	$SEQA ingest -t 1 --json "$d/sheet.csv" > "$d/t1.json" 2> "$d/err1"; rc1=$?
	$SEQA ingest -t 3 -o "$d/report.json" "$d/sheet.csv" > "$d/out3" 2> "$d/err3"; rc3=$?
	[ $rc1 -eq 0 ] && [ $rc3 -eq 0 ] && t_ok "real reads accepted (gzip, plain, BGZF)" || { t_fail "real reads: rc $rc1/$rc3"; head "$d/err1"; }
	n_r=$(grep -c "\"reads\": $pairs," "$d/t1.json"); n_b=$(grep -c "\"bases\": $bases1," "$d/t1.json")
	[ "$n_r" -eq 6 ] && [ "$n_b" -eq 6 ] && [ $((pairs * 2 + single)) -eq $((first + second)) ] \
		&& t_ok "real reads: $pairs pairs in each of 6 files = pairs in samtools view -f 0x40/-f 0x80 ($first + $second first/second mates, $single singletons)" \
		|| t_fail "real read counts: pairs=$pairs first=$first second=$second single=$single bases=$bases1 (n_r=$n_r n_b=$n_b)"
	ok=1
	for f in r1.fq.gz r2.fq.gz p1.fq p2.fq b1.fq.gz b2.fq.gz; do
		h=$(sha256sum "$d/$f" | cut -d' ' -f1)
		grep -A 8 "\"path\": \"$f\"" "$d/t1.json" | grep -q "\"sha256\": \"$h\"" || { ok=0; echo "  sha256 of $f differs"; }
	done
	[ $ok -eq 1 ] && t_ok "SHA-256 of all 6 inputs equals sha256sum" || t_fail "SHA-256"
	# -t 3 report (written with -o) equals the -t 1 report (printed with --json)
	cmp -s "$d/t1.json" "$d/report.json" && t_ok "report identical with -t 1 and -t 3" || t_fail "report depends on -t"
	grep -q '"code": "RD-DIAB"' "$d/t1.json" && grep -q '"code": "CA-PRED"' "$d/t1.json" \
		&& t_ok "indication codes normalised in the report" || t_fail "indication codes in report"

	# a real gzip file cut short at any point is an error, never a silent end of file
	sz=$(wc -c < "$d/r1.fq.gz"); bad=0
	for cut in 10 1000 $((sz / 3)) $((sz / 2)) $((sz - 9)) $((sz - 1)); do
		dc=$(t_tmp ingest/real_cut_$cut); head -c $cut "$d/r1.fq.gz" > "$dc/r1.fq.gz"; cp "$d/r2.fq.gz" "$dc/"
		ROWS=S1,PSN-0001,RD-BONE,female,r1.fq.gz,r2.fq.gz sheet "$dc"
		$SEQA ingest -o "$dc/report.json" "$dc/sheet.csv" > /dev/null 2> "$dc/err"; rc=$?
		{ [ $rc -eq 3 ] && grep -qF "error [GZIP_TRUNCATED] sample S1: $dc/r1.fq.gz record" "$dc/err" && [ ! -e "$dc/report.json" ]; } \
			|| { bad=1; echo "  cut at $cut: rc=$rc"; head -n 3 "$dc/err"; }
	done
	[ $bad -eq 0 ] && t_ok "real gzip cut at 6 points: GZIP_TRUNCATED each time" || t_fail "truncated real gzip"
fi
t_done
