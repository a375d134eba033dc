/* .npy arrays: round trips, the exact header layout numpy expects, hand-made
 * headers of every version and dtype, every way a file can be wrong, and files
 * exchanged with numpy itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stride.h"
#include "test_support.h"

/* A .npy in memory from its parts: version, header dict text (padding added
 * here, as numpy does, to a multiple of 64), and raw data bytes. */
static uint8_t *make_npy(int major, const char *dict, const void *data, size_t dlen, size_t *len)
{
	size_t lensize = major == 1 ? 2 : 4;
	size_t pre = 8 + lensize, dl = strlen(dict);
	size_t total = (pre + dl + 1 + 63) / 64 * 64;
	size_t hlen = total - pre;
	uint8_t *buf = malloc(total + dlen + 1);
	assert_non_null(buf);
	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (uint8_t)major;
	buf[7] = 0;
	for (size_t i = 0; i < lensize; i++)
		buf[8 + i] = (uint8_t)(hlen >> (8 * i));
	memcpy(buf + pre, dict, dl);
	memset(buf + pre + dl, ' ', hlen - dl - 1);
	buf[total - 1] = '\n';
	if (dlen)
		memcpy(buf + total, data, dlen);
	*len = total + dlen;
	return buf;
}

static void put_f32(uint8_t *p, float v, int big)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	for (int i = 0; i < 4; i++)
		p[big ? 3 - i : i] = (uint8_t)(u >> (8 * i));
}

static void put_f64(uint8_t *p, double v, int big)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	for (int i = 0; i < 8; i++)
		p[big ? 7 - i : i] = (uint8_t)(u >> (8 * i));
}

static int bits_equal(float a, float b)
{
	return memcmp(&a, &b, 4) == 0;
}

static void test_round_trip(void **state)
{
	(void)state;
	const int64_t shapes[][9] = {
		/* ndim, dims... */
		{1, 3}, {2, 2, 5}, {0}, {3, 2, 3, 4}, {1, 0}, {2, 4, 0},
		{8, 1, 2, 1, 2, 1, 2, 1, 2},
	};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int ndim = (int)shapes[s][0];
		size_t n = 1;
		for (int d = 0; d < ndim; d++)
			n *= (size_t)shapes[s][1 + d];
		float *x = malloc((n + 1) * sizeof *x);
		for (size_t i = 0; i < n; i++)
			x[i] = (float)i * 0.37f - 1.25f;
		/* values that must survive bit for bit */
		if (n >= 6) {
			x[0] = NAN;
			x[1] = -0.0f;
			x[2] = INFINITY;
			x[3] = -INFINITY;
			x[4] = 1e-45f; /* denormal */
			x[5] = 3.4028235e38f;
		}
		char err[STRIDE_ERR_LEN] = "";
		const char *path = ts_tmp_path("rt.npy");
		assert_int_equal(stride_npy_write(path, x, ndim, &shapes[s][1], err), 0);
		float *y = NULL;
		int yd = -1;
		int64_t ys[8];
		assert_int_equal(stride_npy_read(path, &y, &yd, ys, err), 0);
		assert_int_equal(yd, ndim);
		for (int d = 0; d < ndim; d++)
			assert_int_equal(ys[d], shapes[s][1 + d]);
		for (size_t i = 0; i < n; i++)
			assert_true(bits_equal(x[i], y[i]));
		assert_int_equal(access(ts_tmp_path("rt.npy.tmp"), F_OK), -1);
		free(x);
		free(y);
	}
}

/* The bytes numpy writes: magic, 1.0, a header padded to 64 ending in '\n'. */
static void test_written_layout(void **state)
{
	(void)state;
	float x[10];
	for (int i = 0; i < 10; i++)
		x[i] = (float)i;
	int64_t shape[2] = {2, 5};
	char err[STRIDE_ERR_LEN];
	const char *path = ts_tmp_path("layout.npy");
	assert_int_equal(stride_npy_write(path, x, 2, shape, err), 0);
	size_t len;
	uint8_t *b = ts_slurp(path, &len);
	assert_memory_equal(b, "\x93NUMPY\x01\x00", 8);
	size_t hlen = b[8] | (size_t)b[9] << 8;
	assert_int_equal((10 + hlen) % 64, 0);
	assert_int_equal(b[10 + hlen - 1], '\n');
	const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 5), }";
	assert_memory_equal(b + 10, dict, strlen(dict));
	for (size_t i = 10 + strlen(dict); i < 10 + hlen - 1; i++)
		assert_int_equal(b[i], ' ');
	assert_int_equal(len, 10 + hlen + 40);
	/* little-endian float32 3.0 = 0x40400000 */
	assert_memory_equal(b + 10 + hlen + 12, "\x00\x00\x40\x40", 4);
	free(b);

	/* rank 1 is written (n,), as Python spells a 1-tuple; rank 0 is () */
	int64_t one = 3;
	assert_int_equal(stride_npy_write(path, x, 1, &one, err), 0);
	b = ts_slurp(path, &len);
	assert_non_null(strstr((char *)b + 10, "'shape': (3,), }"));
	free(b);
	assert_int_equal(stride_npy_write(path, x, 0, NULL, err), 0);
	b = ts_slurp(path, &len);
	assert_non_null(strstr((char *)b + 10, "'shape': (), }"));
	assert_int_equal(len, 128 + 4); /* 10 + 56 + '\n' rounds up to 128 */
	free(b);
}

