/* seqa — accelerator discovery (`seqa devices`): PCI (libpci) joined with the OpenCL and CUDA
 * runtimes' view, plus a short pair-HMM self-test per backend against kernels/ref.
 *
 * PCI: every function whose class is display (0x03xx), processing accelerator (0x12xx) or
 * co-processor (0x0b40), or whose vendor makes FPGAs (Xilinx/AMD 0x10ee, Altera 0x1172, Intel
 * FPGA PAC ids), with vendor/device/class names (pci.ids), negotiated and maximum link speed
 * and width (PCI Express capability), NUMA node and bound kernel driver (sysfs; unknown when
 * read from a dump).  A dump written by `lspci -x` (or -xxx, which includes the capabilities
 * needed for link speed) can be read instead of this machine's bus.
 *
 * Output JSON: {"pci":[...], "runtimes":[...], "selftest":[...], "summary":{...}}; see the
 * README section "seqa devices".
 *
 * Thread rules: calls are serialised internally (libpci's error path is not re-entrant).
 */
#ifndef SEQA_DEVICES_H
#define SEQA_DEVICES_H

#include <jansson.h>

typedef struct {
	const char *pci_dump;   /* lspci -x dump file; NULL: this machine's PCI bus */
	int all;                /* list every PCI function, not only accelerators */
	int runtimes;           /* query OpenCL/CUDA (default 1; 0 when only a dump is examined) */
	int selftest;           /* run the pair-HMM self-test on every backend that opens */
	int n_threads;
} sq_devices_opt_t;

void sq_devices_opt_init(sq_devices_opt_t *o);

/** PCI functions as a JSON array (new reference); NULL on error (unreadable dump, logged). */
json_t *sq_devices_pci(const char *dump, int all);
/** OpenCL platforms/devices and CUDA devices as a JSON array (new reference). */
json_t *sq_devices_runtimes(void);
/** Self-test each backend (cpu, opencl, cuda, fpga) that opens: a fixed pair-HMM batch compared
 *  with kernels/ref.  JSON array of {"backend","device","status":"pass|fail|absent",
 *  "max_abs_err","pairs","seconds"} (new reference). */
json_t *sq_devices_selftest(int n_threads);
/** Everything above, joined: each PCI device gets the runtime devices at its address.  NULL on
 *  error (logged). */
json_t *sq_devices_scan(const sq_devices_opt_t *o);

#endif
