/* Joining a model published as GGUF split files (llama.cpp's gguf-split:
 * NAME-00001-of-00003.gguf ...): each part is a GGUF of its own holding some
 * of the tensors, the first one the metadata too. The joined file is one
 * ordinary GGUF with the metadata of the first part (less the split.*
 * keys) and every tensor in part order. */
#ifndef GLM_GGUF_MERGE_H
#define GLM_GGUF_MERGE_H

#include <stddef.h>

/* Write parts[0..n) joined as out (through a temporary file and a rename:
 * out appears only complete). 0, or -1 with "FILE: what is wrong". */
int gguf_merge(const char *const *parts, size_t n, const char *out, char *err, size_t errlen);

#endif
