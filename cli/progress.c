/* The progress bar and its plain-log fallback. */
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often the display is refreshed: a terminal often, a log rarely. */
#define TTY_INTERVAL 0.1
#define LOG_INTERVAL 10.0
#define BAR_WIDTH 24

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(StrideProgress *p, FILE *out, int epochs, long long steps_per_epoch,
                       long long steps_left)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	p->tty = isatty(fileno(out)) != 0;
	p->epochs = epochs;
	p->steps_per_epoch = steps_per_epoch;
	p->total_steps = steps_left;
	p->run_start = cli_now();
	p->epoch_start = p->run_start;
	p->last_draw = p->run_start;
}

void cli_progress_epoch_start(StrideProgress *p)
{
	p->epoch_start = cli_now();
	p->epoch_samples = 0;
}

double cli_progress_rate(const StrideProgress *p)
{
	double dt = cli_now() - p->epoch_start;
	return dt > 0.0 ? (double)p->epoch_samples / dt : 0.0;
}

static void format_time(char *buf, size_t len, double s)
{
	if (s < 0.0 || s > 1e7) {
		snprintf(buf, len, "--:--");
		return;
	}
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void cli_progress_step(StrideProgress *p, int epoch, long long step, int items, double loss,
                       double accuracy)
{
	p->steps_done++;
	p->epoch_samples += items;
	double now = cli_now();
	bool last = step >= p->steps_per_epoch;
	/* logs: the run's first step (so a slow start shows), then every LOG_INTERVAL */
	bool due = p->tty ? now - p->last_draw >= TTY_INTERVAL || last
	                  : p->steps_done == 1 || now - p->last_draw >= LOG_INTERVAL;
	if (!due)
		return;
	p->last_draw = now;
	double elapsed = now - p->run_start;
	double eta = p->steps_done > 0
	                     ? elapsed / (double)p->steps_done * (double)(p->total_steps - p->steps_done)
	                     : -1.0;
	char eta_s[32];
	format_time(eta_s, sizeof eta_s, eta);
	double rate = cli_progress_rate(p);
	if (p->tty) {
		char bar[BAR_WIDTH + 1];
		int fill = p->steps_per_epoch > 0 ? (int)(BAR_WIDTH * step / p->steps_per_epoch) : 0;
		for (int i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		int w = fprintf(p->out,
		                "\repoch %d/%d [%s] step %lld/%lld  %.0f samples/s  loss %.4f  acc %.1f%%  "
		                "ETA %s",
		                epoch, p->epochs, bar, step, p->steps_per_epoch, rate, loss,
		                100.0 * accuracy, eta_s);
		/* blank out what a longer previous line left behind */
		for (int i = w; i < p->last_width; i++)
			fputc(' ', p->out);
		p->last_width = w > 0 ? w : 0;
	} else {
		fprintf(p->out, "epoch %d/%d step %lld/%lld: %.0f samples/s, loss %.4f, acc %.1f%%, ETA %s\n",
		        epoch, p->epochs, step, p->steps_per_epoch, rate, loss, 100.0 * accuracy, eta_s);
	}
	fflush(p->out);
}

void cli_progress_clear(StrideProgress *p)
{
	if (p->tty && p->last_width > 0) {
		fputc('\r', p->out);
		for (int i = 0; i < p->last_width; i++)
			fputc(' ', p->out);
		fputc('\r', p->out);
		fflush(p->out);
	}
	p->last_width = 0;
}