static void test_versions_and_dtypes(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN];
	float *y;
	int nd;
	int64_t sh[8];
	size_t len;
	const float vals[6] = {0.5f, -1.25f, 3.0f, 1e-3f, -7.5f, 100.0f};
	uint8_t raw[48];

	for (int big = 0; big <= 1; big++) {
		for (int major = 1; major <= 3; major++) {
			char dict[128];
			for (int i = 0; i < 6; i++)
				put_f32(raw + 4 * i, vals[i], big);
			snprintf(dict, sizeof dict, "{'descr': '%cf4', 'fortran_order': False, "
			         "'shape': (2, 3), }", big ? '>' : '<');
			uint8_t *b = make_npy(major, dict, raw, 24, &len);
			assert_int_equal(stride_npy_read_memory(b, len, "v.npy", &y, &nd, sh, err), 0);
			assert_int_equal(nd, 2);
			assert_int_equal(sh[0], 2);
			assert_int_equal(sh[1], 3);
			for (int i = 0; i < 6; i++)
				assert_true(bits_equal(y[i], vals[i]));
			free(y);
			free(b);

			/* float64, converted to the nearest float */
			const double dv[4] = {0.1, -2.5, 1e300, -1e-300};
			for (int i = 0; i < 4; i++)
				put_f64(raw + 8 * i, dv[i], big);
			snprintf(dict, sizeof dict, "{'descr': '%cf8', 'fortran_order': False, "
			         "'shape': (4,), }", big ? '>' : '<');
			b = make_npy(major, dict, raw, 32, &len);
			assert_int_equal(stride_npy_read_memory(b, len, "v.npy", &y, &nd, sh, err), 0);
			assert_int_equal(nd, 1);
			assert_int_equal(sh[0], 4);
			assert_true(bits_equal(y[0], 0.1f));
			assert_true(bits_equal(y[1], -2.5f));
			assert_true(isinf(y[2]) && y[2] > 0);
			assert_true(y[3] == 0.0f && signbit(y[3]));
			free(y);
			free(b);
		}
	}

	/* key order, quotes and spacing are free; (3) is read as a 1-tuple */
	put_f32(raw, 1.5f, 0);
	put_f32(raw + 4, 2.5f, 0);
	put_f32(raw + 8, 3.5f, 0);
	uint8_t *b = make_npy(1, "{\"shape\":(3),\"fortran_order\":False,\"descr\":\"<f4\"}", raw,
	                      12, &len);
	assert_int_equal(stride_npy_read_memory(b, len, "v.npy", &y, &nd, sh, err), 0);
	assert_int_equal(nd, 1);
	assert_int_equal(sh[0], 3);
	assert_true(y[2] == 3.5f);
	free(y);
	free(b);
	/* a scalar */
	b = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", raw, 4, &len);
	assert_int_equal(stride_npy_read_memory(b, len, "v.npy", &y, &nd, sh, err), 0);
	assert_int_equal(nd, 0);
	assert_true(y[0] == 1.5f);
	free(y);
	free(b);
}

/* Each bad file is refused with a message naming the file and the fault. */
static void expect_error(const uint8_t *b, size_t len, const char *word)
{
	char err[STRIDE_ERR_LEN] = "";
	float *y = (float *)(uintptr_t)1;
	int nd;
	int64_t sh[8];
	assert_int_equal(stride_npy_read_memory(b, len, "bad.npy", &y, &nd, sh, err), -1);
	assert_null(y);
	if (!strstr(err, "bad.npy") || !strstr(err, word))
		fail_msg("error \"%s\" lacks \"bad.npy\" or \"%s\"", err, word);
}

