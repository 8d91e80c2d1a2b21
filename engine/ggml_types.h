/* The tensor element types of GGUF files (ids as ggml numbers them) and
 * their block geometry. Shared by the loader, the quant kernels and the
 * backends; the ids are part of the file format and must never change. */
#ifndef GLM_GGML_TYPES_H
#define GLM_GGML_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum ggml_type {
	GGML_TYPE_F32 = 0,
	GGML_TYPE_F16 = 1,
	GGML_TYPE_Q4_0 = 2,
	GGML_TYPE_Q4_1 = 3,
	GGML_TYPE_Q5_0 = 6,
	GGML_TYPE_Q5_1 = 7,
	GGML_TYPE_Q8_0 = 8,
	GGML_TYPE_Q8_1 = 9,
	GGML_TYPE_Q2_K = 10,
	GGML_TYPE_Q3_K = 11,
	GGML_TYPE_Q4_K = 12,
	GGML_TYPE_Q5_K = 13,
	GGML_TYPE_Q6_K = 14,
	GGML_TYPE_Q8_K = 15,
	GGML_TYPE_IQ2_XXS = 16,
	GGML_TYPE_IQ2_XS = 17,
	GGML_TYPE_IQ3_XXS = 18,
	GGML_TYPE_IQ1_S = 19,
	GGML_TYPE_IQ4_NL = 20,
	GGML_TYPE_IQ3_S = 21,
	GGML_TYPE_IQ2_S = 22,
	GGML_TYPE_IQ4_XS = 23,
	GGML_TYPE_I8 = 24,
	GGML_TYPE_I16 = 25,
	GGML_TYPE_I32 = 26,
	GGML_TYPE_I64 = 27,
	GGML_TYPE_F64 = 28,
	GGML_TYPE_IQ1_M = 29,
	GGML_TYPE_BF16 = 30,
	GGML_TYPE_TQ1_0 = 34,
	GGML_TYPE_TQ2_0 = 35,
	GGML_TYPE_MXFP4 = 39,
	GGML_TYPE_COUNT = 40,
};

/* Geometry of one type: `block_elems` values are stored in `block_bytes`
 * bytes. A type the file format knows but glmchat cannot compute with has
 * `supported == false` (the loader names it in its error). Unknown ids
 * have name == NULL. */
struct ggml_type_traits {
	const char *name;
	uint32_t block_elems;
	uint32_t block_bytes;
	bool supported;
};

const struct ggml_type_traits *ggml_type_traits_get(uint32_t type);
const char *ggml_type_name(uint32_t type);   /* "Q4_K", or "type 99" style for unknown ids */

/* Bytes of a row of n values; 0 when n is not a whole number of blocks. */
size_t ggml_row_bytes(enum ggml_type type, int64_t n);

#endif
