/* NumPy .npy arrays: read float32/float64 C-order arrays, write float32.
 *
 * The format: "\x93NUMPY", a version byte pair, a little-endian header length
 * (2 bytes in version 1.0, 4 bytes in 2.0 and 3.0), then a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 5), } padded with spaces
 * and ending in '\n', then the raw data. */
#include <inttypes.h>
#include <math.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

#define NPY_MAX_RANK 8
/* numpy itself refuses headers above 10 kB by default; this leaves room. */
#define NPY_MAX_HEADER ((size_t)1 << 20)
#define NPY_MAX_FILE ((size_t)1 << 34)
/* Far above any real dimension, and small enough that a product check in
 * size_t is the only overflow left to worry about. */
#define NPY_MAX_DIM ((int64_t)1 << 62)

static const uint8_t npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* A cursor over the header text. */
typedef struct {
	const char *s;
	size_t n, at;
} Cursor;

static void skip_ws(Cursor *c)
{
	while (c->at < c->n && (c->s[c->at] == ' ' || c->s[c->at] == '\t' || c->s[c->at] == '\n' ||
	                        c->s[c->at] == '\r'))
		c->at++;
}

static int peek(Cursor *c)
{
	skip_ws(c);
	return c->at < c->n ? (unsigned char)c->s[c->at] : -1;
}

static int accept_char(Cursor *c, char ch)
{
	if (peek(c) == ch) {
		c->at++;
		return 1;
	}
	return 0;
}

/* A quoted Python string without escapes, copied into out (cut to out_len - 1). */
static int parse_str(Cursor *c, char *out, size_t out_len)
{
	int q = peek(c);
	if (q != '\'' && q != '"')
		return 0;
	size_t start = ++c->at, k = 0;
	while (c->at < c->n && c->s[c->at] != q) {
		if (c->s[c->at] == '\\')
			return 0;
		c->at++;
	}
	if (c->at >= c->n)
		return 0;
	for (size_t i = start; i < c->at && k + 1 < out_len; i++)
		out[k++] = c->s[i];
	out[k] = 0;
	c->at++;
	return 1;
}

static int parse_word(Cursor *c, const char *word)
{
	size_t len = strlen(word);
	skip_ws(c);
	if (c->n - c->at >= len && memcmp(c->s + c->at, word, len) == 0) {
		c->at += len;
		return 1;
	}
	return 0;
}

/* A non-negative decimal integer (Python 2 files may add an L). */
static int parse_dim(Cursor *c, int64_t *v)
{
	skip_ws(c);
	size_t start = c->at;
	int64_t x = 0;
	while (c->at < c->n && c->s[c->at] >= '0' && c->s[c->at] <= '9') {
		if (x > NPY_MAX_DIM / 10)
			return 0;
		x = x * 10 + (c->s[c->at] - '0');
		if (x > NPY_MAX_DIM)
			return 0;
		c->at++;
	}
	if (c->at == start)
		return 0;
	if (c->at < c->n && c->s[c->at] == 'L')
		c->at++;
	*v = x;
	return 1;
}

/* (), (3,), (2, 5) ... */
static int parse_shape(Cursor *c, int64_t shape[NPY_MAX_RANK], int *ndim, const char *fname,
                       char err[STRIDE_ERR_LEN])
{
	if (!accept_char(c, '(')) {
		stride_set_err(err, "%s: .npy shape is not a tuple", fname);
		return -1;
	}
	int n = 0;
	while (!accept_char(c, ')')) {
		int64_t v;
		if (!parse_dim(c, &v)) {
			stride_set_err(err, "%s: .npy shape must be a tuple of non-negative integers",
			               fname);
			return -1;
		}
		if (n == NPY_MAX_RANK) {
			stride_set_err(err, "%s: .npy array has more than %d dimensions", fname,
			               NPY_MAX_RANK);
			return -1;
		}
		shape[n++] = v;
		if (!accept_char(c, ',')) {
			if (!accept_char(c, ')')) {
				stride_set_err(err, "%s: .npy shape tuple is malformed", fname);
				return -1;
			}
			break;
		}
	}
	*ndim = n;
	return 0;
}

