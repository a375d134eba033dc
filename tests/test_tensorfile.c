/* Generic safetensors files: write/read round trips bit for bit, the byte layout
 * (header length, space padding to 8, contiguous little-endian data), hand-made
 * headers of every kind of fault, truncation and byte flips, and Python reading
 * our files and writing files we read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stride.h"
#include "test_support.h"

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A safetensors buffer from a header text and data bytes (no padding added). */
static uint8_t *make_st(const char *header, const void *data, size_t dlen, size_t *len)
{
	size_t hl = strlen(header);
	uint8_t *b = malloc(8 + hl + dlen + 1);
	assert_non_null(b);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
	memcpy(b + 8, header, hl);
	if (dlen)
		memcpy(b + 8 + hl, data, dlen);
	*len = 8 + hl + dlen;
	return b;
}

static int bits_equal(float a, float b)
{
	return memcmp(&a, &b, 4) == 0;
}

static void test_round_trip(void **state)
{
	(void)state;
	float a[24], b[1] = {-3.5f}, c[3] = {NAN, -0.0f, INFINITY}, big[256];
	for (int i = 0; i < 24; i++)
		a[i] = (float)i * 0.1f - 1.0f;
	for (int i = 0; i < 256; i++)
		big[i] = (float)(i * i) / 7.0f;
	StrideTensorOut t[6] = {
		{.name = "layer.weight", .ndim = 3, .shape = {2, 3, 4}, .data = a},
		{.name = "scalar", .ndim = 0, .data = b},
		{.name = "specials", .ndim = 1, .shape = {3}, .data = c},
		{.name = "empty", .ndim = 2, .shape = {4, 0}, .data = NULL},
		{.name = "rank8", .ndim = 8, .shape = {2, 2, 2, 2, 2, 2, 2, 2}, .data = big},
		{.name = "a \"quoted\" name/ü", .ndim = 1, .shape = {5}, .data = a + 3},
	};
	const char *keys[] = {"format", "note", "empty"};
	const char *vals[] = {"pt", "line1\nline2 \"q\" \\ é 😀", ""};
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("rt.safetensors");
	if (stride_tensorfile_write(path, t, 6, keys, vals, 3, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(access(ts_tmp_path("rt.safetensors.tmp"), F_OK), -1);

	StrideTensorFile *f = stride_tensorfile_read(path, err);
	if (!f)
		fail_msg("%s", err);
	assert_int_equal(stride_tensorfile_n_tensors(f), 6);
	for (int i = 0; i < 6; i++) {
		/* order kept as written */
		assert_string_equal(stride_tensorfile_name(f, i), t[i].name);
		assert_int_equal(stride_tensorfile_find(f, t[i].name), i);
		assert_int_equal(stride_tensorfile_ndim(f, i), t[i].ndim);
		size_t n = 1;
		for (int d = 0; d < t[i].ndim; d++) {
			assert_int_equal(stride_tensorfile_shape(f, i)[d], t[i].shape[d]);
			n *= (size_t)t[i].shape[d];
		}
		assert_int_equal(stride_tensorfile_size(f, i), n);
		const float *d = stride_tensorfile_data(f, i);
		assert_non_null(d);
		assert_int_equal((uintptr_t)d % 32, 0);
		for (size_t k = 0; k < n; k++)
			assert_true(bits_equal(d[k], t[i].data[k]));
	}
	for (int i = 0; i < 3; i++)
		assert_string_equal(stride_tensorfile_meta(f, keys[i]), vals[i]);
	assert_null(stride_tensorfile_meta(f, "absent"));
	assert_int_equal(stride_tensorfile_find(f, "absent"), -1);
	assert_null(stride_tensorfile_name(f, 6));
	assert_null(stride_tensorfile_data(f, -1));
	stride_tensorfile_free(f);

	/* no tensors, no metadata: still a valid file */
	assert_int_equal(stride_tensorfile_write(path, NULL, 0, NULL, NULL, 0, err), 0);
	f = stride_tensorfile_read(path, err);
	assert_non_null(f);
	assert_int_equal(stride_tensorfile_n_tensors(f), 0);
	stride_tensorfile_free(f);
}

/* The bytes on disk, checked against the format, not against our reader. */
static void test_layout(void **state)
{
	(void)state;
	float a[3] = {1.0f, -2.0f, 0.5f}, b[2] = {3.0f, 4.0f};
	StrideTensorOut t[2] = {
		{.name = "x", .ndim = 1, .shape = {3}, .data = a},
		{.name = "y", .ndim = 2, .shape = {1, 2}, .data = b},
	};
	const char *keys[] = {"k"};
	const char *vals[] = {"v"};
	char err[STRIDE_ERR_LEN];
	const char *path = ts_tmp_path("layout.safetensors");
	assert_int_equal(stride_tensorfile_write(path, t, 2, keys, vals, 1, err), 0);
	size_t len;
	uint8_t *buf = ts_slurp(path, &len);
	uint64_t n = get_u64(buf);
	assert_int_equal(n % 8, 0);
	assert_int_equal(len, 8 + n + 20);
	/* JSON followed only by spaces */
	char *text = calloc(n + 1, 1);
	memcpy(text, buf + 8, n);
	size_t end = n;
	while (end > 0 && text[end - 1] == ' ')
		end--;
	assert_true(n - end < 8);
	assert_int_equal(text[end - 1], '}');
	cJSON *root = cJSON_Parse(text);
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "__metadata__"), "k")
	                        ->valuestring, "v");
	cJSON *x = cJSON_GetObjectItem(root, "x"), *y = cJSON_GetObjectItem(root, "y");
	assert_string_equal(cJSON_GetObjectItem(x, "dtype")->valuestring, "F32");
	cJSON *xo = cJSON_GetObjectItem(x, "data_offsets"), *yo = cJSON_GetObjectItem(y, "data_offsets");
	assert_int_equal(cJSON_GetArrayItem(xo, 0)->valueint, 0);
	assert_int_equal(cJSON_GetArrayItem(xo, 1)->valueint, 12);
	assert_int_equal(cJSON_GetArrayItem(yo, 0)->valueint, 12);
	assert_int_equal(cJSON_GetArrayItem(yo, 1)->valueint, 20);
	cJSON *ys = cJSON_GetObjectItem(y, "shape");
	assert_int_equal(cJSON_GetArraySize(ys), 2);
	assert_int_equal(cJSON_GetArrayItem(ys, 0)->valueint, 1);
	assert_int_equal(cJSON_GetArrayItem(ys, 1)->valueint, 2);
	cJSON_Delete(root);
	free(text);
	/* little-endian floats: -2.0f = 0xC0000000, 3.0f = 0x40400000 */
	assert_memory_equal(buf + 8 + n + 4, "\x00\x00\x00\xc0", 4);
	assert_memory_equal(buf + 8 + n + 12, "\x00\x00\x40\x40", 4);
	free(buf);
}

