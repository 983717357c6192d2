#!/bin/sh
# seqa — delivery throughput: one 1 GiB result file, Crypt4GH-encrypted into the outbox
# (`seqa outbox enqueue`), then pushed over HTTPS with mutual TLS to a real seqa-inbox on
# 127.0.0.1 (`seqa push`), which checks SHA-256, decrypts and verifies every segment and the
# signed manifest, commits and signs a receipt.  Reports MB/s (1 MB = 1e6 bytes) for the
# encryption step, the push step and the whole, as JSON in bench/results/push-<host>.json.
#
#   sh bench/push.sh [SIZE_MIB]        (default 1024)
#   BENCH_DIR=/path sh bench/push.sh   where the outbox and inbox live (default: /dev/shm if it
#                                      has room, else $TMPDIR): on tmpfs the figure is the
#                                      software's; on a disk, fsync bandwidth bounds it.
set -u
MIB=${1:-1024}
SEQA=${SEQA:-./seqa}
INBOX=${SEQA_INBOX:-./seqa-inbox}
SHARED=${SEQA_SHARED:-../shared}
. tests/cli/cad_common.inc
if [ -z "${BENCH_DIR:-}" ]; then
	if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $((MIB * 1024 * 4)) ]; then BENCH_DIR=/dev/shm; else BENCH_DIR=${TMPDIR:-/tmp}; fi
fi
T=$(mktemp -d "$BENCH_DIR/seqa-bench-push.XXXXXX")
trap 'inbox_stop; rm -rf "$T"' EXIT
mkdir -p bench/results
HOST=$(hostname -s 2>/dev/null || echo host)
cad_pki $T/pki || { echo "bench/push: PKI set-up failed" >&2; exit 1; }
mkdir -p $T/run
head -c $((MIB * 1048576)) /dev/urandom > $T/run/big.vcf.gz
printf '{"sample_id":"BENCH1","gate":{"decision":"pass"}}\n' > $T/run/qc.json
inbox_start $T/inbox $T/pki --max-file-size $((MIB * 2))M || { echo "bench/push: inbox did not start" >&2; exit 1; }
now() { date +%s.%N; }
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }   # utime + stime of a running process
TM="/usr/bin/time -f %U+%S -o"
[ -x /usr/bin/time ] || TM=""
t0=$(now)
$TM $T/enq.cpu $SEQA outbox enqueue -o $T/ob.db --platform plat1 --sign-key $T/pki/plat1.sign --cad-key $T/pki/cad.c4gh.pub $T/run >/dev/null 2>$T/enq.err \
	|| { cat $T/enq.err >&2; exit 1; }
t1=$(now)
ib0=$(ticks $INBOX_PID)
# per-thread CPU of the inbox (connection thread vs verification worker), sampled every 0.2 s
( while kill -0 $INBOX_PID 2>/dev/null; do for f in /proc/$INBOX_PID/task/*/stat; do awk '{print $1, $14 + $15}' $f 2>/dev/null; done; sleep 0.2; done ) > $T/threads.txt 2>/dev/null & SAMP=$!
$TM $T/push.cpu $SEQA push -o $T/ob.db $(push_opts $T/pki) 2>$T/push.err || { tail -5 $T/push.err >&2; exit 1; }
t2=$(now)
ib1=$(ticks $INBOX_PID)
kill $SAMP 2>/dev/null; wait $SAMP 2>/dev/null
# the busiest inbox thread during the push (ticks beyond its value at the start; main thread excluded)
ithr=$(awk -v main=$INBOX_PID '$1 != main { if (!($1 in lo)) lo[$1] = $2; hi[$1] = $2 } END { m = 0; for (t in hi) if (hi[t] - lo[t] > m) m = hi[t] - lo[t]; print m }' $T/threads.txt)
$SEQA outbox list -o $T/ob.db --json | grep -q '"state": "delivered"' || { echo "bench/push: not delivered" >&2; exit 1; }
cpu=$(grep -c ^processor /proc/cpuinfo)
hz=$(getconf CLK_TCK)
ecpu=$( [ -s $T/enq.cpu ] && echo "$(tail -1 $T/enq.cpu)" | bc -l 2>/dev/null || echo 0)
pcpu=$( [ -s $T/push.cpu ] && echo "$(tail -1 $T/push.cpu)" | bc -l 2>/dev/null || echo 0)
load=$(cut -d' ' -f1 /proc/loadavg)
awk -v b=$((MIB * 1048576)) -v t0=$t0 -v t1=$t1 -v t2=$t2 -v dir="$BENCH_DIR" -v cpu=$cpu -v ec="${ecpu:-0}" -v pc="${pcpu:-0}" \
    -v ic=$(( (ib1 - ib0) )) -v it=${ithr:-0} -v hz=$hz -v load=$load 'BEGIN {
	e = t1 - t0; p = t2 - t1; a = t2 - t0; ic = ic / hz; it = it / hz
	# critical path if the machine were idle: encryption spread over up to 4 threads (but no more
	# than the CPUs), then client and inbox in parallel (the slower of the two)
	par = cpu < 4 ? cpu : 4
	est = ec / par + (pc > ic ? pc : ic)              # inbox work counted as serial (conservative)
	ib = it > ic / 2 ? it : ic / 2                      # inbox critical path: its busiest thread
	est2 = ec / par + (pc > ib ? pc : ib)
	printf "{\n  \"bench\": \"push\",\n  \"bytes\": %d,\n  \"state_dir\": \"%s\",\n  \"cpus\": %d,\n  \"loadavg_1min\": %s,\n", b, dir, cpu, load
	printf "  \"encrypt_wall_s\": %.3f,\n  \"push_wall_s\": %.3f,\n  \"total_wall_s\": %.3f,\n", e, p, a
	printf "  \"total_wall_MBps\": %.1f,\n", b / a / 1e6
	printf "  \"encrypt_cpu_s\": %.3f,\n  \"push_client_cpu_s\": %.3f,\n  \"inbox_cpu_s\": %.3f,\n", ec, pc, ic
	printf "  \"inbox_busiest_thread_cpu_s\": %.3f,\n", it
	printf "  \"idle_machine_estimate_s\": %.3f,\n  \"idle_machine_estimate_MBps\": %.1f,\n", est, b / est / 1e6
	printf "  \"idle_machine_estimate_threads_MBps\": %.1f\n}\n", b / est2 / 1e6
}' | tee bench/results/push-$HOST.json
