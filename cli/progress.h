/* Training progress: a one-line bar redrawn in place on a terminal (epoch,
 * step, samples/s, loss, accuracy, ETA); plain log lines every few seconds
 * when the output is a file or a pipe, so logs stay readable. */
#ifndef STRIDE_PROGRESS_H
#define STRIDE_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
	FILE *out;
	bool tty;
	int epochs;
	long long steps_per_epoch;
	long long total_steps;   /* over the whole run (for the ETA) */
	long long steps_done;    /* counted from this run's start */
	double run_start;        /* seconds (monotonic) */
	double epoch_start;
	double last_draw;
	long long epoch_samples; /* items trained this epoch, for samples/s */
	int last_width;          /* characters drawn on the current line */
} StrideProgress;

/* Seconds on a monotonic clock. */
double cli_now(void);

/* out: usually stdout; a terminal gets the bar. steps_left: steps this run will take. */
void cli_progress_init(StrideProgress *p, FILE *out, int epochs, long long steps_per_epoch,
                       long long steps_left);
void cli_progress_epoch_start(StrideProgress *p);

/* After each step: epoch (1-based), step within the epoch (1-based), items in
 * the step, the running mean loss and accuracy of the epoch. */
void cli_progress_step(StrideProgress *p, int epoch, long long step, int items, double loss,
                       double accuracy);

/* Clears the bar so a full line can be printed. */
void cli_progress_clear(StrideProgress *p);

/* The samples/s of the current epoch so far. */
double cli_progress_rate(const StrideProgress *p);

#endif /* STRIDE_PROGRESS_H */
