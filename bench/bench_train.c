/* The trainer's speed against PyTorch: `stride train` and bench/bench_train.py
 * (python3 -m stride_torch.train on Debian's python3-torch) train the same
 * architecture on the same data with the same batch, thread count, optimiser
 * and augmentation, in the same run; each reports its training samples per
 * second and this prints the ratio, and PyTorch's figure on a CUDA device
 * beside them when there is one ("no CUDA device" otherwise).
 *
 *   build/bench/bench_train [--threads N] [--epochs N] [--files N] [--repeat N]
 *
 * Each pair of runs is repeated (default 3 times, alternating stride and
 * torch) and the best of each is kept: the project machines are shared, and
 * a busy spell otherwise decides the ratio.
 * Data: synthetic tones and noise (2 classes x N files x 4 s, 16 kHz WAV) in
 * a temporary folder. Architectures: the presets gate-small (batch 64) and
 * genre-small (batch 32). Run from the repository top (./waf bench does). */
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"
#include "presets.h"
#include "stride.h"

#define RATE 16000
#define SECONDS 4

static int write_wav(const char *path, const float *x, long n)
{
	SF_INFO info;
	memset(&info, 0, sizeof info);
	info.samplerate = RATE;
	info.channels = 1;
	info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (!f)
		return -1;
	sf_writef_float(f, x, n);
	sf_close(f);
	return 0;
}

static int make_data(const char *dir, int files)
{
	char path[1400];
	long n = (long)SECONDS * RATE;
	float *x = malloc((size_t)n * sizeof *x);
	if (!x)
		return -1;
	unsigned long long s = 12345;
	snprintf(path, sizeof path, "%s/tone", dir);
	mkdir(path, 0777);
	snprintf(path, sizeof path, "%s/noise", dir);
	mkdir(path, 0777);
	for (int i = 0; i < files; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double f0 = 100.0 + (double)(s >> 40) / (double)(1ULL << 24) * 2000.0;
		for (long t = 0; t < n; t++)
			x[t] = (float)(0.3 * sin(2.0 * 3.14159265358979 * f0 * t / RATE));
		snprintf(path, sizeof path, "%s/tone/t%03d.wav", dir, i);
		if (write_wav(path, x, n) < 0)
			goto fail;
		for (long t = 0; t < n; t++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			x[t] = (float)(0.3 * ((double)(s >> 11) / 9007199254740992.0 - 0.5));
		}
		snprintf(path, sizeof path, "%s/noise/n%03d.wav", dir, i);
		if (write_wav(path, x, n) < 0)
			goto fail;
	}
	free(x);
	return 0;
fail:
	free(x);
	return -1;
}

/* Runs argv with stdout to `log`; returns the exit status. */
static int run(char *const *argv, const char *log)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	int ws = 0;
	if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

/* The number before `marker` on the last line holding it ("...; 8123 samples/s"). */
static double number_before(const char *log, const char *marker)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return 0.0;
	char line[4096];
	double v = 0.0;
	while (fgets(line, sizeof line, f)) {
		char *m = strstr(line, marker);
		if (!m)
			continue;
		char *p = m;
		while (p > line && p[-1] == ' ')
			p--;
		while (p > line && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9')))
			p--;
		v = strtod(p, NULL);
	}
	fclose(f);
	return v;
}

/* Whether a line of the log holds `text`. */
static int has_line(const char *log, const char *text)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return 0;
	char line[4096];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

static void self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

