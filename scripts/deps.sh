#!/bin/sh
# Install the Debian packages seqa needs to build and test, when any is missing.
# Called by `make deps` (and so by make, make test, make demo). Idempotent and quiet
# when everything is present. Uses sudo when not root.
#
# Note: libhts-dev depends on libcurl4-gnutls-dev, which conflicts with
# libcurl4-openssl-dev; we install the gnutls -dev package for headers and link the
# OpenSSL libcurl runtime (libcurl4) explicitly where TLS with OpenSSL matters.
set -e
PKGS="build-essential pkg-config zlib1g-dev libhts-dev libbwa-dev libjansson-dev libpci-dev
      ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libcurl4 libcurl4-gnutls-dev
      libssl-dev libsodium-dev libsqlite3-dev libmicrohttpd-dev
      samtools bcftools tabix bwa dwgsim freebayes xxd bowtie2-examples
      fastp multiqc chromium jq curl pciutils openssl python3-pip python3-yaml
      valgrind gdb"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
# PyPI crypt4gh (the reference Crypt4GH tool) for the delivery interop tests, which skip,
# saying so, without it.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import crypt4gh' >/dev/null 2>&1; then
	python3 -m pip install -q crypt4gh >/dev/null 2>&1 || python3 -m pip install -q --user --break-system-packages crypt4gh >&2 \
		|| echo "[deps] could not pip install crypt4gh: Crypt4GH interop tests will skip" >&2
fi
[ -z "$missing" ] && exit 0
echo "[deps] installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >&2
