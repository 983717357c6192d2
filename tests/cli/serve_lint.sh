#!/bin/sh
# udev rules and systemd units pass a lint (udevadm verify where it exists — systemd >= 253 —,
# else our own syntax check; systemd-analyze verify; no world-writable modes), and
# `make install DESTDIR=...` installs the binaries, rules, units and example configuration.
. tests/lib.sh
D=$(t_tmp serve_lint.$$)   # per process: `make test` of other checkouts may run this at the same time
DA=$(cd "$D" && pwd)
R=udev/70-seqa.rules

# ---- udev rules ----------------------------------------------------------------------------
if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
	udevadm verify --no-style "$R" >"$D/udevadm.log" 2>&1; t_check "udevadm verify" [ $? -eq 0 ]
fi
# own check: every rule is KEY[{attr}]OP"value" pairs separated by ", "; keys known; match keys
# use ==/!=, assignment keys =/+=/-=/:=; one line per rule.
awk '
BEGIN {
	split("ACTION DEVPATH KERNEL KERNELS NAME SYMLINK SUBSYSTEM SUBSYSTEMS DRIVER DRIVERS ATTR ATTRS SYSCTL ENV CONST TAG TAGS TEST PROGRAM RESULT OWNER GROUP MODE SECLABEL RUN LABEL GOTO IMPORT OPTIONS", k, " ")
	for (i in k) known[k[i]] = 1
	split("ACTION DEVPATH KERNEL KERNELS SUBSYSTEM SUBSYSTEMS DRIVER DRIVERS ATTRS TAGS TEST PROGRAM RESULT CONST", m, " ")
	for (i in m) matchonly[m[i]] = 1
	split("OWNER GROUP MODE SECLABEL RUN LABEL GOTO IMPORT OPTIONS", a, " ")
	for (i in a) assignonly[a[i]] = 1
	bad = 0
}
/^[ \t]*(#|$)/ { next }
{
	line = $0; n = 0
	while (length(line) > 0) {
		if (!match(line, /^[A-Z_]+(\{[^}]+\})?(==|!=|\+=|-=|:=|=)"[^"]*"/)) { printf "line %d: cannot parse at: %s\n", NR, line; bad = 1; break }
		tok = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
		key = tok; sub(/[{=!+:\-].*/, "", key)
		op = tok; sub(/^[A-Z_]+(\{[^}]+\})?/, "", op); sub(/".*/, "", op)
		if (!(key in known)) { printf "line %d: unknown key %s\n", NR, key; bad = 1 }
		if ((key in matchonly) && op != "==" && op != "!=") { printf "line %d: %s is a match key, %s used\n", NR, key, op; bad = 1 }
		if ((key in assignonly) && (op == "==" || op == "!=")) { printf "line %d: %s is an assignment key, %s used\n", NR, key, op; bad = 1 }
		n++
		if (length(line) == 0) break
		if (substr(line, 1, 2) != ", ") { printf "line %d: expected \", \" at: %s\n", NR, line; bad = 1; break }
		line = substr(line, 3)
	}
}
END { exit bad }' "$R" > "$D/udev_syntax.log"
t_check "udev rules: syntax" [ $? -eq 0 ]
[ -s "$D/udev_syntax.log" ] && cat "$D/udev_syntax.log"
# modes: octal, never world-readable/writable, always with the seqa group
bad=$(grep -v '^[[:space:]]*#' "$R" | grep -o 'MODE="[^"]*"' | sed 's/MODE="\(.*\)"/\1/' | grep -v '^0[0-7][0-7]0$')
t_check "udev rules: no mode gives others any access (${bad:-all 0xx0})" [ -z "$bad" ]
t_check "udev rules: no 0666 anywhere" [ -z "$(grep -v '^[[:space:]]*#' "$R" | grep -E '0666|0777|0662')" ]
t_check "udev rules: every MODE line sets GROUP=\"seqa\"" \
	[ "$(grep -v '^[[:space:]]*#' "$R" | grep -c 'MODE=')" = "$(grep -v '^[[:space:]]*#' "$R" | grep 'MODE=' | grep -c 'GROUP="seqa"')" ]
for n in 'nvidia\[0-9\]\*' nvidiactl nvidia-uvm xclmgmt 'DRIVERS=="xocl"' 'intel-fpga-' 'renderD'; do
	grep -v '^[[:space:]]*#' "$R" | grep -q "$n"; t_check "udev rules cover $n" [ $? -eq 0 ]
done
grep -q 'TAG+="systemd"' "$R" && grep -q 'ENV{SYSTEMD_WANTS}+="seqa-hotplug.service"' "$R"
t_check "udev rules: accelerators tagged for systemd, hot-plug wants seqa-hotplug.service" [ $? -eq 0 ]

# ---- install ------------------------------------------------------------------------------
rm -rf "$DA/root"
make -s install DESTDIR="$DA/root" PREFIX=/usr/local >"$D/install.log" 2>&1; rc=$?
t_check "make install DESTDIR=... exits 0" [ $rc -eq 0 ] || tail -n 20 "$D/install.log"
for f in usr/local/bin/seqa usr/lib/udev/rules.d/70-seqa.rules usr/lib/systemd/system/seqa.service \
         usr/lib/systemd/system/seqa-hotplug.service usr/lib/sysusers.d/seqa.conf etc/seqa/seqa.conf.example \
         usr/local/share/doc/seqa/openapi.yaml; do
	t_check "installed: /$f" [ -s "$DA/root/$f" ]
done
[ -x "$DA/root/usr/local/bin/seqa" ] && "$DA/root/usr/local/bin/seqa" --version | grep -q "^seqa $(cat VERSION)$"
t_check "installed seqa runs" [ $? -eq 0 ]
if [ -f seqa-inbox ]; then t_check "installed: seqa-inbox" [ -x "$DA/root/usr/local/bin/seqa-inbox" ]; fi
t_check "installed files are not world-writable" [ -z "$(find "$DA/root" -perm -o+w ! -type l)" ]
t_check "unit runs the installed binary" grep -q '^ExecStart=/usr/local/bin/seqa serve --config /etc/seqa/seqa.conf$' "$DA/root/usr/lib/systemd/system/seqa.service"
$SEQA serve --check -c "$DA/root/etc/seqa/seqa.conf.example" >/dev/null 2>&1; t_check "example configuration is valid" [ $? -eq 0 ]

# ---- systemd units ------------------------------------------------------------------------
U=$DA/root/usr/lib/systemd/system/seqa.service
for key in 'User=seqa' 'Group=seqa' 'ProtectSystem=strict' 'NoNewPrivileges=true' 'PrivateTmp=true' \
           'DevicePolicy=closed' 'DeviceAllow=char-nvidia-frontend rw' 'DeviceAllow=char-drm rw' 'ReadWritePaths=/var/lib/seqa /var/log/seqa' \
           'CapabilityBoundingSet=' 'ProtectHome=read-only'; do
	grep -qx "$key" "$U"; t_check "unit: $key" [ $? -eq 0 ]
done
if command -v systemd-analyze >/dev/null; then
	# verify needs ExecStart to exist: point the copies at the binary just installed
	mkdir -p "$D/units"
	for u in seqa.service seqa-hotplug.service; do
		sed "s|/usr/local/bin/seqa|$DA/root/usr/local/bin/seqa|" "$DA/root/usr/lib/systemd/system/$u" > "$D/units/$u"
	done
	(cd "$D/units" && systemd-analyze verify ./seqa.service ./seqa-hotplug.service) >"$D/verify.log" 2>&1; rc=$?
	[ $rc -eq 0 ] && ! grep -qiE 'unknown|invalid|failed|ignoring' "$D/verify.log"
	t_check "systemd-analyze verify: no errors or warnings" [ $? -eq 0 ] || cat "$D/verify.log"
else
	t_fail "systemd-analyze is needed to verify the unit"
fi
[ "$_f" -eq 0 ] && rm -rf "$D"
t_done
