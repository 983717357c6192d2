/* seqa devices — accelerators (libpci + OpenCL + CUDA) and their self-test; see seqa/devices.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "seqa/cli.h"
#include "seqa/devices.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa devices [options]\n\n"
"List accelerators: PCI functions (vendor, device, class, link speed/width, NUMA node, kernel\n"
"driver) joined with what the OpenCL and CUDA runtimes report, and a short pair-HMM self-test\n"
"of each backend against the reference kernel.\n\n"
"Options:\n"
"      --json            JSON on stdout\n"
"      --pci-dump FILE   read PCI devices from an `lspci -x` (or -xxx) dump instead of this\n"
"                        machine (implies --no-runtimes --no-selftest unless given again)\n"
"      --all             list every PCI function, not only accelerators\n"
"      --no-runtimes     do not query OpenCL/CUDA (--runtimes: do)\n"
"      --no-selftest     skip the self-test (--selftest: run it)\n"
"  -t, --threads N       threads for the self-test (default 1)\n"
"  -h, --help            this help\n\n"
"Exit status: 0 ok (also when no accelerator is present), 2 usage, 4 unreadable dump,\n"
"6 a backend failed its self-test.\n");
}

static void print_human(const json_t *r)
{
	size_t i;
	json_t *p;
	printf("PCI accelerators (%s):\n", json_string_value(json_object_get(r, "source")));
	if (json_array_size(json_object_get(r, "pci")) == 0) printf("  none\n");
	json_array_foreach(json_object_get(r, "pci"), i, p) {
		json_t *l = json_object_get(p, "link"), *n = json_object_get(p, "numa_node");
		char link[96] = "-", numa[16] = "-";
		if (json_is_integer(n)) snprintf(numa, sizeof numa, "%lld", (long long)json_integer_value(n));
		if (json_is_object(l))
			snprintf(link, sizeof link, "%s x%lld (max %s x%lld)", sq_json_str(l, "speed", "?"), (long long)sq_json_int(l, "width", 0),
			         sq_json_str(l, "max_speed", "?"), (long long)sq_json_int(l, "max_width", 0));
		printf("  %s  %-11s [%s] %s %s\n      class %s [%s]; link %s; NUMA %s; driver %s\n",
		       sq_json_str(p, "address", "?"), json_is_string(json_object_get(p, "kind")) ? sq_json_str(p, "kind", "") : "-",
		       sq_json_str(p, "id", "?"), sq_json_str(p, "vendor", "?"), sq_json_str(p, "device", "?"),
		       sq_json_str(p, "class", "?"), sq_json_str(p, "class_id", "?"), link,
		       numa, sq_json_str(p, "driver", "-"));
	}
	if (json_array_size(json_object_get(r, "runtimes"))) printf("Runtimes:\n");
	json_array_foreach(json_object_get(r, "runtimes"), i, p) {
		if (!json_is_true(json_object_get(p, "available"))) { printf("  %-7s absent: %s\n", sq_json_str(p, "runtime", "?"), sq_json_str(p, "reason", "")); continue; }
		printf("  %-7s %s%s%s [%s]%s%s\n", sq_json_str(p, "runtime", "?"), sq_json_str(p, "platform", ""),
		       json_object_get(p, "platform") ? ": " : "", sq_json_str(p, "name", "?"), sq_json_str(p, "type", "?"),
		       json_is_string(json_object_get(p, "pci")) ? " at " : "", sq_json_str(p, "pci", ""));
	}
	if (json_object_get(r, "selftest")) printf("Self-test (pair-HMM vs kernels/ref):\n");
	json_array_foreach(json_object_get(r, "selftest"), i, p) {
		if (strcmp(sq_json_str(p, "status", ""), "absent") == 0) printf("  %-7s absent\n", sq_json_str(p, "backend", "?"));
		else printf("  %-7s %-4s %s (max |err| %.2e over %lld pairs, %.3f s)\n", sq_json_str(p, "backend", "?"), sq_json_str(p, "status", "?"),
		            sq_json_str(p, "device", "?"), sq_json_num(p, "max_abs_err", 0), (long long)sq_json_int(p, "pairs", 0), sq_json_num(p, "seconds", 0));
	}
	json_t *s = json_object_get(r, "summary");
	printf("Summary: %lld GPU(s), %lld FPGA(s), %lld other accelerator(s) on PCI; %lld CUDA device(s); "
	       "%lld OpenCL accelerator device(s); %lld OpenCL CPU device(s)\n",
	       (long long)sq_json_int(s, "pci_gpus", 0), (long long)sq_json_int(s, "pci_fpgas", 0), (long long)sq_json_int(s, "pci_accelerators", 0),
	       (long long)sq_json_int(s, "cuda_devices", 0), (long long)sq_json_int(s, "opencl_accelerator_devices", 0),
	       (long long)sq_json_int(s, "opencl_cpu_devices", 0));
}

int sq_cmd_devices(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' }, { "pci-dump", required_argument, 0, 'D' }, { "all", no_argument, 0, 'a' },
		{ "no-runtimes", no_argument, 0, 'R' }, { "runtimes", no_argument, 0, 'r' },
		{ "no-selftest", no_argument, 0, 'S' }, { "selftest", no_argument, 0, 's' },
		{ "threads", required_argument, 0, 't' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_devices_opt_t o;
	int json = 0, c, rt = -1, st = -1, ret = SQ_EXIT_OK;
	sq_devices_opt_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:h", lo, NULL)) >= 0) {
		switch (c) {
		case 'j': json = 1; break;
		case 'D': o.pci_dump = optarg; break;
		case 'a': o.all = 1; break;
		case 'R': rt = 0; break;
		case 'r': rt = 1; break;
		case 'S': st = 0; break;
		case 's': st = 1; break;
		case 't': if (sq_cli_parse_threads(optarg, &o.n_threads) < 0) return sq_cli_usage_error("devices", "bad thread count '%s'", optarg); break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		default: return sq_cli_usage_error("devices", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) return sq_cli_usage_error("devices", "unexpected argument '%s'", argv[optind]);
	o.runtimes = rt >= 0 ? rt : !o.pci_dump;
	o.selftest = st >= 0 ? st : !o.pci_dump;
	json_t *r = sq_devices_scan(&o);
	if (!r) return o.pci_dump ? SQ_EXIT_IO : SQ_EXIT_FAIL;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "selftest"), i, p)
		if (strcmp(sq_json_str(p, "status", ""), "fail") == 0) ret = SQ_EXIT_DEVICE;
	if (json) { if (sq_json_print(r, stdout) < 0) ret = SQ_EXIT_OUTPUT; }
	else print_human(r);
	json_decref(r);
	return ret;
}
