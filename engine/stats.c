/* Statistics of the current (or last) turn. The generating thread writes
 * them under stats_mu; the screen reads a copy at any time. */
#include "config.h"
#include "engine/engine_impl.h"

#include <string.h>
#include <time.h>

double glm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void stats_set_ctx(glm_engine *e)
{
	pthread_mutex_lock(&e->stats_mu);
	e->st.ctx_used = (int64_t)e->n_cached;
	e->st.ctx_size = e->n_ctx;
	pthread_mutex_unlock(&e->stats_mu);
}

void stats_turn_begin(glm_engine *e, int64_t n_prompt)
{
	pthread_mutex_lock(&e->stats_mu);
	e->st.generating = true;
	e->st.n_prompt = n_prompt;
	e->st.n_gen = e->st.n_reasoning = e->st.n_answer = 0;
	e->st.prompt_tps = e->st.gen_tps = e->st.gen_tps_recent = 0;
	e->st.ttft_ms = 0;
	e->t_turn = glm_now();
	e->t_first = 0;
	e->n_recent = e->recent_head = 0;
	pthread_mutex_unlock(&e->stats_mu);
}

void stats_prompt_done(glm_engine *e, int64_t n_evaluated, double seconds)
{
	pthread_mutex_lock(&e->stats_mu);
	e->st.prompt_tps = seconds > 0 ? (double)n_evaluated / seconds : 0;
	e->st.ctx_used = (int64_t)e->n_cached;
	pthread_mutex_unlock(&e->stats_mu);
}

/* One more token sampled. The generation rate counts the tokens after the
 * first (whose time is the prompt's), over the time since the first. */
void stats_token(glm_engine *e, enum glm_channel ch)
{
	double now = glm_now();

	pthread_mutex_lock(&e->stats_mu);
	if (e->st.n_gen == 0) {
		e->t_first = now;
		e->st.ttft_ms = (now - e->t_turn) * 1e3;
	}
	e->st.n_gen++;
	if (ch == GLM_CHANNEL_REASONING)
		e->st.n_reasoning++;
	else
		e->st.n_answer++;
	if (e->st.n_gen > 1 && now > e->t_first)
		e->st.gen_tps = (double)(e->st.n_gen - 1) / (now - e->t_first);
	e->recent[e->recent_head] = now;
	e->recent_head = (e->recent_head + 1) % GLM_RECENT;
	if (e->n_recent < GLM_RECENT)
		e->n_recent++;
	{
		/* tokens within the last second, over the time they span */
		int cnt = 0;
		double oldest = now;

		for (int i = 1; i <= e->n_recent; i++) {
			double t = e->recent[(e->recent_head - i + GLM_RECENT) % GLM_RECENT];
			if (now - t > 1.0)
				break;
			oldest = t;
			cnt++;
		}
		e->st.gen_tps_recent = cnt > 1 && now > oldest ? (cnt - 1) / (now - oldest) : e->st.gen_tps;
	}
	e->st.ctx_used = (int64_t)e->n_cached;
	pthread_mutex_unlock(&e->stats_mu);
}

void stats_turn_end(glm_engine *e)
{
	pthread_mutex_lock(&e->stats_mu);
	e->st.generating = false;
	e->st.ctx_used = (int64_t)e->n_cached;
	pthread_mutex_unlock(&e->stats_mu);
}

void glm_engine_stats(glm_engine *e, struct glm_stats *s)
{
	int64_t used = 0, total = 0;

	pthread_mutex_lock(&e->stats_mu);
	*s = e->st;
	if (e->backend)
		e->backend->ops->memory(e->backend, &used, &total);
	pthread_mutex_unlock(&e->stats_mu);
	s->mem_used = used;
	s->mem_total = total;
}
