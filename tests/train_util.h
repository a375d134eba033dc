/* Helpers shared by the trainer's tests (test_dataset, test_train,
 * test_predict): temporary folders, WAV files, synthetic datasets, and running
 * the `stride` binary as a subprocess. Header-only; include after cmocka.h. */
#ifndef STRIDE_TRAIN_UTIL_H
#define STRIDE_TRAIN_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TU_PI 3.14159265358979323846

static inline int tu_under_valgrind(void)
{
	const char *v = getenv("STRIDE_UNDER_VALGRIND");
	return v && v[0] == '1';
}

static inline void tu_assert_contains(const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("expected to find \"%s\" in:\n%s", needle, haystack ? haystack : "(null)");
}

static inline char *tu_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		size_t got = fread(buf + len, 1, 4096, f);
		len += got;
		if (got == 0)
			break;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static inline void tu_mkdirs(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0777);
			*p = '/';
		}
	mkdir(tmp, 0777);
}

static inline void tu_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d)) != NULL) {
				if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
					continue;
				size_t n = strlen(path) + strlen(e->d_name) + 2;
				char *sub = malloc(n);
				if (!sub)
					continue;
				snprintf(sub, n, "%s/%s", path, e->d_name);
				tu_rmtree(sub);
				free(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* Writes interleaved frames x (frames x channels) as a WAV: 16-bit PCM, or
 * 32-bit float when `flt`. Creates the folder. */
static inline void tu_write_wav(const char *path, const float *x, long frames, int rate,
                                int channels, int flt)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		tu_mkdirs(dir);
	}
	SF_INFO info;
	memset(&info, 0, sizeof info);
	info.samplerate = rate;
	info.channels = channels;
	info.format = SF_FORMAT_WAV | (flt ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (!f)
		fail_msg("cannot write %s: %s", path, sf_strerror(NULL));
	if (frames > 0)
		assert_int_equal(sf_writef_float(f, x, frames), frames);
	sf_close(f);
}

static inline void tu_write_text(const char *path, const char *text)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		tu_mkdirs(dir);
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A small deterministic generator for the tests' own signals. */
static inline double tu_rand(unsigned long long *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

/* A tone with a few harmonics at f0, amplitude about amp. */
static inline void tu_tone(float *x, long n, int rate, double f0, double amp)
{
	for (long i = 0; i < n; i++) {
		double t = (double)i / rate, v = 0.0;
		for (int h = 1; h <= 3; h++)
			v += sin(2.0 * TU_PI * f0 * h * t) / h;
		x[i] = (float)(amp * v / 1.5);
	}
}

static inline void tu_noise(float *x, long n, double amp, unsigned long long *s)
{
	for (long i = 0; i < n; i++)
		x[i] = (float)(amp * (2.0 * tu_rand(s) - 1.0));
}

/* DIR/tone/tNNN.wav and DIR/noise/nNNN.wav, n of each, `seconds` long, at
 * random levels and pitches from `seed`. */
static inline void tu_make_tones_noise(const char *dir, int n, double seconds, int rate,
                                       unsigned long long seed)
{
	long len = (long)(seconds * rate);
	float *x = malloc((size_t)len * sizeof *x);
	assert_non_null(x);
	unsigned long long s = seed;
	char path[1024];
	for (int i = 0; i < n; i++) {
		double amp = 0.05 + 0.4 * tu_rand(&s);
		tu_tone(x, len, rate, 150.0 + 1500.0 * tu_rand(&s), amp);
		snprintf(path, sizeof path, "%s/tone/t%03d.wav", dir, i);
		tu_write_wav(path, x, len, rate, 1, 0);
		tu_noise(x, len, amp, &s);
		snprintf(path, sizeof path, "%s/noise/n%03d.wav", dir, i);
		tu_write_wav(path, x, len, rate, 1, 0);
	}
	free(x);
}

/* The `stride` binary next to this test's build folder (so the ASan variant
 * runs the ASan binary), else $STRIDE_BUILD/stride. */
static inline int tu_find_stride(char *buf, size_t len)
{
	char self[900];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	buf[0] = '\0';
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			slash = strrchr(self, '/');
			if (slash) {
				*slash = '\0';
				snprintf(buf, len, "%s/stride", self);
			}
		}
	}
	if (!buf[0] || access(buf, X_OK) != 0) {
		const char *b = getenv("STRIDE_BUILD");
		snprintf(buf, len, "%s/stride", b ? b : "build");
	}
	return access(buf, X_OK) == 0 ? 0 : -1;
}

/* What the trainer tests start from: a fresh folder, the binary under test, a
 * tones-vs-noise dataset in it and an architecture file beside the data. */
typedef struct {
	char tmpdir[256];
	char stride_bin[1024];
	char data_dir[512];
	char arch_path[512];
} TuTrainFixture;

/* Fills f: /tmp/stride_test_NAME_XXXXXX holding data/ (n files per class,
 * `seconds` long, from `seed`) and arch.json (arch). Returns -1, having said
 * why, when the folder or the binary is missing. */
static inline int tu_train_fixture(TuTrainFixture *f, const char *name, const char *arch, int n,
                                   double seconds, int rate, unsigned long long seed)
{
	snprintf(f->tmpdir, sizeof f->tmpdir, "/tmp/stride_test_%s_XXXXXX", name);
	if (!mkdtemp(f->tmpdir))
		return -1;
	if (tu_find_stride(f->stride_bin, sizeof f->stride_bin) < 0) {
		fprintf(stderr, "no stride binary at %s\n", f->stride_bin);
		return -1;
	}
	snprintf(f->data_dir, sizeof f->data_dir, "%s/data", f->tmpdir);
	tu_make_tones_noise(f->data_dir, n, seconds, rate, seed);
	snprintf(f->arch_path, sizeof f->arch_path, "%s/arch.json", f->tmpdir);
	tu_write_text(f->arch_path, arch);
	return 0;
}

typedef struct {
	int status; /* exit status, or -1 when killed */
	char *out;
	char *err;
} TuRun;

/* Starts the binary with args (NULL-terminated, without argv[0]); stdout and
 * stderr go to files in tmpdir. Returns the pid. */
static inline pid_t tu_spawn(const char *bin, const char *const *args, const char *tmpdir)
{
	char out_path[1100], err_path[1100];
	snprintf(out_path, sizeof out_path, "%s/stdout.txt", tmpdir);
	snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmpdir);
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)bin;
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(bin, argv);
		_exit(127);
	}
	return pid;
}

static inline TuRun tu_wait(pid_t pid, const char *tmpdir)
{
	int ws = 0;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	char out_path[1100], err_path[1100];
	snprintf(out_path, sizeof out_path, "%s/stdout.txt", tmpdir);
	snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmpdir);
	TuRun r;
	r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	r.out = tu_slurp(out_path);
	r.err = tu_slurp(err_path);
	assert_non_null(r.out);
	assert_non_null(r.err);
	return r;
}

static inline TuRun tu_run(const char *bin, const char *const *args, const char *tmpdir)
{
	return tu_wait(tu_spawn(bin, args, tmpdir), tmpdir);
}

static inline void tu_run_free(TuRun *r)
{
	free(r->out);
	free(r->err);
}

static inline int tu_files_equal(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int ca = fgetc(fa), cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static inline void tu_copy(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	assert_non_null(a);
	assert_non_null(b);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, a)) > 0)
		assert_int_equal(fwrite(buf, 1, n, b), n);
	fclose(a);
	fclose(b);
}

#endif /* STRIDE_TRAIN_UTIL_H */