static void expect_dict_error(int major, const char *dict, size_t dlen, const char *word)
{
	uint8_t data[64];
	memset(data, 0, sizeof data);
	size_t len;
	uint8_t *b = make_npy(major, dict, data, dlen, &len);
	expect_error(b, len, word);
	free(b);
}

/* Fortran order by hand: a (2, 3) array stored first index fastest. */
static void test_fortran_order(void **state)
{
	(void)state;
	const float stored[6] = { 1, 4, 2, 5, 3, 6 }; /* a[0][0] a[1][0] a[0][1] a[1][1] ... */
	size_t len;
	uint8_t *b = make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", stored,
	                      sizeof stored, &len);
	float *y;
	int nd;
	int64_t sh[8];
	char err[STRIDE_ERR_LEN];
	if (stride_npy_read_memory(b, len, "f.npy", &y, &nd, sh, err) != 0)
		fail_msg("%s", err);
	for (int i = 0; i < 6; i++)
		assert_true(y[i] == (float)(i + 1));
	free(y);
	free(b);
	/* (2, 2, 2): element [i][j][k] stored at i + 2 j + 4 k */
	float cube[8];
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			for (int k = 0; k < 2; k++)
				cube[i + 2 * j + 4 * k] = (float)(100 * i + 10 * j + k);
	b = make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", cube, sizeof cube,
	             &len);
	if (stride_npy_read_memory(b, len, "f3.npy", &y, &nd, sh, err) != 0)
		fail_msg("%s", err);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			for (int k = 0; k < 2; k++)
				assert_true(y[4 * i + 2 * j + k] == (float)(100 * i + 10 * j + k));
	free(y);
	free(b);
}

static void test_errors(void **state)
{
	(void)state;
	const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
	expect_dict_error(1, ok, 20, "truncated");
	expect_dict_error(1, ok, 28, "trailing");
	expect_dict_error(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24,
	                  "dtype");
	expect_dict_error(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", 12,
	                  "dtype");
	expect_dict_error(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", 6,
	                  "dtype");
	expect_dict_error(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
	                  8, "structured");
	expect_dict_error(1, "{'descr': '<f4', 'shape': (2, 3), }", 24, "fortran_order");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, }", 24, "shape");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",
	                  24, "key");
	expect_dict_error(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
	                  "'shape': (6,), }", 24, "key");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24,
	                  "shape");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3), }", 24,
	                  "shape");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", 24,
	                  "shape");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }", 24,
	                  "shape");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	                  "(1, 1, 1, 1, 1, 1, 1, 1, 1), }", 4, "dimensions");
	/* products that overflow 64 bits, and one that fits but is absurd */
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	                  "(4000000000, 4000000000, 4000000000), }", 4, "too large");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	                  "(4000000000, 4000000), }", 4, "truncated");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	                  "(99999999999999999999999,), }", 4, "shape");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }", 4,
	                  "fortran_order");
	expect_dict_error(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", 4,
	                  "after");
	expect_dict_error(1, "['descr', '<f4']", 4, "dict");
	expect_dict_error(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4,
	                  "malformed");

	uint8_t data[8] = {0};
	size_t len;
	uint8_t *b = make_npy(1, ok, data, 0, &len);
	b[1] = 'X';
	expect_error(b, len, "magic");
	b[1] = 'N';
	b[6] = 4;
	expect_error(b, len, "version");
	b[6] = 1;
	b[7] = 1;
	expect_error(b, len, "version");
	b[7] = 0;
	b[8] = 0xff; /* header length beyond the file */
	b[9] = 0xff;
	expect_error(b, len, "truncated");
	free(b);
	b = make_npy(2, ok, data, 0, &len);
	b[11] = 0x7f; /* a 2 GB header */
	expect_error(b, len, "too large");
	free(b);
	expect_error((const uint8_t *)"", 0, "magic");

	char err[STRIDE_ERR_LEN] = "";
	float *y;
	int nd;
	int64_t sh[8];
	const char *missing = ts_tmp_path("no-such-file.npy");
	assert_int_equal(stride_npy_read(missing, &y, &nd, sh, err), -1);
	assert_non_null(strstr(err, "no-such-file.npy"));

	/* writing: bad arguments, and a folder that does not exist */
	int64_t neg = -1, big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	float x = 0;
	assert_int_equal(stride_npy_write(ts_tmp_path("w.npy"), &x, 1, &neg, err), -1);
	assert_int_equal(stride_npy_write(ts_tmp_path("w.npy"), &x, 9, big, err), -1);
	assert_int_equal(stride_npy_write(ts_tmp_path("nodir/w.npy"), &x, 1, big, err), -1);
	assert_non_null(strstr(err, "nodir/w.npy"));
	assert_int_equal(access(ts_tmp_path("w.npy"), F_OK), -1);
}