/* Tensors at odd offsets, holes, the PyTorch batchnorm counter. */
static void test_hand_made_valid(void **state)
{
	(void)state;
	uint8_t data[64];
	memset(data, 0xAB, sizeof data);
	const float v[3] = {1.5f, -2.25f, 1e-7f};
	memcpy(data + 1, v, 12); /* unaligned; x86 is little-endian like the format */
	memset(data + 13, 0, 8);
	data[13] = 7; /* num_batches_tracked = 7 */
	const char *hdr = "{\"t\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [1, 13]},"
	                  " \"bn.num_batches_tracked\": {\"dtype\": \"I64\", \"shape\": [],"
	                  " \"data_offsets\": [13, 21]},"
	                  " \"__metadata__\": {\"a\": \"b\"}}";
	size_t len;
	uint8_t *b = make_st(hdr, data, 40, &len);
	char err[STRIDE_ERR_LEN] = "";
	StrideTensorFile *f = stride_tensorfile_read_memory(b, len, "hand.safetensors", err);
	if (!f)
		fail_msg("%s", err);
	assert_int_equal(stride_tensorfile_n_tensors(f), 1);
	assert_string_equal(stride_tensorfile_name(f, 0), "t");
	assert_int_equal(stride_tensorfile_find(f, "bn.num_batches_tracked"), -1);
	for (int i = 0; i < 3; i++)
		assert_true(bits_equal(stride_tensorfile_data(f, 0)[i], v[i]));
	assert_string_equal(stride_tensorfile_meta(f, "a"), "b");
	stride_tensorfile_free(f);
	free(b);
}

