/* Persistent thread pool with a dynamic parallel for; see threadpool.h. */
#include "config.h"
#include "engine/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* Polls of the generation counter before a worker sleeps (about 50 µs). */
#define SPIN_LIMIT 2000

/* job state: the closed bit, and how many workers are inside the job */
#define CLOSED 0x80000000u

struct pfor {
	void (*fn)(void *ctx, int64_t i, int tid);
	void *ctx;
	int64_t n, chunk;
	atomic_llong next;
};

struct worker_arg {
	struct glm_threadpool *p;
	int tid;
};

struct glm_threadpool {
	int n;                          /* threads, the caller included */
	pthread_t *threads;             /* n - 1 workers */
	struct worker_arg *args;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	atomic_uint generation;         /* bumped (under mu) when a job starts */
	atomic_uint state;              /* CLOSED | workers inside the current job */
	atomic_bool quit;
	struct pfor *job;               /* valid while a worker is counted in state */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

int glm_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static void run_chunks(struct pfor *pf, int tid)
{
	long long i;

	while ((i = atomic_fetch_add_explicit(&pf->next, pf->chunk, memory_order_relaxed)) < pf->n) {
		int64_t end = i + pf->chunk < pf->n ? i + pf->chunk : pf->n;
		for (int64_t j = i; j < end; j++)
			pf->fn(pf->ctx, j, tid);
	}
}

/* Enter the current job unless it is already closed. */
static bool join_job(struct glm_threadpool *p)
{
	unsigned s = atomic_load_explicit(&p->state, memory_order_acquire);

	do {
		if (s & CLOSED)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acq_rel,
	                                                memory_order_acquire));
	return true;
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct glm_threadpool *p = wa->p;
	unsigned seen = 0;

	for (;;) {
		unsigned g;
		int spins = 0;

		while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
		       !atomic_load_explicit(&p->quit, memory_order_relaxed) && spins < SPIN_LIMIT) {
			cpu_relax();
			spins++;
		}
		if (g == seen) {
			pthread_mutex_lock(&p->mu);
			while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit))
				pthread_cond_wait(&p->cv_work, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->quit))
			return NULL;
		seen = g;
		if (!join_job(p))
			continue;                 /* woke too late: the caller finished it */
		run_chunks(p->job, wa->tid);
		if (atomic_fetch_sub_explicit(&p->state, 1, memory_order_acq_rel) == (CLOSED | 1)) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->cv_done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

int glm_threadpool_create(int n_threads, struct glm_threadpool **out)
{
	struct glm_threadpool *p;

	*out = NULL;
	if (n_threads <= 0)
		n_threads = glm_cpu_count();
	p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	p->n = n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	atomic_init(&p->generation, 0);
	atomic_init(&p->state, CLOSED);
	atomic_init(&p->quit, false);
	if (n_threads > 1) {
		p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
		p->args = calloc((size_t)n_threads - 1, sizeof *p->args);
		if (!p->threads || !p->args) {
			p->n = 1;
			glm_threadpool_free(p);
			return -1;
		}
		for (int i = 0; i < n_threads - 1; i++) {
			p->args[i].p = p;
			p->args[i].tid = i + 1;
			if (pthread_create(&p->threads[i], NULL, worker_main, &p->args[i])) {
				p->n = i + 1;     /* free() joins only the started ones */
				glm_threadpool_free(p);
				return -1;
			}
		}
	}
	*out = p;
	return 0;
}

void glm_threadpool_free(struct glm_threadpool *p)
{
	if (!p)
		return;
	if (p->threads) {
		pthread_mutex_lock(&p->mu);
		atomic_store(&p->quit, true);
		pthread_cond_broadcast(&p->cv_work);
		pthread_mutex_unlock(&p->mu);
		for (int i = 0; i < p->n - 1; i++)
			pthread_join(p->threads[i], NULL);
	}
	pthread_cond_destroy(&p->cv_work);
	pthread_cond_destroy(&p->cv_done);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->args);
	free(p);
}

int glm_threadpool_size(const struct glm_threadpool *p)
{
	return p ? p->n : 1;
}

void glm_parallel_for(struct glm_threadpool *p, int64_t n, int64_t chunk,
                      void (*fn)(void *ctx, int64_t i, int tid), void *ctx)
{
	struct pfor pf = {.fn = fn, .ctx = ctx, .n = n, .chunk = chunk > 0 ? chunk : 1};
	unsigned s;
	int spins = 0;

	if (n <= 0)
		return;
	atomic_init(&pf.next, 0);
	if (!p || p->n == 1 || n <= pf.chunk) {
		run_chunks(&pf, 0);
		return;
	}
	p->job = &pf;
	atomic_store_explicit(&p->state, 0, memory_order_release);   /* open */
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);

	run_chunks(&pf, 0);

	/* close the job; wait only for the workers that joined it */
	s = atomic_fetch_or_explicit(&p->state, CLOSED, memory_order_acq_rel);
	if (s == 0)
		return;
	while (atomic_load_explicit(&p->state, memory_order_acquire) != CLOSED && spins < SPIN_LIMIT * 8) {
		cpu_relax();
		spins++;
	}
	if (atomic_load_explicit(&p->state, memory_order_acquire) != CLOSED) {
		pthread_mutex_lock(&p->mu);
		while (atomic_load(&p->state) != CLOSED)
			pthread_cond_wait(&p->cv_done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
}
