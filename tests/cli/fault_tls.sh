#!/bin/sh
# TLS settings of `seqa serve` (docs/SECURITY.md §6, ANSSI-PA-035): with tls_cert/tls_key the
# service must accept TLS 1.3 and TLS 1.2 ECDHE+AEAD, and refuse TLS 1.1, TLS 1.2 CBC suites and
# static-RSA key exchange (no forward secrecy).  Checked with openssl s_client on loopback.
. tests/lib.sh
. tests/cli/serve_common.inc
command -v openssl >/dev/null || { t_skip "fault_tls: openssl absent"; t_done; exit 0; }
d=$(t_tmp fault_tls)
# an RSA server certificate (so that static-RSA suites would be possible if allowed)
openssl req -x509 -newkey rsa:2048 -nodes -keyout $d/srv.key -out $d/srv.crt -days 2 -subj "/CN=127.0.0.1" >/dev/null 2>&1 \
	|| { t_fail "fault_tls: certificate"; t_done; exit 1; }
chmod 600 $d/srv.key
cat > $d/seqa.conf <<EOC
[server]
listen = 127.0.0.1:0
tls_cert = $PWD/$d/srv.crt
tls_key = $PWD/$d/srv.key
[paths]
data_dir = $PWD/$d/data
EOC
srv_start $d $d/seqa.conf || { t_fail "fault_tls: seqa serve with TLS starts"; t_done; exit 1; }
P=$(cat $d/port)
hs() { echo | timeout 10 openssl s_client -connect 127.0.0.1:$P "$@" >$d/s.log 2>&1; grep -q 'Cipher is [A-Z0-9]' $d/s.log && ! grep -q 'Cipher is (NONE)' $d/s.log; }
t_check "TLS 1.3 accepted" hs -tls1_3
t_check "TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 accepted" hs -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
hs -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' && t_fail "TLS 1.1 accepted" || t_ok "TLS 1.1 refused"
hs -tls1_2 -cipher ECDHE-RSA-AES128-SHA256 && t_fail "TLS 1.2 CBC suite ECDHE-RSA-AES128-SHA256 accepted" || t_ok "TLS 1.2 CBC suite refused"
hs -tls1_2 -cipher AES256-GCM-SHA384 && t_fail "TLS 1.2 static-RSA suite AES256-GCM-SHA384 accepted (no forward secrecy)" || t_ok "TLS 1.2 static-RSA key exchange refused"
srv_stop
t_done