typedef struct {
	char descr[16];
	int fortran;
	int ndim;
	int64_t shape[NPY_MAX_RANK];
} NpyHeader;

static int parse_header(const char *s, size_t n, NpyHeader *hd, const char *fname,
                        char err[STRIDE_ERR_LEN])
{
	Cursor c = {s, n, 0};
	int have_descr = 0, have_fortran = 0, have_shape = 0;
	if (!accept_char(&c, '{')) {
		stride_set_err(err, "%s: .npy header is not a dict", fname);
		return -1;
	}
	while (!accept_char(&c, '}')) {
		char key[32];
		if (!parse_str(&c, key, sizeof key) || !accept_char(&c, ':')) {
			stride_set_err(err, "%s: .npy header dict is malformed", fname);
			return -1;
		}
		if (strcmp(key, "descr") == 0 && !have_descr) {
			have_descr = 1;
			if (peek(&c) == '[') {
				stride_set_err(err, "%s: structured .npy arrays are not supported (need "
				               "float32 or float64)", fname);
				return -1;
			}
			if (!parse_str(&c, hd->descr, sizeof hd->descr)) {
				stride_set_err(err, "%s: .npy descr is not a string", fname);
				return -1;
			}
		} else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
			have_fortran = 1;
			if (parse_word(&c, "True")) {
				hd->fortran = 1;
			} else if (parse_word(&c, "False")) {
				hd->fortran = 0;
			} else {
				stride_set_err(err, "%s: .npy fortran_order is not True or False", fname);
				return -1;
			}
		} else if (strcmp(key, "shape") == 0 && !have_shape) {
			have_shape = 1;
			if (parse_shape(&c, hd->shape, &hd->ndim, fname, err) < 0)
				return -1;
		} else {
			stride_set_err(err, "%s: .npy header has an unexpected or repeated key '%s'",
			               fname, key);
			return -1;
		}
		if (!accept_char(&c, ',')) {
			if (!accept_char(&c, '}')) {
				stride_set_err(err, "%s: .npy header dict is malformed", fname);
				return -1;
			}
			break;
		}
	}
	if (peek(&c) != -1) {
		stride_set_err(err, "%s: .npy header has text after the dict", fname);
		return -1;
	}
	if (!have_descr || !have_fortran || !have_shape) {
		stride_set_err(err, "%s: .npy header lacks '%s'", fname,
		               !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
		return -1;
	}
	return 0;
}

static uint64_t load_uint(const uint8_t *p, int bytes, int big_endian)
{
	uint64_t u = 0;
	for (int i = 0; i < bytes; i++)
		u = u << 8 | p[big_endian ? i : bytes - 1 - i];
	return u;
}

/* float64 to float32 without the undefined behaviour of an out-of-range cast. */
static float narrow(double d)
{
	if (d > FLT_MAX)
		return INFINITY;
	if (d < -FLT_MAX)
		return -INFINITY;
	return (float)d;
}

/* Magic, version and header length: *start is where the header text begins
 * and *hlen its length, which the buffer holds. */
static int read_preamble(const uint8_t *buf, size_t len, const char *fname, size_t *start,
                         uint64_t *hlen, char err[STRIDE_ERR_LEN])
{
	if (!buf || len < 10 || memcmp(buf, npy_magic, 6) != 0) {
		stride_set_err(err, "%s: not a .npy file (no \\x93NUMPY magic)", fname);
		return -1;
	}
	int major = buf[6], minor = buf[7];
	if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
		stride_set_err(err, "%s: unsupported .npy version %d.%d (1.0, 2.0 and 3.0 are read)",
		               fname, major, minor);
		return -1;
	}
	size_t lensize = major == 1 ? 2 : 4;
	if (len < 8 + lensize) {
		stride_set_err(err, "%s: .npy file truncated in its header", fname);
		return -1;
	}
	*hlen = load_uint(buf + 8, (int)lensize, 0);
	*start = 8 + lensize;
	if (*hlen > NPY_MAX_HEADER) {
		stride_set_err(err, "%s: .npy header of %" PRIu64 " bytes is too large", fname,
		               *hlen);
		return -1;
	}
	if (*hlen > len - *start) {
		stride_set_err(err, "%s: .npy file truncated in its header (%" PRIu64 " bytes "
		               "announced, %zu present)", fname, *hlen, len - *start);
		return -1;
	}
	return 0;
}

