/* A small persistent pthread pool with one operation, a dynamic parallel
 * for. The calling thread takes part; workers join a job if they wake in
 * time and help claim its chunks. The caller never waits for a worker that
 * has not started: on a busy machine it simply does the work itself, so a
 * descheduled worker costs nothing. Workers spin briefly between jobs (a
 * decode step issues jobs back to back) before sleeping. */
#ifndef GLM_THREADPOOL_H
#define GLM_THREADPOOL_H

#include <stdint.h>

struct glm_threadpool;

/* n_threads <= 0: all online CPUs. Returns 0, or -1 when threads cannot be started. */
int  glm_threadpool_create(int n_threads, struct glm_threadpool **out);
void glm_threadpool_free(struct glm_threadpool *p);
int  glm_threadpool_size(const struct glm_threadpool *p);

/* fn(ctx, i, tid) for every i in [0, n), handed out in chunks of `chunk`
 * indices to whichever thread is free; tid < glm_threadpool_size() names
 * the thread (for per-thread scratch). Returns when all are done. One job
 * at a time: not reentrant, and only one thread may issue jobs. */
void glm_parallel_for(struct glm_threadpool *p, int64_t n, int64_t chunk,
                      void (*fn)(void *ctx, int64_t i, int tid), void *ctx);

/* Online CPUs (at least 1). */
int glm_cpu_count(void);

#endif
