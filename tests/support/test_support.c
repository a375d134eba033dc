/* The shared helpers of the test programs (see test_support.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

static char g_tmpdir[TS_PATH_LEN];

const char *ts_env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

int ts_under_valgrind(void)
{
	const char *v = getenv("STRIDE_UNDER_VALGRIND");
	return v && *v && strcmp(v, "0") != 0;
}

void ts_path(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, TS_PATH_LEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= TS_PATH_LEN) {
		fprintf(stderr, "path too long: %.200s...\n", buf);
		exit(1);
	}
}

const char *ts_tmpdir_make(const char *name)
{
	ts_path(g_tmpdir, "%s/tmp-%s-XXXXXX", ts_env_or("STRIDE_BUILD", "/tmp"), name);
	if (!mkdtemp(g_tmpdir)) {
		fprintf(stderr, "cannot create a folder like %s\n", g_tmpdir);
		g_tmpdir[0] = '\0';
		return NULL;
	}
	return g_tmpdir;
}

const char *ts_tmpdir(void)
{
	return g_tmpdir;
}

const char *ts_tmp_path(const char *name)
{
	static char paths[8][TS_PATH_LEN];
	static int k;
	k = (k + 1) % 8;
	ts_path(paths[k], "%s/%s", g_tmpdir, name);
	return paths[k];
}

int ts_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	int rc = 0;
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		/* on the heap: recursion depth times TS_PATH_LEN would be a lot of stack */
		char *sub = malloc(TS_PATH_LEN);
		while (sub && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			ts_path(sub, "%s/%s", path, e->d_name);
			if (ts_remove_tree(sub) != 0)
				rc = -1;
		}
		free(sub);
		closedir(d);
	}
	return rmdir(path) == 0 ? rc : -1;
}

int ts_tmpdir_remove(void)
{
	if (!g_tmpdir[0])
		return 0;
	int rc = ts_remove_tree(g_tmpdir);
	g_tmpdir[0] = '\0';
	return rc;
}

int ts_tmpdir_setup(void **state)
{
	(void)state;
	char self[TS_PATH_LEN];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	const char *slash = strrchr(self, '/');
	return ts_tmpdir_make(slash ? slash + 1 : "test") ? 0 : -1;
}

int ts_tmpdir_teardown(void **state)
{
	(void)state;
	return ts_tmpdir_remove();
}

void ts_tmpdir_keep_or_remove(int keep)
{
	if (keep && g_tmpdir[0])
		printf("files kept in %s\n", g_tmpdir);
	else
		ts_tmpdir_remove();
}

/* The rest of f from its start, NUL-terminated; NULL on a read error. */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 4096 + 1 > cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, 4096, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				break;
			buf[n] = '\0';
			if (len)
				*len = n;
			return buf;
		}
	}
	free(buf);
	return NULL;
}

uint8_t *ts_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = read_all(f, len);
	fclose(f);
	if (!buf)
		fail_msg("cannot read %s", path);
	return (uint8_t *)buf;
}

static char *read_back(FILE *f)
{
	if (!f)
		return NULL;
	rewind(f);
	char *s = read_all(f, NULL);
	fclose(f);
	return s;
}

TsRun ts_run(char *const argv[], int capture)
{
	TsRun r = { -1, NULL, NULL };
	FILE *out = NULL, *err = NULL;
	if (capture) {
		out = tmpfile();
		err = tmpfile();
		if (!out || !err) {
			fprintf(stderr, "cannot make files for the output of %s\n", argv[0]);
			if (out)
				fclose(out);
			if (err)
				fclose(err);
			return r;
		}
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		if (capture && (dup2(fileno(out), 1) < 0 || dup2(fileno(err), 2) < 0))
			_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s\n", argv[0]);
		_exit(127);
	}
	int ws = 0;
	if (pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws))
		r.status = WEXITSTATUS(ws);
	r.out = read_back(out);
	r.err = read_back(err);
	return r;
}

int ts_run_status(char *const argv[])
{
	return ts_run(argv, 0).status;
}

void ts_run_free(TsRun *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int ts_run_python(const char *script)
{
	char spath[TS_PATH_LEN];
	ts_path(spath, "%s", ts_tmp_path("script.py"));
	FILE *f = fopen(spath, "w");
	if (!f)
		fail_msg("cannot write %s", spath);
	fputs(script, f);
	fclose(f);
	char *argv[] = { (char *)ts_env_or("STRIDE_PYTHON", "/usr/bin/python3"), spath, g_tmpdir,
		         NULL };
	return ts_run_status(argv);
}

int ts_run_python_file(const char *script, const char *const extra[])
{
	char path[TS_PATH_LEN];
	ts_path(path, "%s/%s", ts_env_or("STRIDE_SRC", "."), script);
	const char *python = ts_env_or("STRIDE_PYTHON", "/usr/bin/python3");
	char *argv[32];
	int n = 0;
	argv[n++] = (char *)python;
	argv[n++] = path;
	argv[n++] = g_tmpdir;
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	int rc = ts_run_status(argv);
	if (rc != 0)
		fprintf(stderr, "%s %s %s ... failed (exit %d)\n", python, path, g_tmpdir, rc);
	return rc;
}

int ts_stride_binary(char *buf)
{
	char self[TS_PATH_LEN];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	buf[0] = '\0';
	if (n > 0) {
		self[n] = '\0';
		/* <out>/tests/test_x -> <out>/stride */
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			slash = strrchr(self, '/');
			if (slash) {
				*slash = '\0';
				ts_path(buf, "%s/stride", self);
			}
		}
	}
	if (!buf[0] || access(buf, X_OK) != 0)
		ts_path(buf, "%s/stride", ts_env_or("STRIDE_BUILD", "build"));
	return access(buf, X_OK) == 0 ? 0 : -1;
}

void ts_assert_contains(const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("expected to find \"%s\" in:\n%s", needle, haystack ? haystack : "(null)");
}

double ts_rel_err(const float *a, const float *b, size_t n)
{
	double diff = 0.0, scale = 1e-3;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		if (!isfinite(d))
			return INFINITY;
		if (d > diff)
			diff = d;
		if (fabs((double)b[i]) > scale)
			scale = fabs((double)b[i]);
	}
	return diff / scale;
}