static void expect_error(const char *hdr, const void *data, size_t dlen, const char *word)
{
	size_t len;
	uint8_t *b = make_st(hdr, data, dlen, &len);
	char err[STRIDE_ERR_LEN] = "";
	StrideTensorFile *f = stride_tensorfile_read_memory(b, len, "bad.safetensors", err);
	if (f) {
		stride_tensorfile_free(f);
		fail_msg("accepted: %s", hdr);
	}
	if (getenv("SHOW_ERR"))
		printf("%s\n", err);
	if (!strstr(err, "bad.safetensors") || !strstr(err, word))
		fail_msg("error \"%s\" lacks the file name or \"%s\" (header %s)", err, word, hdr);
	free(b);
}

static void test_errors(void **state)
{
	(void)state;
	uint8_t z[64] = {0};
#define T(x) "{\"t\": " x "}"
	expect_error("{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", z, 8,
	             "JSON");
	expect_error("[1, 2]", z, 0, "not a JSON object");
	expect_error("", z, 0, "JSON");
	expect_error(T("{\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}"), z, 4,
	             "dtype F16");
	expect_error(T("{\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]}"), z, 8,
	             "dtype I64");
	expect_error(T("{\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8]}"), z, 8,
	             "dtype");
	expect_error(T("{\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}"), z, 4, "dtype");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 12]}"), z, 8,
	             "beyond");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}"), z, 8,
	             "data size");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}"), z, 8,
	             "after end");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}"), z, 8,
	             "data_offsets");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8, 16]}"), z, 16,
	             "data_offsets");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8.5]}"), z, 16,
	             "data_offsets");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [\"0\", 8]}"), z, 8,
	             "data_offsets");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}"), z, 8,
	             "data_offsets");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": "
	               "[0, 1e300]}"), z, 8, "data_offsets");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": 2, \"data_offsets\": [0, 8]}"), z, 8,
	             "shape");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}"), z, 8,
	             "shape");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}"), z, 8,
	             "shape");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": "
	               "[0, 4]}"), z, 4, "dimensions");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [4000000000, 4000000000], "
	               "\"data_offsets\": [0, 8]}"), z, 8, "too large");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [4000000000, 4000000000, 4000000000], "
	               "\"data_offsets\": [0, 8]}"), z, 8, "too large");
	expect_error(T("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8], "
	               "\"extra\": 1}"), z, 8, "unknown key");
	expect_error(T("{\"dtype\": \"F32\", \"dtype\": \"F32\", \"shape\": [2], "
	               "\"data_offsets\": [0, 8]}"), z, 8, "duplicate");
	expect_error(T("{\"dtype\": \"F32\", \"data_offsets\": [0, 8]}"), z, 8, "missing");
	expect_error(T("[1]"), z, 8, "not a JSON object");
	expect_error("{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
	             "\"u\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", z, 12,
	             "overlap");
	expect_error("{\"t\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}, "
	             "\"u\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", z, 16,
	             "overlap");
	expect_error("{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
	             "\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", z, 16,
	             "twice");
	expect_error("{\"\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", z, 8,
	             "empty name");
	expect_error("{\"__metadata__\": {\"a\": 1}}", z, 0, "not a string");
	expect_error("{\"__metadata__\": [\"a\"]}", z, 0, "__metadata__");
	expect_error("{\"__metadata__\": {\"a\": \"1\", \"a\": \"2\"}}", z, 0, "twice");
	expect_error("{\"__metadata__\": {}, \"__metadata__\": {}}", z, 0, "twice");
	expect_error("{\"__metadata__\": {\"a\": \"\xff\"}}", z, 0, "UTF-8");
	expect_error("{\"__metadata__\": {\"a\": \"\xc0\xaf\"}}", z, 0, "UTF-8"); /* overlong */
	/* deep nesting is refused by the parser's limit, not by running out of stack */
	char deep[8192];
	strcpy(deep, "{\"__metadata__\": ");
	for (int i = 0; i < 3000; i++)
		strcat(deep, "[");
	expect_error(deep, z, 0, "JSON");