/* Cut a valid file at every length: always an error, never a crash. */
static void test_truncation(void **state)
{
	(void)state;
	float x[7] = {1, 2, 3, 4, 5, 6, 7};
	int64_t shape = 7;
	char err[STRIDE_ERR_LEN];
	const char *path = ts_tmp_path("cut.npy");
	assert_int_equal(stride_npy_write(path, x, 1, &shape, err), 0);
	size_t len;
	uint8_t *b = ts_slurp(path, &len);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n + 1); /* exact size: ASan and valgrind see overreads */
		memcpy(cut, b, n);
		float *y;
		int nd;
		int64_t sh[8];
		assert_int_equal(stride_npy_read_memory(cut, n, "cut.npy", &y, &nd, sh, err), -1);
		free(cut);
	}
	/* and flip each header byte: may load or fail, must not crash */
	for (size_t i = 0; i < 64; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *m = malloc(len);
			memcpy(m, b, len);
			m[i] ^= (uint8_t)(1u << bit);
			float *y = NULL;
			int nd;
			int64_t sh[8];
			if (stride_npy_read_memory(m, len, "flip.npy", &y, &nd, sh, err) == 0)
				free(y);
			free(m);
		}
	}
	free(b);
}

/* numpy writes, we read; we write, numpy reads. */
static void test_numpy_interop(void **state)
{
	(void)state;
	if (ts_under_valgrind()) {
		skip();
		return;
	}
	const char *writer =
	    "import sys, numpy as np\n"
	    "d = sys.argv[1]\n"
	    "a = (np.arange(24, dtype=np.float64) * 0.25 - 1.0).reshape(2, 3, 4)\n"
	    "np.save(d + '/np_f4.npy', a.astype(np.float32))\n"
	    "np.save(d + '/np_f8.npy', a)\n"
	    "np.save(d + '/np_be.npy', a.astype('>f4'))\n"
	    "np.save(d + '/np_t.npy', a.astype(np.float32).transpose(2, 0, 1))\n"
	    "np.save(d + '/np_fortran.npy', np.asfortranarray(a.astype(np.float32)))\n"
	    "np.save(d + '/np_i4.npy', a.astype(np.int32))\n"
	    "c = np.arange(10, dtype=np.float32).reshape(2, 5)\n"
	    "np.save(d + '/np_ct.npy', c)\n"
	    "np.save(d + '/np_ct_f.npy', np.asfortranarray(c))\n"
	    "np.save(d + '/np_tc.npy', c.T)\n"
	    "np.save(d + '/np_t1.npy', np.arange(7, dtype=np.float32))\n"
	    "np.save(d + '/np_t1_f.npy', np.asfortranarray(np.arange(7, dtype=np.float32)))\n"
	    "for f in ('np_ct_f', 'np_tc', 'np_fortran'):\n"
	    "    with open(d + '/' + f + '.npy', 'rb') as h:\n"
	    "        assert b\"'fortran_order': True\" in h.read(128), f\n"
	    "np.save(d + '/np_0d.npy', np.float32(2.5))\n"
	    "for v in [(2, 0), (3, 0)]:\n"
	    "    with open(d + '/np_v%d.npy' % v[0], 'wb') as f:\n"
	    "        np.lib.format.write_array(f, a.astype(np.float32), version=v)\n";
	assert_int_equal(ts_run_python(writer), 0);
	const char *same[] = {"np_f4.npy", "np_f8.npy", "np_be.npy", "np_v2.npy", "np_v3.npy"};
	char err[STRIDE_ERR_LEN];
	float *y;
	int nd;
	int64_t sh[8];
	for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
		if (stride_npy_read(ts_tmp_path(same[k]), &y, &nd, sh, err) != 0)
			fail_msg("%s", err);
		assert_int_equal(nd, 3);
		assert_int_equal(sh[0], 2);
		assert_int_equal(sh[1], 3);
		assert_int_equal(sh[2], 4);
		for (int i = 0; i < 24; i++)
			assert_true(y[i] == (float)i * 0.25f - 1.0f);
		free(y);
	}
	/* a transposed array is saved C-contiguous by np.save: element [i][j][k] of
	 * the (4, 2, 3) result is a[j][k][i] */
	assert_int_equal(stride_npy_read(ts_tmp_path("np_t.npy"), &y, &nd, sh, err), 0);
	assert_int_equal(nd, 3);
	assert_int_equal(sh[0], 4);
	assert_true(y[1 * 6 + 1 * 3 + 2] == (float)(1 * 12 + 2 * 4 + 1) * 0.25f - 1.0f);
	free(y);
	/* Fortran order (np.save writes it for a transposed 2-D array): read as
	 * numpy.load reads it, into C order */
	if (stride_npy_read(ts_tmp_path("np_fortran.npy"), &y, &nd, sh, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(nd, 3);
	for (int i = 0; i < 24; i++)
		assert_true(y[i] == (float)i * 0.25f - 1.0f);
	free(y);
	const struct { const char *file; int nd; int64_t rows, cols; bool transposed; } two[] = {
		{ "np_ct.npy", 2, 2, 5, false }, { "np_ct_f.npy", 2, 2, 5, false }, { "np_tc.npy", 2, 5, 2, true },
		{ "np_t1.npy", 1, 7, 1, false }, { "np_t1_f.npy", 1, 7, 1, false },
	};
	for (size_t k = 0; k < sizeof two / sizeof two[0]; k++) {
		if (stride_npy_read(ts_tmp_path(two[k].file), &y, &nd, sh, err) != 0)
			fail_msg("%s: %s", two[k].file, err);
		assert_int_equal(nd, two[k].nd);
		assert_int_equal(sh[0], two[k].rows);
		if (nd == 2)
			assert_int_equal(sh[1], two[k].cols);
		for (int64_t r = 0; r < two[k].rows; r++)
			for (int64_t c = 0; c < two[k].cols; c++) {
				/* c.T[r][c] = c[c][r] = 5 c + r */
				const float want = two[k].transposed ? (float)(5 * c + r) : (float)(r * two[k].cols + c);
				if (y[r * two[k].cols + c] != want)
					fail_msg("%s [%d][%d]: %g, want %g", two[k].file, (int)r, (int)c,
					         (double)y[r * two[k].cols + c], (double)want);
			}
		free(y);
	}
	assert_int_equal(stride_npy_read(ts_tmp_path("np_i4.npy"), &y, &nd, sh, err), -1);
	assert_non_null(strstr(err, "dtype"));
	assert_int_equal(stride_npy_read(ts_tmp_path("np_0d.npy"), &y, &nd, sh, err), 0);
	assert_int_equal(nd, 0);
	assert_true(y[0] == 2.5f);
	free(y);

	/* ours, read by numpy */
	float x[30];
	for (int i = 0; i < 30; i++)
		x[i] = (float)i / 3.0f - 4.0f;
	x[7] = NAN;
	int64_t shape[3] = {5, 3, 2};
	assert_int_equal(stride_npy_write(ts_tmp_path("ours.npy"), x, 3, shape, err), 0);
	assert_int_equal(stride_npy_write(ts_tmp_path("ours0.npy"), x, 0, shape, err), 0);
	assert_int_equal(stride_npy_write(ts_tmp_path("ours1.npy"), x, 1, (int64_t[]){0}, err), 0);
	const char *reader =
	    "import sys, numpy as np\n"
	    "d = sys.argv[1]\n"
	    "a = np.load(d + '/ours.npy')\n"
	    "assert a.dtype == np.float32 and a.shape == (5, 3, 2), (a.dtype, a.shape)\n"
	    "want = (np.arange(30, dtype=np.float32) / np.float32(3) - np.float32(4)).reshape(5, 3, 2)\n"
	    "assert np.isnan(a.flat[7])\n"
	    "want.flat[7] = a.flat[7]\n"
	    "assert np.array_equal(a, want, equal_nan=True), (a, want)\n"
	    "b = np.load(d + '/ours0.npy')\n"
	    "assert b.shape == () and b == np.float32(-4.0)\n"
	    "c = np.load(d + '/ours1.npy')\n"
	    "assert c.shape == (0,) and c.dtype == np.float32\n";
	assert_int_equal(ts_run_python(reader), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_written_layout),
		cmocka_unit_test(test_versions_and_dtypes),
		cmocka_unit_test(test_fortran_order),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_numpy_interop),
	};
	return cmocka_run_group_tests(tests, ts_tmpdir_setup, ts_tmpdir_teardown);
}