int main(int argc, char **argv)
{
	int threads = cli_default_threads(), epochs = 2, files = 100, repeat = 3;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--files") == 0)
			files = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = atoi(argv[i + 1]);
	}
	if (threads < 1 || epochs < 1 || files < 2 || repeat < 1) {
		fprintf(stderr, "usage: bench_train [--threads N] [--epochs N] [--files N] [--repeat N]\n");
		return 2;
	}
	char here[1024], stride_bin[1100], script[1100], tmp[] = "/tmp/stride_bench_train_XXXXXX";
	self_dir(here, sizeof here);
	snprintf(stride_bin, sizeof stride_bin, "%s/../stride", here);
	const char *src = getenv("STRIDE_SRC");
	snprintf(script, sizeof script, "%s/bench/bench_train.py", src ? src : ".");
	const char *py = getenv("STRIDE_PYTHON") ? getenv("STRIDE_PYTHON") : "/usr/bin/python3";
	if (access(stride_bin, X_OK) != 0 || access(script, R_OK) != 0) {
		fprintf(stderr, "bench_train: need %s and %s (run from the repository top)\n", stride_bin,
		        script);
		return 1;
	}
	if (!mkdtemp(tmp))
		return 1;
	char data[1200], log[1200];
	snprintf(data, sizeof data, "%s/data", tmp);
	mkdir(data, 0777);
	if (make_data(data, files) < 0) {
		fprintf(stderr, "bench_train: cannot write the data\n");
		return 1;
	}
	printf("training speed, stride vs PyTorch %s: %d + %d files of %d s, %d epochs, "
	       "AdamW, crop + gain + polarity; best of %d\n",
	       "(stride_torch.train, torch.set_num_threads = --threads)", files, files, SECONDS, epochs,
	       repeat);
	printf("%-12s %6s %7s %14s %14s %7s %14s\n", "arch", "batch", "threads", "stride/s", "torch/s",
	       "ratio", "torch gpu/s");
	const struct {
		const char *preset;
		int batch;
	} runs[] = { { "gate-small", 64 }, { "genre-small", 32 } };
	int thread_counts[2] = { threads, 1 };
	int n_counts = threads > 1 ? 2 : 1;
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		const StridePreset *p = cli_preset_find(runs[r].preset);
		char err[STRIDE_ERR_LEN];
		int n = 0;
		StrideLayerSpec *specs = cli_preset_specs(p, 2, &n, err);
		char *json = specs ? stride_arch_to_json(specs, n) : NULL;
		free(specs);
		if (!json) {
			fprintf(stderr, "bench_train: %s\n", err);
			return 1;
		}
		char arch[1200], out[1200];
		snprintf(arch, sizeof arch, "%s/%s.json", tmp, p->name);
		snprintf(out, sizeof out, "%s/%s.safetensors", tmp, p->name);
		FILE *f = fopen(arch, "w");
		if (!f)
			return 1;
		fputs(json, f);
		fclose(f);
		free(json);
		for (int c = 0; c < n_counts; c++) {
			char b[16], t[16], e[16], w[16];
			snprintf(b, sizeof b, "%d", runs[r].batch);
			snprintf(t, sizeof t, "%d", thread_counts[c]);
			snprintf(e, sizeof e, "%d", epochs);
			snprintf(w, sizeof w, "%d", p->window);
			char *sargv[] = { stride_bin, "train", "--arch", arch, "--data", data, "--out", out,
				          "--window", w, "--batch", b, "--threads", t, "--epochs", e,
				          "--val-fraction", "0", "--noise-prob", "0", "--no-checkpoint", NULL };
			char *pargv[] = { (char *)py, script, arch, data, "--window", w, "--batch", b,
				          "--threads", t, "--epochs", e, NULL };
			double ours = 0.0, theirs = 0.0, gpu = 0.0;
			int no_gpu = 0;
			for (int k = 0; k < repeat; k++) {
				snprintf(log, sizeof log, "%s/stride.log", tmp);
				double v = run(sargv, log) == 0 ? number_before(log, "samples/s") : 0.0;
				ours = v > ours ? v : ours;
				snprintf(log, sizeof log, "%s/torch.log", tmp);
				v = run(pargv, log) == 0 ? number_before(log, " samples/s") : 0.0;
				theirs = v > theirs ? v : theirs;
				v = number_before(log, "gpu-samples/s");
				gpu = v > gpu ? v : gpu;
				no_gpu = no_gpu || has_line(log, "no CUDA device");
			}
			char gpu_text[32];
			if (no_gpu)
				snprintf(gpu_text, sizeof gpu_text, "no CUDA device");
			else
				snprintf(gpu_text, sizeof gpu_text, "%.0f", gpu);
			printf("%-12s %6d %7d %14.0f %14.0f %6.2fx %14s\n", p->name, runs[r].batch,
			       thread_counts[c], ours, theirs, theirs > 0.0 ? ours / theirs : 0.0, gpu_text);
			fflush(stdout);
		}
	}
	char cmd[1300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_train: could not remove %s\n", tmp);
	return 0;
}