#undef T

	/* a NUL inside the header */
	size_t len;
	uint8_t *b = make_st("{\"__metadata__\": {\"a\": \"b\"}}  ", z, 0, &len);
	b[len - 1] = 0;
	char err[STRIDE_ERR_LEN] = "";
	assert_null(stride_tensorfile_read_memory(b, len, "nul.safetensors", err));
	assert_non_null(strstr(err, "NUL"));
	/* header length beyond the file, and beyond 100 MB */
	b[0] = (uint8_t)(len - 7);
	assert_null(stride_tensorfile_read_memory(b, len, "hl.safetensors", err));
	assert_non_null(strstr(err, "hl.safetensors: header length"));
	memset(b, 0xff, 8);
	assert_null(stride_tensorfile_read_memory(b, len, "hl.safetensors", err));
	assert_non_null(strstr(err, "header length"));
	free(b);
	assert_null(stride_tensorfile_read_memory((const uint8_t *)"\x02\0\0\0\0\0\0", 7,
	                                          "short.safetensors", err));
	assert_non_null(strstr(err, "short.safetensors"));
	assert_non_null(strstr(err, "too short"));
	assert_null(stride_tensorfile_read_memory(NULL, 0, NULL, err));
	assert_non_null(strstr(err, "(memory)"));

	/* the 100 MB limit: a file slightly larger, all spaces after "{}" */
	size_t hl = 100000001;
	uint8_t *huge = malloc(8 + hl);
	assert_non_null(huge);
	memset(huge + 8, ' ', hl);
	huge[8] = '{';
	huge[9] = '}';
	for (int i = 0; i < 8; i++)
		huge[i] = (uint8_t)((uint64_t)hl >> (8 * i));
	assert_null(stride_tensorfile_read_memory(huge, 8 + hl, "huge.safetensors", err));
	assert_non_null(strstr(err, "limit"));
	free(huge);

	/* a small header of very many JSON items (each costs the parser memory) */
	size_t items = 1100000;
	char *many = malloc(16 + 2 * items + 4);
	assert_non_null(many);
	strcpy(many, "{\"x\": [0");
	size_t at = strlen(many);
	for (size_t i = 1; i < items; i++) {
		many[at++] = ',';
		many[at++] = '0';
	}
	strcpy(many + at, "]}");
	b = make_st(many, z, 0, &len);
	assert_null(stride_tensorfile_read_memory(b, len, "items.safetensors", err));
	assert_non_null(strstr(err, "items.safetensors: header has more than 1000000 JSON items"));
	free(b);
	free(many);

	assert_null(stride_tensorfile_read(ts_tmp_path("missing.safetensors"), err));
	assert_non_null(strstr(err, "missing.safetensors"));
	assert_null(stride_tensorfile_read(ts_tmpdir(), err)); /* a folder */
	assert_non_null(strstr(err, ts_tmpdir()));
}

