#!/bin/sh
# seqa — delivery throughput: one 1 GiB result file, Crypt4GH-encrypted into the outbox
# (`seqa outbox enqueue`), then pushed over HTTPS with mutual TLS to a real seqa-inbox on
# 127.0.0.1 (`seqa push`), which checks SHA-256, decrypts and verifies every segment and the
# signed manifest, commits and signs a receipt.  Repeated REPS times (a fresh outbox and a
# fresh inbox each time, same input file).  Reports, as JSON in bench/results/push-<host>.json:
#   - wall MB/s (1 MB = 1e6 bytes) of encryption + push, median over the repetitions, with
#     the 1-minute load average before and after (on a shared machine the wall figure is
#     only as good as the load lets it be);
#   - CPU seconds per GiB for each side, medians: the client (encryption, push) and the
#     inbox (all its threads): these hardly depend on the load;
#   - an idle-machine estimate from those CPU figures (see the comments below).
#
#   sh bench/push.sh [SIZE_MIB]        (default 1024)
#   REPS=N                             repetitions (default 3)
#   BENCH_OUT=FILE                     write the JSON there instead
#   SEQA=... SEQA_INBOX=...            the binaries to measure (default ./seqa, ./seqa-inbox)
#   BENCH_DIR=/path sh bench/push.sh   where the outbox and inbox live (default: /dev/shm if it
#                                      has room, else $TMPDIR): on tmpfs the figure is the
#                                      software's; on a disk, fsync bandwidth bounds it.
set -u
MIB=${1:-1024}
REPS=${REPS:-3}
SEQA=${SEQA:-./seqa}
INBOX=${SEQA_INBOX:-./seqa-inbox}
SHARED=${SEQA_SHARED:-../shared}
. tests/cli/cad_common.inc
if [ -z "${BENCH_DIR:-}" ]; then
	if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $((MIB * 1024 * 4)) ]; then BENCH_DIR=/dev/shm; else BENCH_DIR=${TMPDIR:-/tmp}; fi
