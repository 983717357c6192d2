# seqa — one entry point.  `make` builds, `make test` tests, `make demo` runs the demo.
# Plain make, no configure step.  Override CC, CFLAGS, NVCC, CUDA_ARCH, PREFIX, DESTDIR.

CC        ?= cc
NVCC      ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
PREFIX    ?= /usr/local
UDEVDIR   ?= /usr/lib/udev/rules.d
UNITDIR   ?= /usr/lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
SYSCONFDIR ?= /etc
DOCDIR    ?= $(PREFIX)/share/doc/seqa
DESTDIR   ?=
OPT       ?= -O2
SAN       ?=
CFLAGS    ?= $(OPT) -g
WERROR    ?=
PKGS       = htslib jansson libsodium libcrypto sqlite3 OpenCL libpci libmicrohttpd
VERSION   := $(shell cat VERSION)
COMMIT    := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

BUILD     ?= build
SQ_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -pthread $(SAN) \
             -Ihost/include -Ikernels -Idrivers -I$(BUILD)/gen \
             -DSEQA_VERSION='"$(VERSION)"' -DSEQA_COMMIT='"$(COMMIT)"' \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/bwa
# libcurl: the OpenSSL build (package libcurl4) by path, since the -dev package installed is the
# GnuTLS one (htslib needs it).  Symbols are versioned (CURL_OPENSSL_4 vs CURL_GNUTLS_3), so
# both load side by side in one process.
CURL_LIB  ?= $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libcurl.so.4 /usr/lib/*/libcurl.so.4) -lcurl)
# htslib before libbwa.a: libbwa's kstring.o defines a ksprintf that ignores a failed realloc (then
# writes through NULL); linked first it replaced htslib's checked one for all of seqa's own calls.
# With libhts.so first, kstring.o (only ksprintf) is never pulled in (fault-injection finding).
# libbwa's mem_chain2aln calls its scalar ksw_extend2: --wrap sends that call to seqa's SIMD
# restatement (kernels/ksw.h, kernels/cpu/ksw_dispatch.c), which falls back to the original
# (__real_ksw_extend2); --undefined pulls the wrapper out of libseqa.a before libbwa.a needs it.
BWA_WRAP   = -Wl,--undefined=__wrap_ksw_extend2 -Wl,--wrap=ksw_extend2
LDLIBS     = $(BWA_WRAP) $(shell pkg-config --libs $(PKGS) 2>/dev/null) /usr/lib/libbwa.a $(CURL_LIB) -lz -lm -ldl -lpthread
LDFLAGS   ?=

# ---- sources -------------------------------------------------------------------------
# Every component folder contributes its .c files; nothing to register by hand.
HOST_SRC   = $(filter-out host/cli/main.c host/inbox/%,$(wildcard host/*/*.c))
KREF_SRC   = $(wildcard kernels/ref/*.c)
# kernels/cpu: per-object ISA flags from the file name (*_avx2.c, *_avx512.c, *_sse.c)
KCPU_SRC   = $(wildcard kernels/cpu/*.c)
DRV_SRC    = $(wildcard drivers/*.c drivers/cpu/*.c drivers/opencl/*.c drivers/fpga/*.c drivers/cuda/*.c)
CL_SRC     = $(wildcard kernels/opencl/*.cl)
CL_GEN     = $(patsubst kernels/opencl/%.cl,$(BUILD)/gen/cl_%.h,$(CL_SRC))
LIB_SRC    = $(HOST_SRC) $(KREF_SRC) $(KCPU_SRC) $(DRV_SRC)
LIB_OBJ    = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
INBOX_SRC  = $(wildcard host/inbox/*.c)
CUDA_SRC   = $(wildcard kernels/cuda/*.cu drivers/cuda/*.cu)
CUDA_LIB   = $(if $(NVCC),$(if $(CUDA_SRC),$(BUILD)/libseqa_cuda.so))
TEST_SRC   = $(wildcard tests/unit/test_*.c)
TEST_BIN   = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
FW_SRC     = $(wildcard firmware/*/*_csim.c)
FW_BIN     = $(patsubst firmware/%.c,$(BUILD)/firmware/%,$(FW_SRC))