static void test_write_errors(void **state)
{
	(void)state;
	float a[4] = {0};
	char err[STRIDE_ERR_LEN];
	const char *path = ts_tmp_path("w.safetensors");
	StrideTensorOut dup[2] = {{.name = "a", .ndim = 1, .shape = {4}, .data = a},
	                          {.name = "a", .ndim = 1, .shape = {4}, .data = a}};
	assert_int_equal(stride_tensorfile_write(path, dup, 2, NULL, NULL, 0, err), -1);
	assert_non_null(strstr(err, "twice"));
	StrideTensorOut bad = {.name = "b", .ndim = 9, .shape = {1}, .data = a};
	assert_int_equal(stride_tensorfile_write(path, &bad, 1, NULL, NULL, 0, err), -1);
	bad = (StrideTensorOut){.name = "b", .ndim = 1, .shape = {-1}, .data = a};
	assert_int_equal(stride_tensorfile_write(path, &bad, 1, NULL, NULL, 0, err), -1);
	bad = (StrideTensorOut){.name = "__metadata__", .ndim = 1, .shape = {4}, .data = a};
	assert_int_equal(stride_tensorfile_write(path, &bad, 1, NULL, NULL, 0, err), -1);
	bad = (StrideTensorOut){.name = "b", .ndim = 1, .shape = {4}, .data = NULL};
	assert_int_equal(stride_tensorfile_write(path, &bad, 1, NULL, NULL, 0, err), -1);
	const char *k[2] = {"x", "x"}, *v[2] = {"1", "2"};
	assert_int_equal(stride_tensorfile_write(path, NULL, 0, k, v, 2, err), -1);
	assert_int_equal(access(path, F_OK), -1);

	/* an unwritable place: error naming it, nothing left behind */
	StrideTensorOut ok = {.name = "b", .ndim = 1, .shape = {4}, .data = a};
	const char *nodir = ts_tmp_path("nodir/w.safetensors");
	assert_int_equal(stride_tensorfile_write(nodir, &ok, 1, NULL, NULL, 0, err), -1);
	assert_non_null(strstr(err, "nodir/w.safetensors"));

	/* replacing an existing file goes through the temporary: the old one stays
	 * whole until the new one is complete */
	assert_int_equal(stride_tensorfile_write(path, &ok, 1, NULL, NULL, 0, err), 0);
	a[0] = 42.0f;
	assert_int_equal(stride_tensorfile_write(path, &ok, 1, NULL, NULL, 0, err), 0);
	StrideTensorFile *f = stride_tensorfile_read(path, err);
	assert_non_null(f);
	assert_true(stride_tensorfile_data(f, 0)[0] == 42.0f);
	stride_tensorfile_free(f);
	assert_int_equal(access(ts_tmp_path("w.safetensors.tmp"), F_OK), -1);
}

/* Every prefix of a valid file is refused; flipped bytes never crash. */
static void test_truncation_and_flips(void **state)
{
	(void)state;
	float a[6] = {1, 2, 3, 4, 5, 6};
	StrideTensorOut t[2] = {{.name = "a", .ndim = 2, .shape = {2, 2}, .data = a},
	                        {.name = "b.c", .ndim = 1, .shape = {2}, .data = a + 4}};
	const char *k[1] = {"m"}, *v[1] = {"n"};
	char err[STRIDE_ERR_LEN];
	const char *path = ts_tmp_path("cut.safetensors");
	assert_int_equal(stride_tensorfile_write(path, t, 2, k, v, 1, err), 0);
	size_t len;
	uint8_t *b = ts_slurp(path, &len);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n + 1);
		memcpy(cut, b, n);
		StrideTensorFile *f = stride_tensorfile_read_memory(cut, n, "cut.safetensors", err);
		assert_null(f);
		assert_non_null(strstr(err, "cut.safetensors"));
		free(cut);
	}
	const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			uint8_t *x = malloc(len);
			memcpy(x, b, len);
			x[i] ^= masks[m];
			StrideTensorFile *f = stride_tensorfile_read_memory(x, len, "flip", err);
			if (f) {
				for (int j = 0; j < stride_tensorfile_n_tensors(f); j++) {
					/* whatever loaded is readable in full */
					volatile float s = 0;
					for (size_t q = 0; q < stride_tensorfile_size(f, j); q++)
						s += stride_tensorfile_data(f, j)[q];
					(void)s;
				}
			}
			stride_tensorfile_free(f);
			free(x);
		}
	}
	free(b);
}