/* float32 or float64, either byte order: 4 or 8 bytes an element. */
static int descr_itemsize(const char *descr, const char *fname, int *itemsize,
                          char err[STRIDE_ERR_LEN])
{
	if (strcmp(descr, "<f4") == 0 || strcmp(descr, ">f4") == 0) {
		*itemsize = 4;
	} else if (strcmp(descr, "<f8") == 0 || strcmp(descr, ">f8") == 0) {
		*itemsize = 8;
	} else {
		stride_set_err(err, "%s: unsupported .npy dtype '%s' (need float32 or float64)",
		               fname, descr);
		return -1;
	}
	return 0;
}

/* The shape's element count, when the `have` data bytes are exactly what it needs. */
static int check_data_size(const NpyHeader *hd, int itemsize, size_t have, const char *fname,
                           size_t *numel, char err[STRIDE_ERR_LEN])
{
	size_t bytes;
	*numel = 1;
	for (int i = 0; i < hd->ndim; i++) {
		if (!stride_mul_size(*numel, (size_t)hd->shape[i], numel)) {
			stride_set_err(err, "%s: .npy shape is too large", fname);
			return -1;
		}
	}
	if (!stride_mul_size(*numel, (size_t)itemsize, &bytes)) {
		stride_set_err(err, "%s: .npy shape is too large", fname);
		return -1;
	}
	if (have != bytes) {
		stride_set_err(err, "%s: .npy data is %zu bytes but the shape needs %zu (%s)", fname,
		               have, bytes, have < bytes ? "truncated" : "trailing bytes");
		return -1;
	}
	return 0;
}

/* The numel elements at p as float32 in C order. A Fortran-order array (NumPy
 * writes one for a transposed array) stores its first index fastest: element i
 * of the file goes to the C-order place of the multi-index that i counts
 * through. */
static void decode_data(const uint8_t *p, const NpyHeader *hd, int itemsize, size_t numel,
                        float *out)
{
	const int big = hd->descr[0] == '>';
	size_t c_stride[8], index[8] = { 0 }, at = 0;
	for (int k = hd->ndim - 1; k >= 0; k--)
		c_stride[k] = k == hd->ndim - 1 ? 1 : c_stride[k + 1] * (size_t)hd->shape[k + 1];
	for (size_t i = 0; i < numel; i++) {
		const size_t dst = hd->fortran ? at : i;
		if (itemsize == 4) {
			uint32_t u = (uint32_t)load_uint(p + 4 * i, 4, big);
			memcpy(&out[dst], &u, 4);
		} else {
			uint64_t u = load_uint(p + 8 * i, 8, big);
			double d;
			memcpy(&d, &u, 8);
			out[dst] = narrow(d);
		}
		for (int k = 0; hd->fortran && k < hd->ndim; k++) {
			at += c_stride[k];
			if (++index[k] < (size_t)hd->shape[k])
				break;
			at -= index[k] * c_stride[k];
			index[k] = 0;
		}
	}
}

