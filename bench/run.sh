#!/bin/sh
# seqa — `make bench`: every benchmark in turn; each writes its JSON under bench/results/.
# Add a line per benchmark.
set -u
rc=0
sh bench/pairhmm.sh || rc=1
sh bench/push.sh || rc=1
sh bench/align.sh || rc=1
sh bench/call.sh || rc=1
sh bench/simulate.sh || rc=1
exit $rc
