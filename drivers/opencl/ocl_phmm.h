/* seqa — OpenCL pair-HMM driver internals shared with the FPGA driver (private to drivers/). */
#ifndef SEQA_DRIVERS_OCL_PHMM_H
#define SEQA_DRIVERS_OCL_PHMM_H
#include "driver.h"
/** Open dev on OpenCL: from the embedded source (binary == NULL) or a vendor binary file
 *  (FPGA), label prefixes dev->name.  0, SQ_EUNSUPP, SQ_EDEVICE. */
int  sq_ocl_phmm_open(sq_dev_t *dev, const char *binary, const char *label);
int  sq_ocl_phmm_batch(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads);
void sq_ocl_phmm_close(sq_dev_t *dev);
#endif
