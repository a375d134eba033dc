/* Reading the test audio for the baseline VAD helpers. */
#include "vad_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

/* Reads a mono VAD_RATE Hz file (any format libsndfile reads); returns the
 * samples (free() them) and their count in *frames, or NULL after printing
 * an error that names the file and what is wrong. */
static float *vad_read(const char *path, long *frames)
{
	SF_INFO info;
	memset(&info, 0, sizeof info);
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, sf_strerror(NULL));
		return NULL;
	}
	if (info.channels != 1 || info.samplerate != VAD_RATE) {
		fprintf(stderr, "%s: %d channel(s) at %d Hz; expected mono at %d Hz\n", path,
		        info.channels, info.samplerate, VAD_RATE);
		sf_close(f);
		return NULL;
	}
	float *x = malloc(sizeof(float) * (size_t)(info.frames > 0 ? info.frames : 1));
	if (!x) {
		fprintf(stderr, "%s: out of memory\n", path);
		sf_close(f);
		return NULL;
	}
	const sf_count_t got = sf_readf_float(f, x, info.frames);
	sf_close(f);
	if (got != info.frames) {
		fprintf(stderr, "%s: read %lld of %lld frames\n", path, (long long)got,
		        (long long)info.frames);
		free(x);
		return NULL;
	}
	for (sf_count_t i = 0; i < got; i++)
		if (!isfinite(x[i])) {
			fprintf(stderr, "%s: sample %lld is not a finite number\n", path, (long long)i);
			free(x);
			return NULL;
		}
	*frames = (long)got;
	return x;
}

void vad_to_s16(const float *x, short *out, int n)
{
	for (int i = 0; i < n; i++) {
		const float v = roundf(x[i] * 32768.0f);
		out[i] = (short)(v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v);
	}
}

int vad_main(int argc, char **argv, const char *header, VadFileFn fn)
{
	FILE *out = stdout;
	int i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "--out")) {
		out = fopen(argv[i + 1], "w");
		if (!out) {
			perror(argv[i + 1]);
			return 2;
		}
		i += 2;
	}
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: %s [--out FILE.csv] WAV...\n", argv[0]);
		if (out != stdout)
			fclose(out);
		return 2;
	}
	int status = 0;
	fprintf(out, "%s\n", header);
	for (; i < argc && status == 0; i++) {
		long n;
		float *x = vad_read(argv[i], &n);
		if (!x || !fn(argv[i], x, n, out))
			status = 1;
		free(x);
	}
	if (out != stdout && fclose(out) != 0) {
		perror(argv[0]);
		status = 1;
	}
	return status;
}
