/* Byte-pair merging of one pre-token. Start from one symbol per byte; the
 * rule applied next is always the lowest-ranked pair present, leftmost among
 * equals (as the reference library does). A binary heap of (rank, position)
 * keeps that O(n log n): a 1 MB run of one letter is one pre-token. */
#include "config.h"
#include "engine/tokenizer_impl.h"

#include <stdlib.h>

/* One pre-token longer than this is merged in slices, which bounds the
 * scratch memory (36 bytes per byte: 150 MB) whatever the input. Only a
 * single "word" of over 4 MiB (a run of one character, say) can come out
 * differently from the reference, which merges it whole. */
#define TOK_MAX_PIECE ((size_t)1 << 22)

int tok_emit(struct tok_work *w, int32_t id)
{
	if (*w->n == *w->cap) {
		size_t c = *w->cap ? 2 * *w->cap : 64;
		int32_t *p = realloc(*w->ids, c * sizeof *p);
		if (!p)
			return -1;
		*w->ids = p;
		*w->cap = c;
	}
	(*w->ids)[(*w->n)++] = id;
	return 0;
}

static int reserve(struct tok_work *w, size_t len)
{
	int32_t *a, *b, *c, *d, *e;
	uint64_t *h;

	if (len <= w->sym_cap)
		return 0;
	/* Each merge pushes at most two pairs and pops at least one, so the heap
	 * never holds more than two entries per byte. */
	a = realloc(w->sym, len * sizeof *a);
	if (a)
		w->sym = a;
	d = realloc(w->rank, len * sizeof *d);
	if (d)
		w->rank = d;
	e = realloc(w->result, len * sizeof *e);
	if (e)
		w->result = e;
	b = realloc(w->prev, len * sizeof *b);
	if (b)
		w->prev = b;
	c = realloc(w->next, len * sizeof *c);
	if (c)
		w->next = c;
	h = realloc(w->heap, 2 * len * sizeof *h);
	if (h)
		w->heap = h;
	if (!a || !b || !c || !d || !e || !h)
		return -1;
	w->sym_cap = len;
	w->heap_cap = 2 * len;
	return 0;
}

static void heap_push(struct tok_work *w, uint64_t key)
{
	size_t i = w->heap_n++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (w->heap[parent] <= key)
			break;
		w->heap[i] = w->heap[parent];
		i = parent;
	}
	w->heap[i] = key;
}

static uint64_t heap_pop(struct tok_work *w)
{
	uint64_t top = w->heap[0], last = w->heap[--w->heap_n];
	size_t i = 0, n = w->heap_n;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && w->heap[c + 1] < w->heap[c])
			c++;
		if (last <= w->heap[c])
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (n)
		w->heap[i] = last;
	return top;
}

/* Look up the rule joining the symbol at i with its right neighbour, note
 * it at i and queue it. Every change to a pair passes through here, so
 * rank[i] always describes the pair at i now. */
static void push_pair(const struct glm_tokenizer *t, struct tok_work *w, int32_t i)
{
	int32_t r = w->next[i];
	const struct tok_merge *m = r < 0 ? NULL : tok_find_merge(t, w->sym[i], w->sym[r]);

	w->rank[i] = m ? m->rank : -1;
	if (m) {
		w->result[i] = m->result;
		heap_push(w, (uint64_t)(uint32_t)m->rank << 32 | (uint32_t)i);
	}
}

static int bpe_slice(const struct glm_tokenizer *t, struct tok_work *w, const uint8_t *s, size_t len)
{
	int32_t n = (int32_t)len;

	if (len == 1)
		return tok_emit(w, t->byte_token[s[0]]);
	if (reserve(w, len))
		return -1;
	for (int32_t i = 0; i < n; i++) {
		w->sym[i] = t->byte_token[s[i]];
		w->prev[i] = i - 1;
		w->next[i] = i + 1 < n ? i + 1 : -1;
	}
	w->heap_n = 0;
	for (int32_t i = 0; i + 1 < n; i++)
		push_pair(t, w, i);

	while (w->heap_n) {
		uint64_t key = heap_pop(w);
		int32_t i = (int32_t)(uint32_t)key, r;

		/* Stale entries: the symbol was merged away, or its pair changed
		 * since (a rank names exactly one pair). */
		if (w->sym[i] < 0 || w->rank[i] != (int32_t)(key >> 32))
			continue;
		r = w->next[i];
		w->sym[i] = w->result[i];
		w->sym[r] = -1;
		w->next[i] = w->next[r];
		if (w->next[r] >= 0)
			w->prev[w->next[r]] = i;
		if (w->prev[i] >= 0)
			push_pair(t, w, w->prev[i]);
		push_pair(t, w, i);
	}
	/* Position 0 always survives: a merge keeps the left symbol's slot. */
	for (int32_t i = 0; i >= 0; i = w->next[i])
		if (tok_emit(w, w->sym[i]))
			return -1;
	return 0;
}

int tok_bpe(const struct glm_tokenizer *t, struct tok_work *w, const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;

	while (len > TOK_MAX_PIECE) {
		if (bpe_slice(t, w, u, TOK_MAX_PIECE))
			return -1;
		u += TOK_MAX_PIECE;
		len -= TOK_MAX_PIECE;
	}
	return len ? bpe_slice(t, w, u, len) : 0;
}

void tok_work_free(struct tok_work *w)
{
	free(w->sym);
	free(w->rank);
	free(w->result);
	free(w->prev);
	free(w->next);
	free(w->heap);
}
