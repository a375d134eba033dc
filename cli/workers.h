/* A fixed team of threads that run one function together: the caller is thread
 * 0 and n - 1 pthreads join it for each job. Jobs hand work out by thread index,
 * never by who comes first, so results do not depend on scheduling. */
#ifndef STRIDE_WORKERS_H
#define STRIDE_WORKERS_H

typedef struct StrideWorkers StrideWorkers;

/* fn(ctx, tid) for tid in [0, n). */
typedef void (*StrideJob)(void *ctx, int tid);

/* n >= 1 threads in all (n - 1 started here). NULL when threads cannot start. */
StrideWorkers *cli_workers_new(int n);
void cli_workers_free(StrideWorkers *w);

/* Runs fn on every thread and returns when all have finished. */
void cli_workers_run(StrideWorkers *w, StrideJob fn, void *ctx);

/* One job on a team started for it alone: fn on *threads threads, or on the
 * caller only (*threads set to 1 first, so fn shares work out by it) when
 * they cannot start. */
void cli_workers_run_once(int *threads, StrideJob fn, void *ctx);

/* The share [*begin, *end) of n items that thread tid of `threads` takes:
 * contiguous, sizes differing by at most one. */
void cli_share(long long n, int threads, int tid, long long *begin, long long *end);

#endif /* STRIDE_WORKERS_H */
