/* The thread team: a generation counter under one mutex; each job bumps it,
 * workers run their part and count themselves out. */
#include "workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct {
	StrideWorkers *team;
	int tid;
} Slot;

struct StrideWorkers {
	int n;
	pthread_t *threads;
	Slot *slots;
	pthread_mutex_t lock;
	pthread_cond_t start;
	pthread_cond_t done;
	unsigned long generation;
	int running;
	bool quit;
	StrideJob fn;
	void *ctx;
};

static void *worker_main(void *arg)
{
	Slot *slot = arg;
	StrideWorkers *w = slot->team;
	unsigned long seen = 0;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->quit && w->generation == seen)
			pthread_cond_wait(&w->start, &w->lock);
		if (w->quit) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		seen = w->generation;
		StrideJob fn = w->fn;
		void *ctx = w->ctx;
		pthread_mutex_unlock(&w->lock);

		fn(ctx, slot->tid);

		pthread_mutex_lock(&w->lock);
		if (--w->running == 0)
			pthread_cond_signal(&w->done);
		pthread_mutex_unlock(&w->lock);
	}
}

StrideWorkers *cli_workers_new(int n)
{
	if (n < 1)
		n = 1;
	StrideWorkers *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->n = n;
	w->threads = calloc((size_t)n, sizeof *w->threads);
	w->slots = calloc((size_t)n, sizeof *w->slots);
	if (!w->threads || !w->slots) {
		free(w->threads);
		free(w->slots);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->start, NULL);
	pthread_cond_init(&w->done, NULL);
	for (int i = 1; i < n; i++) {
		w->slots[i].team = w;
		w->slots[i].tid = i;
		if (pthread_create(&w->threads[i], NULL, worker_main, &w->slots[i]) != 0) {
			w->n = i; /* only the ones that started are joined */
			cli_workers_free(w);
			return NULL;
		}
	}
	return w;
}

void cli_workers_free(StrideWorkers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->start);
	pthread_mutex_unlock(&w->lock);
	for (int i = 1; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->start);
	pthread_cond_destroy(&w->done);
	free(w->threads);
	free(w->slots);
	free(w);
}

void cli_workers_run(StrideWorkers *w, StrideJob fn, void *ctx)
{
	if (w->n == 1) {
		fn(ctx, 0);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->fn = fn;
	w->ctx = ctx;
	w->running = w->n - 1;
	w->generation++;
	pthread_cond_broadcast(&w->start);
	pthread_mutex_unlock(&w->lock);

	fn(ctx, 0);

	pthread_mutex_lock(&w->lock);
	while (w->running > 0)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void cli_workers_run_once(int *threads, StrideJob fn, void *ctx)
{
	StrideWorkers *team = *threads > 1 ? cli_workers_new(*threads) : NULL;
	if (!team) {
		*threads = 1;
		fn(ctx, 0);
		return;
	}
	cli_workers_run(team, fn, ctx);
	cli_workers_free(team);
}

void cli_share(long long n, int threads, int tid, long long *begin, long long *end)
{
	long long base = n / threads, extra = n % threads;
	*begin = tid * base + (tid < extra ? tid : extra);
	*end = *begin + base + (tid < extra ? 1 : 0);
}
