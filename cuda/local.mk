# cuda/: the CUDA backend behind cuda/cuda_backend.h, built with nvcc.
if HAVE_CUDA
noinst_LIBRARIES += cuda/libglmcuda.a
cuda_libglmcuda_a_SOURCES = \
	cuda/cuda_backend.h \
	cuda/device.cu \
	cuda/common.cuh cuda/quant_dev.cuh cuda/quant_fast.cuh cuda/kv_dev.cuh cuda/ops.cuh cuda/cuda_internal.cuh \
	cuda/gemv.cu cuda/gemv_fast.cu cuda/gemv_mma.cu cuda/dequant.cu cuda/gemm.cu cuda/norm_rope.cu cuda/mla_attention.cu \
	cuda/moe.cu cuda/sample.cu \
	cuda/cuda_weights.cu cuda/cuda_forward.cu cuda/cuda_backend.cu \
	cuda/cuda_testing.h cuda/cuda_testing.cu
CUDA_BACKEND_LIBS = cuda/libglmcuda.a $(CUDA_LIBS)
# the .cu.o rule tracks no header dependencies: every CUDA object depends on
# every header it could include
GLMCUDA_DEPS = cuda/common.cuh cuda/quant_dev.cuh cuda/quant_fast.cuh cuda/kv_dev.cuh cuda/ops.cuh cuda/cuda_internal.cuh \
	cuda/cuda_backend.h cuda/cuda_testing.h engine/backend.h engine/model.h engine/gguf.h \
	engine/tensor.h engine/ggml_types.h engine/engine.h
$(cuda_libglmcuda_a_OBJECTS): $(GLMCUDA_DEPS)
# the backend alone on a model file, for docs/PERF.md (not installed)
noinst_PROGRAMS += cuda/glmchat-cuda-bench
cuda_glmchat_cuda_bench_SOURCES = cuda/cuda_bench.c cuda/bench_args.h
cuda_glmchat_cuda_bench_LDADD = $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS)
# one layer's decode attention alone, per depth and cache type (docs/PERF.md; not installed)
noinst_PROGRAMS += cuda/glmchat-cuda-attnbench
cuda_glmchat_cuda_attnbench_SOURCES = cuda/attn_bench.c cuda/bench_args.h
cuda_glmchat_cuda_attnbench_LDADD = $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS)
# device memory given back by the engine's idle sleep (docs/PERF.md; not installed)
noinst_PROGRAMS += cuda/glmchat-cuda-sleep
cuda_glmchat_cuda_sleep_SOURCES = cuda/cuda_sleep.c
cuda_glmchat_cuda_sleep_LDADD = $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS)
else
CUDA_BACKEND_LIBS =
endif
