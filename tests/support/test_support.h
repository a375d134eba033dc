/* What the test programs share: their environment, a temporary folder per
 * program, reading whole files, running other programs, and comparing against
 * reference arrays. Built as the static library stride_test_support, which
 * every test program links. Functions that fail a test use cmocka, so call them
 * from inside a test (or a group setup/teardown that handles failure). */
#ifndef STRIDE_TEST_SUPPORT_H
#define STRIDE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for any path the tests build; ts_path stops the program on a longer one. */
#define TS_PATH_LEN 4096

#if defined(__GNUC__)
#define TS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TS_PRINTF(f, a)
#endif

/* The environment variable `name`, or fallback when it is unset or empty. */
const char *ts_env_or(const char *name, const char *fallback);

/* True when the test runs under valgrind (STRIDE_UNDER_VALGRIND is set and
 * not "0"): slow parts and Python subprocesses may be skipped there. */
int ts_under_valgrind(void);

/* Formats a path into buf (TS_PATH_LEN bytes); one that does not fit stops the
 * program, since a truncated path would test the wrong file. */
void ts_path(char *buf, const char *fmt, ...) TS_PRINTF(2, 3);

/* Creates the program's temporary folder, <$STRIDE_BUILD or /tmp>/tmp-NAME-XXXXXX,
 * and returns its path (or NULL, saying why on stderr). One per program: a
 * second call replaces the first (without removing it). */
const char *ts_tmpdir_make(const char *name);

/* The folder ts_tmpdir_make made ("" before). */
const char *ts_tmpdir(void);

/* NAME inside the temporary folder. The result lives in one of 8 buffers used
 * in turn: copy it to keep it across more than 7 later calls. */
const char *ts_tmp_path(const char *name);

/* Removes the temporary folder with everything in it; 0, or -1 when something
 * could not be removed. Safe to call when there is no folder. */
int ts_tmpdir_remove(void);

/* Group setup and teardown for cmocka_run_group_tests: the temporary folder
 * named after the program (tmp-test_x-XXXXXX), and its removal. */
int ts_tmpdir_setup(void **state);
int ts_tmpdir_teardown(void **state);

/* At the end of a program whose files help to look into a failure: removes the
 * temporary folder, or with keep says where it stays. */
void ts_tmpdir_keep_or_remove(int keep);

/* Removes a file, or a folder with everything in it (links are not followed). */
int ts_remove_tree(const char *path);

/* The whole file, with a NUL byte after its last byte (so text can be used as a
 * string); its length goes to *len when len is not NULL. Fails the test when
 * the file cannot be read. Free the result. */
uint8_t *ts_slurp(const char *path, size_t *len);

/* What one run of a program did. */
typedef struct {
	int status; /* exit status; -1 when it did not start or did not exit normally */
	char *out;  /* with capture: its stdout and stderr, NUL-terminated; else NULL */
	char *err;
} TsRun;

/* Runs argv (argv[0] a path to the program, NULL-terminated) and waits for it.
 * With capture its stdout and stderr are collected (in anonymous files, so no
 * pipe can fill up); without, they go to ours. */
TsRun ts_run(char *const argv[], int capture);

/* ts_run(argv, 0).status: just the exit status. */
int ts_run_status(char *const argv[]);

void ts_run_free(TsRun *r);

/* Runs the Python script at `script` (relative to $STRIDE_SRC) with the Python
 * that has numpy and torch, the temporary folder as its first argument and then
 * extra (NULL-terminated, or NULL). A failure is said on stderr. Returns its
 * exit status (-1: did not run). */
int ts_run_python_file(const char *script, const char *const extra[]);

/* Writes script to script.py in the temporary folder and runs it with the
 * Python that has numpy and torch ($STRIDE_PYTHON, else /usr/bin/python3), the
 * folder as its one argument. Returns its exit status (-1: did not run). */
int ts_run_python(const char *script);

/* The `stride` binary next to this test's build folder (so the ASan variant
 * runs the ASan binary), else $STRIDE_BUILD/stride, into buf (TS_PATH_LEN
 * bytes). 0 when it is there and executable, else -1. */
int ts_stride_binary(char *buf);

/* Fails the test unless needle occurs in haystack (NULL counts as empty). */
void ts_assert_contains(const char *haystack, const char *needle);

/* max|a - b| / max(max|b|, 1e-3) over n values: the relative error the PyTorch
 * comparisons use. A NaN or infinite difference counts as infinite error. */
double ts_rel_err(const float *a, const float *b, size_t n);

#endif /* STRIDE_TEST_SUPPORT_H */
