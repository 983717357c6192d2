// seqa — seeding kernel for CUDA: the device code is kernels/opencl/smem.cl, compiled here with
// the CUDA spellings (SQ_CUDA), so the OpenCL and CUDA backends run literally the same kernel
// source; both are tested against kernels/ref.  Launch wrappers are C functions for the driver.
#define SQ_CUDA 1
#include "../opencl/smem.cl"

extern "C" int sq_cuda_smem_launch(const u32 *bwt, const u64 *sa, const u64 idx[7], int min_seed_len,
                                   int split_len, int split_width, int max_mem_intv, int n_reads,
                                   const u8 *seq, const u32 *off, const u32 *moff, sq_intv *out,
                                   int *n_out, sq_intv *scratch, cudaStream_t st)
{
	int tpb = 64, blocks = (n_reads + tpb - 1) / tpb;
	if (n_reads <= 0) return 0;
	smem_batch<<<blocks, tpb, 0, st>>>(bwt, sa, idx[0], idx[1], idx[2], idx[3], idx[4], idx[5], idx[6],
	                                   min_seed_len, split_len, split_width, max_mem_intv, n_reads,
	                                   seq, off, moff, out, n_out, scratch);
	return (int)cudaGetLastError();
}

extern "C" int sq_cuda_sa_launch(const u32 *bwt, const u64 *sa, const u64 idx[7], int sa_intv, u64 n,
                                 const u64 *rows, u64 *out, cudaStream_t st)
{
	int tpb = 128;
	u64 blocks = (n + tpb - 1) / tpb;
	if (n == 0) return 0;
	sa_batch<<<(unsigned)blocks, tpb, 0, st>>>(bwt, sa, idx[0], idx[1], idx[2], idx[3], idx[4], idx[5], idx[6],
	                                          sa_intv, n, rows, out);
	return (int)cudaGetLastError();
}
