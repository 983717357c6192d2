/* seqa — the FPGA pair-HMM driver: the OpenCL driver with a vendor binary built from
 * firmware/pairhmm/ (Vitis: $SEQA_FPGA_XCLBIN, oneAPI/Intel FPGA: $SEQA_FPGA_AOCX), run on an
 * OpenCL ACCELERATOR device.  Without a binary the backend is unavailable (SQ_EUNSUPP). */
#include <stdlib.h>

#include "driver.h"
#include "opencl/ocl_phmm.h"
#include "seqa/log.h"
#include "seqa/util.h"

static int fpga_open(sq_dev_t *dev)
{
	const char *bin = getenv("SEQA_FPGA_XCLBIN");
	if (!bin || !*bin) bin = getenv("SEQA_FPGA_AOCX");
	if (!bin || !*bin) {
		if (!dev->probing) sq_log_error("no FPGA binary: set SEQA_FPGA_XCLBIN or SEQA_FPGA_AOCX (see firmware/pairhmm/README.md)");
		return SQ_EUNSUPP;
	}
	return sq_ocl_phmm_open(dev, bin, "fpga");
}

const sq_driver_t sq_drv_fpga = { "fpga", SQ_DEV_FPGA, fpga_open, sq_ocl_phmm_batch, sq_ocl_phmm_close,
                                  NULL /* no seeding kernel in the FPGA image */ };
