# seqa — helpers for shell tests (sourced).  Each test script calls t_ok/t_fail/t_skip and
# ends with t_done, which prints "N passed, N failed, N skipped".
SEQA=${SEQA:-./seqa}
SHARED=${SEQA_SHARED:-../shared}
_p=0; _f=0; _s=0
t_ok()   { echo "ok - $1"; _p=$((_p + 1)); }
t_fail() { echo "not ok - $1"; _f=$((_f + 1)); }
t_skip() { echo "skip - $1"; _s=$((_s + 1)); }
# t_check NAME CMD...: ok if CMD exits 0
t_check() { n=$1; shift; if "$@"; then t_ok "$n"; else t_fail "$n"; fi; }
t_done() { echo "$_p passed, $_f failed, $_s skipped"; [ $_f -eq 0 ]; }
t_tmp()  { d=tests/out/$1; rm -rf "$d"; mkdir -p "$d"; echo "$d"; }
