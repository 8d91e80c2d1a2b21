# cuda/: the CUDA backend behind cuda/cuda_backend.h, built with nvcc.
if HAVE_CUDA
noinst_LIBRARIES += cuda/libglmcuda.a
cuda_libglmcuda_a_SOURCES = \
	cuda/cuda_backend.h \
	cuda/device.cu
CUDA_BACKEND_LIBS = cuda/libglmcuda.a $(CUDA_LIBS)
else
CUDA_BACKEND_LIBS =
endif