/* Python (json + struct + numpy, as docs/MODEL_FORMAT.md describes the format)
 * reads ours and writes one with a PyTorch-style I64 counter that we read. */
static void test_python_interop(void **state)
{
	(void)state;
	if (ts_under_valgrind()) {
		skip();
		return;
	}
	float a[6];
	for (int i = 0; i < 6; i++)
		a[i] = (float)i / 3.0f;
	StrideTensorOut t[2] = {{.name = "w", .ndim = 2, .shape = {2, 3}, .data = a},
	                        {.name = "s", .ndim = 0, .data = a + 1}};
	const char *k[1] = {"who"}, *v[1] = {"stride ü"};
	char err[STRIDE_ERR_LEN];
	assert_int_equal(stride_tensorfile_write(ts_tmp_path("ours.safetensors"), t, 2, k, v, 1, err),
	                 0);
	const char *script =
	    "import sys, json, struct, numpy as np\n"
	    "d = sys.argv[1]\n"
	    "raw = open(d + '/ours.safetensors', 'rb').read()\n"
	    "(n,) = struct.unpack('<Q', raw[:8])\n"
	    "assert n % 8 == 0 and (8 + n) % 8 == 0\n"
	    "h = json.loads(raw[8:8 + n].decode('utf-8'))\n"
	    "assert h['__metadata__'] == {'who': 'stride \\u00fc'}, h\n"
	    "data = raw[8 + n:]\n"
	    "b, e = h['w']['data_offsets']\n"
	    "w = np.frombuffer(data[b:e], '<f4').reshape(h['w']['shape'])\n"
	    "assert np.array_equal(w, (np.arange(6, dtype=np.float32) / np.float32(3)).reshape(2, 3))\n"
	    "assert h['s']['shape'] == [] and h['s']['dtype'] == 'F32'\n"
	    "b, e = h['s']['data_offsets']\n"
	    "assert np.frombuffer(data[b:e], '<f4')[0] == np.float32(1) / np.float32(3)\n"
	    "assert len(data) == 28\n"
	    "# theirs: an odd layout (counter first, unpadded header)\n"
	    "x = np.linspace(-1, 1, 10, dtype=np.float32).reshape(5, 2)\n"
	    "hdr = {'bn.num_batches_tracked': {'dtype': 'I64', 'shape': [], 'data_offsets': [0, 8]},\n"
	    "       'x': {'dtype': 'F32', 'shape': [5, 2], 'data_offsets': [8, 48]},\n"
	    "       '__metadata__': {'format': 'pt'}}\n"
	    "t = json.dumps(hdr).encode()\n"
	    "open(d + '/theirs.safetensors', 'wb').write(struct.pack('<Q', len(t)) + t + "
	    "struct.pack('<q', 123) + x.tobytes())\n";
	assert_int_equal(ts_run_python(script), 0);
	StrideTensorFile *f = stride_tensorfile_read(ts_tmp_path("theirs.safetensors"), err);
	if (!f)
		fail_msg("%s", err);
	assert_int_equal(stride_tensorfile_n_tensors(f), 1);
	int i = stride_tensorfile_find(f, "x");
	assert_int_equal(i, 0);
	assert_int_equal(stride_tensorfile_shape(f, i)[0], 5);
	assert_int_equal(stride_tensorfile_shape(f, i)[1], 2);
	for (int j = 0; j < 10; j++)
		assert_float_equal(stride_tensorfile_data(f, i)[j], -1.0 + 2.0 * j / 9.0, 1e-6);
	assert_string_equal(stride_tensorfile_meta(f, "format"), "pt");
	stride_tensorfile_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_hand_made_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_truncation_and_flips),
		cmocka_unit_test(test_python_interop),
	};
	return cmocka_run_group_tests(tests, ts_tmpdir_setup, ts_tmpdir_teardown);
}
