// Dense f16 GEMMs on the tensor cores through cuBLAS, f32 accumulate and
// output (the residual stream stays f32). The prefill path dequantizes a
// weight tile to f16 once per batch and runs it against every token.
#include "cuda/ops.cuh"

static bool cublas_fail(cublasStatus_t st, const char *what, char *err, size_t errlen)
{
	if (st == CUBLAS_STATUS_SUCCESS)
		return false;
	snprintf(err, errlen, "cuda: cublas %s failed (status %d)", what, (int)st);
	return true;
}

// Column-major view: C (rows × n, ldc) = W^T(rows × cols) · X (cols × n).
int gemm_f16(cublasHandle_t h, const __half *W, int rows, int cols, const __half *X, int64_t ldx, int n,
             float *C, int64_t ldc, bool accumulate, char *err, size_t errlen)
{
	const float one = 1.0f, zero = 0.0f;
	if (n <= 0 || rows <= 0)
		return 0;
	return cublas_fail(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, cols, &one, W, CUDA_R_16F, cols,
	                                X, CUDA_R_16F, (int)ldx, accumulate ? &one : &zero, C, CUDA_R_32F, (int)ldc,
	                                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
	                   "gemm", err, errlen) ? -1 : 0;
}

int gemm_f16_batched(cublasHandle_t h, const __half *W, int rows, int cols, int64_t w_stride,
                     const __half *X, int64_t ldx, int64_t x_stride, int n, float *C, int64_t ldc,
                     int64_t c_stride, int batch, char *err, size_t errlen)
{
	const float one = 1.0f, zero = 0.0f;
	if (n <= 0 || rows <= 0 || batch <= 0)
		return 0;
	return cublas_fail(cublasGemmStridedBatchedEx(h, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, cols, &one,
	                                              W, CUDA_R_16F, cols, w_stride, X, CUDA_R_16F, (int)ldx, x_stride,
	                                              &zero, C, CUDA_R_32F, (int)ldc, c_stride, batch,
	                                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
	                   "batched gemm", err, errlen) ? -1 : 0;
}
