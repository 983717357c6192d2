#!/bin/sh
# The CLI surface: --version, --help on every built-in command, unknown options and commands.
. tests/lib.sh
out=$($SEQA --version); rc=$?
t_check "version exits 0" [ $rc -eq 0 ]
echo "$out" | grep -q "^seqa $(cat VERSION)$" && t_ok "version line" || t_fail "version line: $out"
echo "$out" | grep -q '^commit: ' && t_ok "commit line" || t_fail "commit line"
echo "$out" | grep -q '^features: .*htslib' && t_ok "features line" || t_fail "features line"
$SEQA --help >/dev/null; t_check "top-level --help" [ $? -eq 0 ]
$SEQA >/dev/null 2>&1; t_check "no command is a usage error (2)" [ $? -eq 2 ]
msg=$($SEQA frobnicate 2>&1); rc=$?
t_check "unknown command exits 2" [ $rc -eq 2 ]
echo "$msg" | grep -q "unknown command 'frobnicate'" && t_ok "unknown command message" || t_fail "unknown command message: $msg"
for c in $($SEQA --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}'); do
	$SEQA $c --help >/dev/null 2>&1; rc=$?
	t_check "$c --help exits 0" [ $rc -eq 0 ]
	$SEQA $c --no-such-option >/dev/null 2>tests/out/err.$$; rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l < tests/out/err.$$)" -ge 1 ] && t_ok "$c unknown option exits 2 with a message" \
		|| t_fail "$c unknown option: rc=$rc $(cat tests/out/err.$$)"
done
rm -f tests/out/err.$$
t_done
