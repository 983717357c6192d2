// seqa — Intel oneAPI (FPGA) wrapper for the same HLS C design: the design runs as a SYCL
// single_task; the HLS pragmas are Vitis spellings and are ignored by icpx, whose own loop
// attributes are applied here instead (II = 1 on the cycle loop is what the design is built for).
// Build (see manifest.json):
//   icpx -fsycl -fintelfpga -Xshardware -Xstarget=Agilex7 -DSEQA_ONEAPI \
//        -Ifirmware/pairhmm firmware/pairhmm/oneapi_kernel.cpp -o build/firmware/pairhmm.fpga
// The resulting device image is loaded through OpenCL by seqa's fpga driver ($SEQA_FPGA_AOCX).
#include <sycl/sycl.hpp>
#include <sycl/ext/intel/fpga_extensions.hpp>
extern "C" {
#include "pairhmm_hls.c"
}

class PhmmForward;

void seqa_phmm_submit(sycl::queue &q, const uint8_t *rseq, const uint8_t *bq, const uint8_t *iq,
                      const uint8_t *dq, const uint8_t *gq, const int32_t *roff, const uint8_t *hseq,
                      const int32_t *hoff, const int32_t *pr, const int32_t *ph, int32_t n,
                      const float *err, float *res)
{
	q.single_task<PhmmForward>([=]() [[intel::kernel_args_restrict]] {
		phmm_forward(rseq, bq, iq, dq, gq, roff, hseq, hoff, pr, ph, n, err, nullptr, 0, res);
	}).wait();
}