ISA_FLAGS  = $(if $(findstring _avx512,$<),-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mavx2,\
             $(if $(findstring _avx2,$<),-mavx2 -mfma,$(if $(findstring _sse,$<),-msse4.1,)))

.PHONY: all deps test check bench demo install clean print-config fuzz fuzz-bins cuda
.DEFAULT_GOAL := all

all: deps seqa $(if $(INBOX_SRC),seqa-inbox) $(CUDA_LIB)

deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c $(CL_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(SQ_CFLAGS) $(CFLAGS) $(ISA_FLAGS) -MMD -MP -c -o $@ $<

# OpenCL sources are embedded in the binary as C string literals.
$(BUILD)/gen/cl_%.h: kernels/opencl/%.cl
	@mkdir -p $(dir $@)
	@{ echo '/* generated from $< — do not edit */'; \
	   echo 'static const char sq_cl_src_$*[] = {'; xxd -i < $<; echo ', 0x00 };'; } > $@

# Static files (the service dashboard) are embedded the same way: every file in host/server/www/
# becomes a byte array in $(BUILD)/gen/www_assets.h, with a table sq_www_files[] {name, data, len}.
WWW_SRC    = $(sort $(wildcard host/server/www/*.*))
$(BUILD)/gen/www_assets.h: $(WWW_SRC) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* generated from host/server/www/ — do not edit */'; i=0; \
	   for f in $(WWW_SRC); do echo "static const unsigned char sq_www_$$i[] = {"; xxd -i < $$f; echo ', 0x00 };'; i=$$((i+1)); done; \
	   echo 'static const struct { const char *name; const unsigned char *data; unsigned len; } sq_www_files[] = {'; i=0; \
	   for f in $(WWW_SRC); do echo "	{ \"$$(basename $$f)\", sq_www_$$i, $$(wc -c < $$f) },"; i=$$((i+1)); done; \
	   echo '	{ 0, 0, 0 }'; echo '};'; } > $@
$(BUILD)/host/server/www.o: $(BUILD)/gen/www_assets.h
# klib's kbtree (bwa chaining in host/align/core.c) keeps keys 4 bytes into each node: misaligned
# 8-byte stores, harmless on x86-64 but fatal under UBSan's alignment check: off for that file only.
$(BUILD)/host/align/core.o: SQ_CFLAGS += $(if $(findstring undefined,$(SAN)),-fno-sanitize=alignment)

$(BUILD)/libseqa.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Subcommand objects are linked explicitly: main.c references them weakly, and a weak
# reference does not pull a member out of a static archive.
CMD_OBJ    = $(patsubst %.c,$(BUILD)/%.o,$(wildcard host/cli/cmd_*.c))
seqa: $(BUILD)/host/cli/main.o $(CMD_OBJ) $(BUILD)/libseqa.a
	$(CC) $(SQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

seqa-inbox: $(patsubst %.c,$(BUILD)/%.o,$(INBOX_SRC)) $(BUILD)/libseqa.a
	$(CC) $(SQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs gnutls 2>/dev/null)

# The same two programs inside the build folder (the sanitizer build must not replace ./seqa).
$(BUILD)/seqa: $(BUILD)/host/cli/main.o $(CMD_OBJ) $(BUILD)/libseqa.a
	$(CC) $(SQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/seqa-inbox: $(patsubst %.c,$(BUILD)/%.o,$(INBOX_SRC)) $(BUILD)/libseqa.a
	$(CC) $(SQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs gnutls 2>/dev/null)

# CUDA: built only where nvcc exists; loaded by seqa at run time (dlopen), so seqa runs
# on machines without CUDA.
$(BUILD)/libseqa_cuda.so: $(CUDA_SRC) $(wildcard kernels/*.h drivers/*.h kernels/cuda/*.cuh drivers/cuda/*.h)
	@mkdir -p $(dir $@)
	$(NVCC) -O3 -std=c++17 -Xcompiler -fPIC -shared $(CUDA_ARCH) -Ihost/include -Ikernels -Idrivers \
	    -o $@ $(CUDA_SRC)
cuda:
	@if [ -n "$(NVCC)" ]; then $(MAKE) $(BUILD)/libseqa_cuda.so; else echo "[cuda] nvcc not found: CUDA backend not built"; fi

# ---- tests ---------------------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c tests/harness.h $(BUILD)/libseqa.a
	@mkdir -p $(dir $@)
	$(CC) $(SQ_CFLAGS) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/libseqa.a $(LDLIBS)

$(BUILD)/firmware/%: firmware/%.c $(BUILD)/libseqa.a
	@mkdir -p $(dir $@)
	$(CC) $(SQ_CFLAGS) $(CFLAGS) -Itests -Ifirmware $(LDFLAGS) -o $@ $< $(BUILD)/libseqa.a $(LDLIBS)

# (fuzz_inbox compiles host/inbox/server.c's internals: built by `make fuzz` only, not by make test)
REPLAY_BIN = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(filter-out %/fuzz_inbox.c,$(wildcard tests/fuzz/fuzz_*.c)))
test: all $(TEST_BIN) $(FW_BIN) $(BUILD)/fault/libseqa_fault.so $(REPLAY_BIN)
	@if [ -z "$(NVCC)" ]; then echo "[cuda] nvcc not found: CUDA sources not compiled"; fi
	@BUILD=$(BUILD) sh tests/run.sh

# Fault-injection shim for tests (LD_PRELOAD; see tests/fault/shim.c).  Never sanitized: it
# replaces malloc, which the sanitizers own.
$(BUILD)/fault/libseqa_fault.so: tests/fault/shim.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra $(WERROR) -shared -fPIC -o $@ $< -ldl

# The fuzz harnesses without libFuzzer: replay the committed corpora (tests/cli/fuzz_replay.sh).
$(BUILD)/fuzz-replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_keys.h $(BUILD)/libseqa.a
	@mkdir -p $(dir $@)
	$(CC) $(SQ_CFLAGS) $(CFLAGS) -Itests/fuzz $(LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/libseqa.a $(LDLIBS)
$(BUILD)/fuzz-replay/fuzz_inbox: tests/fuzz/fuzz_inbox.c tests/fuzz/replay_main.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_keys.h $(BUILD)/host/inbox/store.o $(BUILD)/libseqa.a $(wildcard host/inbox/*)
	@mkdir -p $(dir $@)
	$(CC) $(SQ_CFLAGS) $(CFLAGS) -Itests/fuzz -Ihost/inbox $(LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/host/inbox/store.o $(BUILD)/libseqa.a $(LDLIBS) $(shell pkg-config --libs gnutls 2>/dev/null)

# Sanitizer build of everything in its own build folder (build-san/seqa, never ./seqa), then the
# whole suite under ASan+UBSan (any report fails the test that triggered it), then ThreadSanitizer
# on the threaded stages (build-tsan/) and valgrind memcheck of `seqa run` (tests/fault/).
# CHECK_TESTS="test_x tests/cli/y.sh" runs only those under ASan+UBSan (CI's reduced set, see
# .ci/run); CHECK_TSAN=0 / CHECK_VALGRIND=0 skip those parts.
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_ENV    = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=0 \
             UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fault/lsan.supp:print_suppressions=0
check: deps
	$(MAKE) BUILD=build-san OPT=-O1 SAN='$(SAN_FLAGS)' build-san/seqa build-san/seqa-inbox \
	    $(patsubst $(BUILD)/%,build-san/%,$(TEST_BIN) $(FW_BIN) $(REPLAY_BIN))
	$(SAN_ENV) BUILD=build-san SEQA=build-san/seqa SEQA_INBOX=build-san/seqa-inbox CHECK_TESTS="$(CHECK_TESTS)" \
	    sh tests/fault/san_suite.sh
	$(if $(filter 0,$(CHECK_TSAN)),@echo "check: TSan run skipped (CHECK_TSAN=0)",sh tests/fault/tsan.sh)
	$(if $(filter 0,$(CHECK_VALGRIND)),@echo "check: valgrind run skipped (CHECK_VALGRIND=0)",sh tests/fault/valgrind_run.sh)

bench: all
	@sh bench/run.sh

demo: all
	@sh scripts/demo.sh

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) built with clang into build-fuzz/, each run for
# FUZZ_SECONDS on a copy of its committed corpus; new crashes land in tests/fuzz/crashes/.
FUZZ_SECONDS ?= 60
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_CC   ?= clang
fuzz:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) OPT=-O1 SAN='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined' fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_ONLY="$(FUZZ_ONLY)" sh tests/fuzz/run.sh
fuzz-bins: $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRC))
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_keys.h $(BUILD)/libseqa.a
	$(CC) $(SQ_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz $(LDFLAGS) -o $@ $< $(BUILD)/libseqa.a $(LDLIBS)
$(BUILD)/fuzz_inbox: tests/fuzz/fuzz_inbox.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_keys.h $(BUILD)/host/inbox/store.o $(BUILD)/libseqa.a $(wildcard host/inbox/*)
	$(CC) $(SQ_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz -Ihost/inbox $(LDFLAGS) -o $@ $< $(BUILD)/host/inbox/store.o $(BUILD)/libseqa.a $(LDLIBS) $(shell pkg-config --libs gnutls 2>/dev/null)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 seqa $(DESTDIR)$(PREFIX)/bin/seqa
	if [ -f seqa-inbox ]; then install -m 0755 seqa-inbox $(DESTDIR)$(PREFIX)/bin/; fi
	if [ -f $(BUILD)/libseqa_cuda.so ]; then install -d $(DESTDIR)$(PREFIX)/lib/seqa; \
	    install -m 0755 $(BUILD)/libseqa_cuda.so $(DESTDIR)$(PREFIX)/lib/seqa/; fi
	install -d $(DESTDIR)$(UDEVDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/seqa $(DESTDIR)$(DOCDIR)
	install -m 0644 udev/70-seqa.rules $(DESTDIR)$(UDEVDIR)/70-seqa.rules
	for u in seqa.service seqa-hotplug.service; do sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 systemd/seqa.sysusers $(DESTDIR)$(SYSUSERSDIR)/seqa.conf
	install -m 0644 etc/seqa.conf.example $(DESTDIR)$(SYSCONFDIR)/seqa/seqa.conf.example
	install -m 0644 README.md docs/openapi.yaml $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/seqa/qc/profiles
	install -m 0644 qc/profiles/*.json qc/profiles/README.md $(DESTDIR)$(PREFIX)/share/seqa/qc/profiles/

print-config:
	@echo "VERSION   = $(VERSION) ($(COMMIT))"
	@echo "CC        = $(CC) ($(shell $(CC) --version | head -1))"
	@echo "CFLAGS    = $(CFLAGS) $(SAN)"
	@echo "NVCC      = $(if $(NVCC),$(NVCC),(not found: CUDA backend not built))"
	@echo "CUDA_ARCH = $(CUDA_ARCH)"
	@echo "PREFIX    = $(PREFIX)"
	@echo "PKGS      = $(PKGS)"
	@echo "sources   = $(words $(LIB_SRC)) library, $(words $(CL_SRC)) OpenCL, $(words $(CUDA_SRC)) CUDA, $(words $(TEST_SRC)) test"

clean:
	rm -rf build build-san seqa seqa-inbox

-include $(LIB_OBJ:.o=.d) $(patsubst %.c,$(BUILD)/%.d,$(INBOX_SRC))
