#!/bin/sh
# seqa devices: PCI accelerators read from lspci dumps (tests/data/lspci/, see its README)
# compared with what lspci itself decodes from the same dumps (addresses, ids, classes, names,
# negotiated and maximum link speed/width), and this machine compared with lspci and clinfo
# (here: the PoCL CPU device and no GPU), with the pair-HMM self-test of each backend.
. tests/lib.sh
D=$(t_tmp devices.$$)   # per process: `make test` of other checkouts may run this at the same time
command -v lspci >/dev/null || { t_fail "lspci (pciutils) is needed to check seqa devices"; t_done; exit 1; }

# accelerators as lspci sees them: class 03xx/12xx/0b40, or an FPGA vendor (not a bridge)
lspci_accels() {
	lspci -F "$1" -n -D 2>/dev/null | awk '{ c = $2; sub(":", "", c); split($3, id, ":");
		if (c ~ /^03/ || c ~ /^12/ || c == "0b40" || ((id[1] == "10ee" || id[1] == "1172") && c !~ /^06/))
			print $1, $3, c }' | sort
}
# "32" and "16" from "Speed 32GT/s, Width x16" (LnkSta or LnkCap line)
lspci_link() {
	lspci -F "$1" -vv -s "$2" 2>/dev/null | grep -E "^\s+$3:" | head -n 1 |
		sed -E 's/.*Speed ([0-9.]+)GT\/s[^,]*, Width x([0-9]+).*/\1 \2/'
}