int stride_npy_read_memory(const uint8_t *buf, size_t len, const char *name, float **data,
                           int *ndim, int64_t shape[8], char err[STRIDE_ERR_LEN])
{
	const char *fname = stride_file_label(name);
	*data = NULL;
	*ndim = 0;
	size_t start;
	uint64_t hlen;
	if (read_preamble(buf, len, fname, &start, &hlen, err) < 0)
		return -1;
	NpyHeader hd;
	memset(&hd, 0, sizeof hd);
	if (parse_header((const char *)buf + start, (size_t)hlen, &hd, fname, err) < 0)
		return -1;
	int itemsize;
	size_t numel;
	if (descr_itemsize(hd.descr, fname, &itemsize, err) < 0 ||
	    check_data_size(&hd, itemsize, len - start - (size_t)hlen, fname, &numel, err) < 0)
		return -1;
	float *out = malloc(numel > 0 ? numel * sizeof(float) : sizeof(float));
	if (!out) {
		stride_set_err(err, "%s: out of memory for %zu floats", fname, numel);
		return -1;
	}
	decode_data(buf + start + hlen, &hd, itemsize, numel, out);
	*data = out;
	*ndim = hd.ndim;
	for (int i = 0; i < hd.ndim; i++)
		shape[i] = hd.shape[i];
	return 0;
}

int stride_npy_read(const char *path, float **data, int *ndim, int64_t shape[8],
                    char err[STRIDE_ERR_LEN])
{
	uint8_t *buf;
	size_t len;
	*data = NULL;
	*ndim = 0;
	if (stride_read_file(path, NPY_MAX_FILE, &buf, &len, err) < 0)
		return -1;
	int r = stride_npy_read_memory(buf, len, path, data, ndim, shape, err);
	free(buf);
	return r;
}

int stride_npy_write(const char *path, const float *data, int ndim, const int64_t *shape,
                     char err[STRIDE_ERR_LEN])
{
	if (!path) {
		stride_set_err(err, "stride_npy_write: no path");
		return -1;
	}
	if (ndim < 0 || ndim > NPY_MAX_RANK || (ndim > 0 && !shape)) {
		stride_set_err(err, "%s: cannot write a .npy of rank %d (0 to %d)", path, ndim,
		               NPY_MAX_RANK);
		return -1;
	}
	size_t numel = 1;
	char dict[512];
	int at = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0 || shape[i] > NPY_MAX_DIM ||
		    !stride_mul_size(numel, (size_t)shape[i], &numel)) {
			stride_set_err(err, "%s: invalid .npy shape", path);
			return -1;
		}
		at += snprintf(dict + at, sizeof dict - (size_t)at, "%s%" PRId64, i ? ", " : "",
		               shape[i]);
	}
	at += snprintf(dict + at, sizeof dict - (size_t)at, "%s), }", ndim == 1 ? "," : "");
	size_t bytes;
	if (!stride_mul_size(numel, 4, &bytes)) {
		stride_set_err(err, "%s: invalid .npy shape", path);
		return -1;
	}
	if (numel > 0 && !data) {
		stride_set_err(err, "%s: no data", path);
		return -1;
	}
	/* Magic, version and length take 10 bytes; the dict, spaces and '\n' fill
	 * the rest up to a multiple of 64, so the data is aligned as numpy does. */
	size_t total = ((10 + (size_t)at + 1) + 63) & ~(size_t)63;
	size_t hlen = total - 10;
	uint8_t head[600];
	memcpy(head, npy_magic, 6);
	head[6] = 1;
	head[7] = 0;
	head[8] = (uint8_t)hlen;
	head[9] = (uint8_t)(hlen >> 8);
	memcpy(head + 10, dict, (size_t)at);
	memset(head + 10 + at, ' ', hlen - (size_t)at - 1);
	head[total - 1] = '\n';

	StrideAtomicFile af;
	if (stride_atomic_open(&af, path, err) < 0)
		return -1;
	stride_atomic_write(&af, head, total);
	uint8_t chunk[4096];
	for (size_t k = 0; k < numel; k += sizeof chunk / 4) {
		size_t m = numel - k < sizeof chunk / 4 ? numel - k : sizeof chunk / 4;
		for (size_t j = 0; j < m; j++)
			stride_put_le_f32(chunk + 4 * j, data[k + j]);
		stride_atomic_write(&af, chunk, 4 * m);
	}
	return stride_atomic_commit(&af, err);
}