fi
[ -x /usr/bin/time ] || { echo "bench/push: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
T=$(mktemp -d "$BENCH_DIR/seqa-bench-push.XXXXXX")
trap 'inbox_stop; rm -rf "$T"' EXIT
mkdir -p bench/results
HOST=$(hostname -s 2>/dev/null || echo host)
cad_pki $T/pki || { echo "bench/push: PKI set-up failed" >&2; exit 1; }
mkdir -p $T/run
head -c $((MIB * 1048576)) /dev/urandom > $T/run/big.vcf.gz
printf '{"sample_id":"BENCH1","gate":{"decision":"pass"}}\n' > $T/run/qc.json
now() { date +%s.%N; }
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }   # utime + stime of a process (all its threads, exited ones included)
hz=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1 /proc/loadavg)
: > $T/runs.txt
rep=1
while [ $rep -le $REPS ]; do
	R=$T/r$rep
	mkdir -p $R
	inbox_start $R/inbox $T/pki --max-file-size $((MIB * 2))M || { echo "bench/push: inbox did not start" >&2; exit 1; }
	t0=$(now)
	/usr/bin/time -f %U+%S -o $R/enq.cpu $SEQA outbox enqueue -o $R/ob.db --platform plat1 --sign-key $T/pki/plat1.sign \
		--cad-key $T/pki/cad.c4gh.pub $T/run >/dev/null 2>$R/enq.err || { cat $R/enq.err >&2; exit 1; }
	t1=$(now)
	ib0=$(ticks $INBOX_PID)
	# per-thread CPU of the inbox, sampled every 0.2 s (the busiest thread bounds an idle machine)
	( while kill -0 $INBOX_PID 2>/dev/null; do for f in /proc/$INBOX_PID/task/*/stat; do awk '{print $1, $14 + $15}' $f 2>/dev/null; done; sleep 0.2; done ) > $R/threads.txt 2>/dev/null & SAMP=$!
	/usr/bin/time -f %U+%S -o $R/push.cpu $SEQA push -o $R/ob.db $(push_opts $T/pki) 2>$R/push.err || { tail -5 $R/push.err >&2; exit 1; }
	t2=$(now)
	ib1=$(ticks $INBOX_PID)
	kill $SAMP 2>/dev/null; wait $SAMP 2>/dev/null
	$SEQA outbox list -o $R/ob.db --json | grep -q '"state": "delivered"' || { echo "bench/push: not delivered" >&2; exit 1; }
	inbox_stop
	ithr=$(awk -v main=$INBOX_PID '$1 != main { if (!($1 in lo)) lo[$1] = $2; hi[$1] = $2 } END { m = 0; for (t in hi) if (hi[t] - lo[t] > m) m = hi[t] - lo[t]; print m }' $R/threads.txt)
	ec=$(tail -1 $R/enq.cpu | bc -l)
	pc=$(tail -1 $R/push.cpu | bc -l)
	# one line per repetition: encrypt_wall push_wall encrypt_cpu push_cpu inbox_cpu inbox_busiest_thread_cpu
	awk -v t0=$t0 -v t1=$t1 -v t2=$t2 -v ec=$ec -v pc=$pc -v ic=$((ib1 - ib0)) -v it=${ithr:-0} -v hz=$hz \
		'BEGIN { printf "%.3f %.3f %.3f %.3f %.3f %.3f\n", t1 - t0, t2 - t1, ec, pc, ic / hz, it / hz }' >> $T/runs.txt
	echo "bench/push: run $rep/$REPS: $(tail -1 $T/runs.txt) (encrypt_wall push_wall encrypt_cpu push_cpu inbox_cpu inbox_thread_cpu)" >&2
	rm -rf $R
	rep=$((rep + 1))
done
load1=$(cut -d' ' -f1 /proc/loadavg)
cpu=$(grep -c ^processor /proc/cpuinfo)
awk -v b=$((MIB * 1048576)) -v dir="$BENCH_DIR" -v cpu=$cpu -v l0=$load0 -v l1=$load1 -v n=$REPS '
function med(a, k,   i, j, t, c) { for (i = 1; i <= k; ++i) c[i] = a[i]
	for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
	return k % 2 ? c[(k + 1) / 2] : (c[k / 2] + c[k / 2 + 1]) / 2 }
{ ++k; ew[k] = $1; pw[k] = $2; tw[k] = $1 + $2; mb[k] = b / ($1 + $2) / 1e6; ec[k] = $3; pc[k] = $4; ic[k] = $5; it[k] = $6 }
END {
	g = b / 1073741824                                     # GiB
	e = med(ew, k); p = med(pw, k); a = med(tw, k)
	E = med(ec, k); P = med(pc, k); I = med(ic, k); IT = med(it, k)
	# critical path if the machine were idle: encryption spread over up to 4 threads (but no
	# more than the CPUs), then client and inbox in parallel.  Conservative: the inbox counted
	# as serial.  "_threads": the inbox bounded by its busiest thread (a connection thread and
	# two verification workers), and the push phase by its CPU total over the CPUs.
	par = cpu < 4 ? cpu : 4
	est = E / par + (P > I ? P : I)
	ib = IT; if ((P + I) / cpu > ib) ib = (P + I) / cpu
	est2 = E / par + (P > ib ? P : ib)
	printf "{\n  \"bench\": \"push\",\n  \"bytes\": %d,\n  \"state_dir\": \"%s\",\n  \"cpus\": %d,\n  \"reps\": %d,\n", b, dir, cpu, k
	printf "  \"loadavg_1min_before\": %s,\n  \"loadavg_1min_after\": %s,\n", l0, l1
	printf "  \"wall_MBps_runs\": ["; for (i = 1; i <= k; ++i) printf "%s%.1f", (i > 1 ? ", " : ""), mb[i]; printf "],\n"
	printf "  \"total_wall_MBps\": %.1f,\n", b / a / 1e6
	printf "  \"encrypt_wall_s\": %.3f,\n  \"push_wall_s\": %.3f,\n  \"total_wall_s\": %.3f,\n", e, p, a
	printf "  \"encrypt_cpu_s\": %.3f,\n  \"push_client_cpu_s\": %.3f,\n  \"inbox_cpu_s\": %.3f,\n  \"inbox_busiest_thread_cpu_s\": %.3f,\n", E, P, I, IT
	printf "  \"cpu_s_per_GiB\": { \"client_encrypt\": %.2f, \"client_push\": %.2f, \"client_total\": %.2f, \"inbox\": %.2f, \"all\": %.2f },\n", \
		E / g, P / g, (E + P) / g, I / g, (E + P + I) / g
	printf "  \"idle_machine_estimate_MBps\": %.1f,\n", b / est / 1e6
	printf "  \"idle_machine_estimate_threads_MBps\": %.1f\n}\n", b / est2 / 1e6
}' $T/runs.txt | tee ${BENCH_OUT:-bench/results/push-$HOST.json}
