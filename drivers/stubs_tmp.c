#include "driver.h"
#include "seqa/util.h"
static int no_open(sq_dev_t *d) { (void)d; return SQ_EUNSUPP; }
const sq_driver_t sq_drv_opencl = { "opencl", SQ_DEV_OPENCL, no_open, NULL, NULL };
const sq_driver_t sq_drv_cuda = { "cuda", SQ_DEV_CUDA, no_open, NULL, NULL };
const sq_driver_t sq_drv_fpga = { "fpga", SQ_DEV_FPGA, no_open, NULL, NULL };
