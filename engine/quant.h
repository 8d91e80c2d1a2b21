/* Block quantization formats: dequantize rows and take dot products of a
 * quantized row with an activation vector. Portable C is the reference; an
 * AVX2 path is chosen at run time where the CPU has it and gives the same
 * results within the documented tolerance.
 *
 * Supported: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K
 * IQ4_NL IQ4_XS. n must be a multiple of the type's block size; callers
 * check that (the loader validates types and shapes). An unsupported type
 * or a bad n is not a crash: dots return NaN, dequantization writes NaN,
 * quantizers write nothing. All functions are thread-safe. Block layouts
 * are in engine/quant_blocks.h. */
#ifndef GLM_QUANT_H
#define GLM_QUANT_H

#include "engine/ggml_types.h"

/* Half and bfloat16 conversions, exact (round to nearest even on the way down). */
float    glm_f16_to_f32(uint16_t h);
uint16_t glm_f32_to_f16(float f);
float    glm_bf16_to_f32(uint16_t h);
uint16_t glm_f32_to_bf16(float f);

/* true when the type can be dequantized and dotted here. */
bool quant_supported(enum ggml_type type);

/* dst[0..n) = values of the n-element row at src. Bit-exact with ggml. */
void quant_dequantize_row(enum ggml_type type, const void *src, float *dst, int64_t n);

/* Σ row[i]·x[i] over n values, row quantized, x float32; accumulates in
 * float32 per block (then float64 across blocks in the reference path). */
float quant_dot_f32(enum ggml_type type, const void *row, const float *x, int64_t n);

/* The activation-quantized path: x is first quantized once into the
 * companion format of `type` (Q8_0 for 32-blocks, Q8_K for K/IQ4_XS
 * types) and then dotted against many rows cheaply. F32, F16 and BF16
 * weights take the activation unquantized: their companion is F32 (a copy
 * of x) and quant_dot_q8 equals quant_dot_f32 for them. Q8_0 and Q8_K
 * round half away from zero with d = amax/127 (Q8_K keeps d in float32,
 * values in -127..127, plus int16 sums of each 16). GGML_TYPE_COUNT for
 * an unsupported type. */
enum ggml_type quant_vec_dot_type(enum ggml_type type);
size_t quant_q8_bytes(enum ggml_type type, int64_t n);       /* buffer size for quant_quantize_x */
void  quant_quantize_x(enum ggml_type type, const float *x, void *xq, int64_t n);
float quant_dot_q8(enum ggml_type type, const void *row, const void *xq, int64_t n);

/* Quantize a float row into Q8_0 (used for the q8_0 KV cache). */
void quant_quantize_row_q8_0(const float *x, void *dst, int64_t n);

/* y[r] = dot(row r, x) for n_rows rows of n values, row r at
 * w + r·row_stride bytes. Single-threaded: the engine splits rows across
 * its threads. The _q8 form takes x from quant_quantize_x(type, ...). */
void quant_matvec_f32(enum ggml_type type, const void *w, size_t row_stride, int64_t n_rows,
		      const float *x, int64_t n, float *y);
void quant_matvec_q8(enum ggml_type type, const void *w, size_t row_stride, int64_t n_rows,
		     const void *xq, int64_t n, float *y);

/* The batched form of quant_matvec_f32 (prefill): y[t·ldy + r] = dot(row
 * r, x + t·ldx) for n_rows rows and n_x vectors. The AVX2 path decodes
 * each block of a row once for up to four vectors; every result has the
 * bits of quant_dot_f32. */
void quant_matmul_f32(enum ggml_type type, const void *w, size_t row_stride, int64_t n_rows,
		      const float *x, size_t ldx, int n_x, int64_t n, float *y, size_t ldy);

/* Up to how many vectors quant_matmul_f32 is faster than dequantizing
 * each row once and taking float dots (measured on the AVX2 path: 4 for
 * types with minimums, 8 for the others); 0 where it has no in-register
 * kernel for the type (it is then one dot per row and vector). */
int quant_fused_f32_batch(enum ggml_type type);

/* Name of the SIMD path in use ("avx2" or "scalar"); GLM_NO_SIMD=1 in the
 * environment forces the scalar path (tests compare the two). */
const char *quant_simd_path(void);

/* For tests and benchmarks: switch the SIMD path on or off for the whole
 * process (not while other threads compute). Returns whether it is on. */
bool quant_use_simd(bool on);

#endif
