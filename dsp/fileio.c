/* Whole-file reading and write-to-temporary-then-rename for the file formats. */
#include "fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

const char *stride_file_label(const char *name)
{
	return name ? name : "(memory)";
}

int stride_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                     char err[STRIDE_ERR_LEN])
{
	*data = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		stride_set_err(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	/* Grow as we go rather than trusting a size from stat: pipes and
	 * files that change under us are read correctly either way. */
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap + 1);
	if (!buf) {
		fclose(f);
		stride_set_err(err, "%s: out of memory", path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			size_t ncap = cap * 2;
			if (ncap < cap || ncap == SIZE_MAX) {
				stride_set_err(err, "%s: file too large", path);
				goto fail;
			}
			uint8_t *nb = realloc(buf, ncap + 1);
			if (!nb) {
				stride_set_err(err, "%s: out of memory reading the file", path);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > max_bytes) {
			stride_set_err(err, "%s: file is larger than %zu bytes", path, max_bytes);
			goto fail;
		}
		if (got == 0) {
			if (ferror(f)) {
				stride_set_err(err, "%s: read error: %s", path, strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(buf);
	return -1;
}

int stride_atomic_open(StrideAtomicFile *af, const char *path, char err[STRIDE_ERR_LEN])
{
	memset(af, 0, sizeof *af);
	size_t n = strlen(path);
	af->path = malloc(n + 1);
	af->tmp = malloc(n + 5);
	if (!af->path || !af->tmp) {
		stride_set_err(err, "%s: out of memory", path);
		goto fail;
	}
	memcpy(af->path, path, n + 1);
	memcpy(af->tmp, path, n);
	memcpy(af->tmp + n, ".tmp", 5);
	af->f = fopen(af->tmp, "wb");
	if (!af->f) {
		stride_set_err(err, "%s: cannot create: %s", af->tmp, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	free(af->path);
	free(af->tmp);
	memset(af, 0, sizeof *af);
	return -1;
}

void stride_atomic_write(StrideAtomicFile *af, const void *data, size_t len)
{
	if (af->failed || len == 0)
		return;
	if (fwrite(data, 1, len, af->f) != len)
		af->failed = errno ? errno : EIO;
}

static void atomic_release(StrideAtomicFile *af)
{
	free(af->path);
	free(af->tmp);
	memset(af, 0, sizeof *af);
}

int stride_atomic_commit(StrideAtomicFile *af, char err[STRIDE_ERR_LEN])
{
	int e = af->failed;
	if (!e && fflush(af->f) != 0)
		e = errno ? errno : EIO;
	/* Without the sync a power cut after the rename can leave an empty file
	 * under the final name on some filesystems. */
	if (!e && fsync(fileno(af->f)) != 0)
		e = errno ? errno : EIO;
	if (fclose(af->f) != 0 && !e)
		e = errno ? errno : EIO;
	af->f = NULL;
	if (e) {
		stride_set_err(err, "%s: write error: %s", af->tmp, strerror(e));
		remove(af->tmp);
		atomic_release(af);
		return -1;
	}
	if (rename(af->tmp, af->path) != 0) {
		stride_set_err(err, "%s: cannot rename to %s: %s", af->tmp, af->path, strerror(errno));
		remove(af->tmp);
		atomic_release(af);
		return -1;
	}
	atomic_release(af);
	return 0;
}

float stride_le_f32(const uint8_t *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	float v;
	memcpy(&v, &u, 4);
	return v;
}

void stride_put_le_f32(uint8_t *p, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	p[0] = (uint8_t)u;
	p[1] = (uint8_t)(u >> 8);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 24);
}

uint64_t stride_le_u64(const uint8_t *p)
{
	uint64_t u = 0;
	for (int i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	return u;
}

void stride_put_le_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
