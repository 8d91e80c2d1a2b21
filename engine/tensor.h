/* A view of one weight tensor inside the mapped model file. The data is
 * never copied: backends read the blocks where the file put them. */
#ifndef GLM_TENSOR_H
#define GLM_TENSOR_H

#include "engine/ggml_types.h"

struct glm_tensor {
	const char *name;        /* owned by the gguf file */
	enum ggml_type type;
	int n_dims;              /* 1..4 */
	int64_t ne[4];           /* elements per dimension, ne[0] contiguous; unused dims are 1 */
	size_t nb[4];            /* byte strides: nb[0] = block bytes, nb[1] = row bytes, ... */
	const void *data;        /* first byte, inside the mapping */
	size_t nbytes;           /* bytes spanned by the whole tensor */
};

/* Row r of matrix slab i2 (e.g. expert i2 of a stacked expert tensor). */
static inline const void *glm_tensor_row(const struct glm_tensor *t, int64_t r, int64_t i2)
{
	return (const char *)t->data + (size_t)i2 * t->nb[2] + (size_t)r * t->nb[1];
}

#endif