for f in tests/data/lspci/*.txt; do
	b=$(basename "$f" .txt)
	$SEQA devices --json --pci-dump "$f" > "$D/$b.json"; rc=$?
	t_check "$b: exit 0" [ $rc -eq 0 ]
	jq -r '.pci[] | "\(.address) \(.id) \(.class_id)"' < "$D/$b.json" | sort > "$D/$b.seqa"
	lspci_accels "$f" > "$D/$b.lspci"
	[ -s "$D/$b.lspci" ] && cmp -s "$D/$b.seqa" "$D/$b.lspci"
	t_check "$b: the accelerators lspci decodes ($(wc -l < "$D/$b.lspci"))" [ $? -eq 0 ]
	ok=1
	for a in $(cut -d' ' -f1 "$D/$b.seqa"); do
		m=$(lspci -F "$f" -mm -s "$a" 2>/dev/null)
		v=$(jq -r --arg a "$a" '.pci[] | select(.address == $a) | .vendor' < "$D/$b.json")
		d=$(jq -r --arg a "$a" '.pci[] | select(.address == $a) | .device' < "$D/$b.json")
		echo "$m" | grep -qF "\"$v\" \"$d\"" || { ok=0; echo "# $a: seqa '$v' '$d' vs lspci $m"; }
		sta=$(lspci_link "$f" "$a" LnkSta); cap=$(lspci_link "$f" "$a" LnkCap)
		got_sta=$(jq -r --arg a "$a" '.pci[] | select(.address == $a) | .link | if . == null then "" else "\(.speed | sub(" GT/s"; "")) \(.width)" end' < "$D/$b.json")
		got_cap=$(jq -r --arg a "$a" '.pci[] | select(.address == $a) | .link | if . == null then "" else "\(.max_speed | sub(" GT/s"; "")) \(.max_width)" end' < "$D/$b.json")
		[ "$sta" = "$got_sta" ] && [ "$cap" = "$got_cap" ] || { ok=0; echo "# $a: link seqa '$got_sta'/'$got_cap' vs lspci '$sta'/'$cap'"; }
	done
	t_check "$b: names and link speed/width as lspci decodes them" [ $ok -eq 1 ]
done
# kinds and the summary
t_check "H100: two GPUs, the BMC's VGA is a display, NVSwitch and NIC not listed" \
	[ "$(jq -r '[.pci[] | .kind] | join(",")' < "$D/nvidia_hgx_h100.json")" = "display,gpu,gpu" ]
t_check "H100: the degraded link is visible" \
	[ "$(jq -r '.pci[] | select(.address == "0000:9b:00.0") | "\(.link.speed) x\(.link.width) of \(.link.max_speed) x\(.link.max_width)"' < "$D/nvidia_hgx_h100.json")" = "16 GT/s x8 of 32 GT/s x16" ]
t_check "Alveo U250: both physical functions are FPGAs" [ "$(jq '.summary.pci_fpgas' < "$D/xilinx_alveo_u250.json")" = 2 ]
t_check "PAC D5005 (lspci -x, 64 bytes): FPGA, link unknown" \
	[ "$(jq -r '.pci[0] | "\(.kind) \(.link)"' < "$D/intel_pac_d5005_x.json")" = "fpga null" ]
$SEQA devices --pci-dump "$D/nonexistent.txt" >/dev/null 2>&1; rc=$?
t_check "unreadable dump: exit 4" [ $rc -eq 4 ]
$SEQA devices --all --json --pci-dump tests/data/lspci/nvidia_hgx_h100.txt > "$D/all.json"
t_check "--all lists every function ($(lspci -F tests/data/lspci/nvidia_hgx_h100.txt | wc -l))" \
	[ "$(jq '.pci | length' < "$D/all.json")" = "$(lspci -F tests/data/lspci/nvidia_hgx_h100.txt 2>/dev/null | wc -l)" ]

# ---- this machine ----------------------------------------------------------------------------
$SEQA devices --json > "$D/here.json"; rc=$?
t_check "this machine: exit 0" [ $rc -eq 0 ]
jq -r '.pci[] | "\(.address) \(.id) \(.class_id)"' < "$D/here.json" | sort > "$D/here.seqa"
lspci -n -D 2>/dev/null | awk '{ c = $2; sub(":", "", c); split($3, id, ":");
	if (c ~ /^03/ || c ~ /^12/ || c == "0b40" || ((id[1] == "10ee" || id[1] == "1172") && c !~ /^06/)) print $1, $3, c }' | sort > "$D/here.lspci"
t_check "this machine: the same accelerators as lspci ($(wc -l < "$D/here.lspci"))" cmp -s "$D/here.seqa" "$D/here.lspci"
n_gpu_lspci=$(lspci -n 2>/dev/null | awk '$2 ~ /^03/' | wc -l)
t_check "this machine: GPU count as lspci ($n_gpu_lspci)" [ "$(jq '.summary.pci_gpus' < "$D/here.json")" = "$n_gpu_lspci" ]
if command -v clinfo >/dev/null; then
	clinfo -l 2>/dev/null | sed -n 's/^ *`-- Device #[0-9]*: //p' | sort > "$D/cl.clinfo"
	jq -r '.runtimes[] | select(.runtime == "opencl" and .available) | .name' < "$D/here.json" | sort > "$D/cl.seqa"
	t_check "OpenCL devices as clinfo lists them ($(tr '\n' ';' < "$D/cl.clinfo"))" cmp -s "$D/cl.seqa" "$D/cl.clinfo"
fi
if clinfo -l 2>/dev/null | grep -q "Portable Computing Language"; then
	t_check "PoCL's CPU device is reported as an OpenCL CPU device" \
		[ "$(jq -r '[.runtimes[] | select(.platform == "Portable Computing Language") | .type] | unique | join(",")' < "$D/here.json")" = cpu ]
fi
if ! ls /dev/nvidia0 >/dev/null 2>&1; then
	t_check "no NVIDIA device here: no CUDA device reported" [ "$(jq '.summary.cuda_devices' < "$D/here.json")" = 0 ]
fi
t_check "self-test: the CPU backend passes against kernels/ref" \
	[ "$(jq -r '.selftest[] | select(.backend == "cpu") | .status' < "$D/here.json")" = pass ]
if [ "$(jq '.summary.opencl_cpu_devices + .summary.opencl_accelerator_devices' < "$D/here.json")" -gt 0 ]; then
	t_check "self-test: the OpenCL backend passes against kernels/ref" \
		[ "$(jq -r '.selftest[] | select(.backend == "opencl") | .status' < "$D/here.json")" = pass ]
fi
$SEQA devices > "$D/here.txt"; rc=$?
[ $rc -eq 0 ] && grep -q '^Summary: ' "$D/here.txt"; t_check "human output" [ $? -eq 0 ]
[ "$_f" -eq 0 ] && rm -rf "$D"
t_done
