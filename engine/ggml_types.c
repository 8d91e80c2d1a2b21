/* Block geometry of the GGUF tensor types (the ggml on-disk layouts). */
#include "config.h"
#include <stdio.h>
#include "engine/ggml_types.h"

#define QK_K 256

static const struct ggml_type_traits traits[GGML_TYPE_COUNT] = {
	[GGML_TYPE_F32]     = {"F32",     1,    4,   true},
	[GGML_TYPE_F16]     = {"F16",     1,    2,   true},
	[GGML_TYPE_Q4_0]    = {"Q4_0",    32,   18,  true},
	[GGML_TYPE_Q4_1]    = {"Q4_1",    32,   20,  true},
	[GGML_TYPE_Q5_0]    = {"Q5_0",    32,   22,  true},
	[GGML_TYPE_Q5_1]    = {"Q5_1",    32,   24,  true},
	[GGML_TYPE_Q8_0]    = {"Q8_0",    32,   34,  true},
	[GGML_TYPE_Q8_1]    = {"Q8_1",    32,   36,  false},
	[GGML_TYPE_Q2_K]    = {"Q2_K",    QK_K, 84,  true},
	[GGML_TYPE_Q3_K]    = {"Q3_K",    QK_K, 110, true},
	[GGML_TYPE_Q4_K]    = {"Q4_K",    QK_K, 144, true},
	[GGML_TYPE_Q5_K]    = {"Q5_K",    QK_K, 176, true},
	[GGML_TYPE_Q6_K]    = {"Q6_K",    QK_K, 210, true},
	[GGML_TYPE_Q8_K]    = {"Q8_K",    QK_K, 292, false},
	[GGML_TYPE_IQ2_XXS] = {"IQ2_XXS", QK_K, 66,  false},
	[GGML_TYPE_IQ2_XS]  = {"IQ2_XS",  QK_K, 74,  false},
	[GGML_TYPE_IQ3_XXS] = {"IQ3_XXS", QK_K, 98,  false},
	[GGML_TYPE_IQ1_S]   = {"IQ1_S",   QK_K, 50,  false},
	[GGML_TYPE_IQ4_NL]  = {"IQ4_NL",  32,   18,  true},
	[GGML_TYPE_IQ3_S]   = {"IQ3_S",   QK_K, 110, false},
	[GGML_TYPE_IQ2_S]   = {"IQ2_S",   QK_K, 82,  false},
	[GGML_TYPE_IQ4_XS]  = {"IQ4_XS",  QK_K, 136, true},
	[GGML_TYPE_I8]      = {"I8",      1,    1,   false},
	[GGML_TYPE_I16]     = {"I16",     1,    2,   false},
	[GGML_TYPE_I32]     = {"I32",     1,    4,   false},
	[GGML_TYPE_I64]     = {"I64",     1,    8,   false},
	[GGML_TYPE_F64]     = {"F64",     1,    8,   false},
	[GGML_TYPE_IQ1_M]   = {"IQ1_M",   QK_K, 56,  false},
	[GGML_TYPE_BF16]    = {"BF16",    1,    2,   true},
	[GGML_TYPE_TQ1_0]   = {"TQ1_0",   QK_K, 54,  false},
	[GGML_TYPE_TQ2_0]   = {"TQ2_0",   QK_K, 66,  false},
	[GGML_TYPE_MXFP4]   = {"MXFP4",   32,   17,  false},
};

const struct ggml_type_traits *ggml_type_traits_get(uint32_t type)
{
	if (type >= GGML_TYPE_COUNT || !traits[type].name)
		return NULL;
	return &traits[type];
}

const char *ggml_type_name(uint32_t type)
{
	static _Thread_local char buf[24];
	const struct ggml_type_traits *t = ggml_type_traits_get(type);

	if (t)
		return t->name;
	snprintf(buf, sizeof buf, "type %u", type);
	return buf;
}

size_t ggml_row_bytes(enum ggml_type type, int64_t n)
{
	const struct ggml_type_traits *t = ggml_type_traits_get(type);

	if (!t || n <= 0 || n % t->block_elems)
		return 0;
	return (size_t)(n / t->block_elems) * t->block_bytes;
}
