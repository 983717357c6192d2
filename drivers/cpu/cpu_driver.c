/* seqa — the CPU driver: the SIMD kernels of kernels/cpu/, ISA chosen once from CPUID. */
#include <stdio.h>

#include "driver.h"

static int cpu_open(sq_dev_t *dev)
{
	snprintf(dev->name, sizeof dev->name, "cpu-%s", sq_phmm_cpu_isa());
	dev->priv = NULL;
	return 0;
}

static int cpu_batch(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads)
{
	(void)dev;
	return sq_phmm_cpu_batch(b, n_threads);
}

const sq_driver_t sq_drv_cpu = { "cpu", SQ_DEV_CPU, cpu_open, cpu_batch, NULL, &sq_seed_ops_cpu };
