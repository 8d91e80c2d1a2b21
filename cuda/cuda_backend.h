/* The CUDA backend's one plain-C entry point (issue 5). */
#ifndef GLM_CUDA_BACKEND_H
#define GLM_CUDA_BACKEND_H

#include "engine/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices (0 when none or no driver). */
int glm_cuda_device_count(void);
int glm_backend_cuda_create(const struct glm_model *m, const struct glm_backend_config *cfg,
                            struct glm_backend **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
