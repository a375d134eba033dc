/* Audio files -> planar float samples, resampled in fixed-size chunks so that a
 * long file never needs more than its output plus two small buffers. */
#include "audio_file.h"

#include <samplerate.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Frames per read (and per resampler output block). */
#define CHUNK_FRAMES 8192

/* The planar output, grown as samples arrive. */
typedef struct {
	float *data;
	int channels;
	size_t frames;
	size_t cap; /* frames per channel that data has room for */
} Planar;

static int planar_reserve(Planar *p, size_t need)
{
	if (need <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : CHUNK_FRAMES;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	size_t n, bytes;
	if (!stride_mul_size(cap, (size_t)p->channels, &n) || !stride_mul_size(n, sizeof(float), &bytes))
		return -1;
	float *d = realloc(p->data, bytes);
	if (!d)
		return -1;
	/* Each channel moves to its new, larger slot; last first so nothing unmoved is overwritten. */
	for (int c = p->channels - 1; c > 0; c--)
		memmove(d + (size_t)c * cap, d + (size_t)c * p->cap, p->frames * sizeof(float));
	p->data = d;
	p->cap = cap;
	return 0;
}

static int planar_append(Planar *p, const float *interleaved, size_t n)
{
	if (n == 0)
		return 0;
	if (p->frames > SIZE_MAX - n || planar_reserve(p, p->frames + n) != 0)
		return -1;
	int ch = p->channels;
	for (int c = 0; c < ch; c++) {
		float *dst = p->data + (size_t)c * p->cap + p->frames;
		for (size_t i = 0; i < n; i++)
			dst[i] = interleaved[i * (size_t)ch + (size_t)c];
	}
	p->frames += n;
	return 0;
}

/* Pack the channels contiguously (cap -> frames) and hand the buffer over. */
static void planar_finish(Planar *p, StrideAudio *audio, int rate)
{
	for (int c = 1; c < p->channels; c++)
		memmove(p->data + (size_t)c * p->frames, p->data + (size_t)c * p->cap,
		        p->frames * sizeof(float));
	size_t total = p->frames * (size_t)p->channels;
	float *shrunk = realloc(p->data, (total ? total : 1) * sizeof(float));
	audio->data = shrunk ? shrunk : p->data;
	audio->channels = p->channels;
	audio->frames = p->frames;
	audio->rate = rate;
	p->data = NULL;
}

/* Channels' mean over n interleaved frames, in place (frame i's mean lands at
 * in[i], never past the frame it was computed from). */
static void mix_interleaved(float *in, size_t n, int ch)
{
	for (size_t i = 0; i < n; i++) {
		double sum = 0.0;
		for (int c = 0; c < ch; c++)
			sum += in[i * (size_t)ch + (size_t)c];
		in[i] = (float)(sum / ch);
	}
}

/* Opens path for reading and checks its header; *rate: target_rate, or the
 * file's own when 0. NULL with err set when it cannot be read or resampled. */
static SNDFILE *open_audio(const char *path, int target_rate, SF_INFO *info, int *rate, char *err)
{
	memset(info, 0, sizeof *info);
	SNDFILE *sf = sf_open(path, SFM_READ, info);
	if (!sf) {
		stride_set_err(err, "%s: cannot read audio: %s", path, sf_strerror(NULL));
		return NULL;
	}
	if (info->channels < 1 || info->samplerate < 1) {
		stride_set_err(err, "%s: bad header (%d channels at %d Hz)", path, info->channels,
		               info->samplerate);
		sf_close(sf);
		return NULL;
	}
	if (target_rate < 0) {
		stride_set_err(err, "%s: bad target sample rate %d", path, target_rate);
		sf_close(sf);
		return NULL;
	}
	*rate = target_rate > 0 ? target_rate : info->samplerate;
	double ratio = (double)*rate / (double)info->samplerate;
	if (*rate != info->samplerate && !src_is_valid_ratio(ratio)) {
		stride_set_err(err, "%s: cannot resample %d Hz to %d Hz (ratio out of range)", path,
		               info->samplerate, *rate);
		sf_close(sf);
		return NULL;
	}
	return sf;
}

/* One chunk of `got` frames (ch channels) through the resampler into out,
 * drained; at the end of input (eof), flushed until the resampler is empty.
 * Returns 0, -1 with err set, or -2 when out of memory. */
static int resample_chunk(SRC_STATE *src, const float *in, sf_count_t got, bool eof, double ratio,
                          int ch, float *block, Planar *out, const char *path, char *err)
{
	SRC_DATA d;
	memset(&d, 0, sizeof d);
	d.data_in = in;
	d.input_frames = (long)got;
	d.data_out = block;
	d.output_frames = CHUNK_FRAMES;
	d.end_of_input = eof;
	d.src_ratio = ratio;
	for (;;) {
		int e = src_process(src, &d);
		if (e != 0) {
			stride_set_err(err, "%s: resampler: %s", path, src_strerror(e));
			return -1;
		}
		if (planar_append(out, block, (size_t)d.output_frames_gen) != 0)
			return -2;
		d.data_in += (size_t)d.input_frames_used * (size_t)ch;
		d.input_frames -= d.input_frames_used;
		bool progress = d.input_frames_used > 0 || d.output_frames_gen > 0;
		if (!progress || (d.input_frames == 0 && !eof))
			return 0;
	}
}

static int read_audio(const char *path, int target_rate, bool mono, StrideAudio *audio,
                      char err[STRIDE_ERR_LEN])
{
	memset(audio, 0, sizeof *audio);
	SF_INFO info;
	int rate;
	SNDFILE *sf = open_audio(path, target_rate, &info, &rate, err);
	if (!sf)
		return -1;
	double ratio = (double)rate / (double)info.samplerate;
	bool resample = rate != info.samplerate;

	/* file_ch: what libsndfile delivers; ch: what is resampled and kept. */
	int file_ch = info.channels;
	int ch = mono ? 1 : file_ch;
	Planar out = { .data = NULL, .channels = ch, .frames = 0, .cap = 0 };
	float *in = NULL, *block = NULL;
	SRC_STATE *src = NULL;
	int rc = -1;

	/* Size the output from the header so it rarely grows, but do not trust a
	 * header's frame count with a huge allocation before any data is read. */
	if (info.frames > 0) {
		double want = (double)info.frames * ratio + 64.0;
		if (want > (double)(1 << 24))
			want = (double)(1 << 24);
		if (planar_reserve(&out, (size_t)want) != 0)
			goto oom;
	}
	in = malloc((size_t)CHUNK_FRAMES * (size_t)file_ch * sizeof(float));
	if (!in)
		goto oom;
	if (resample) {
		int e = 0;
		src = src_new(SRC_SINC_BEST_QUALITY, ch, &e);
		if (!src) {
			stride_set_err(err, "%s: resampler: %s", path, src_strerror(e));
			goto done;
		}
		block = malloc((size_t)CHUNK_FRAMES * (size_t)ch * sizeof(float));
		if (!block)
			goto oom;
	}

	for (;;) {
		sf_count_t got = sf_readf_float(sf, in, CHUNK_FRAMES);
		if (got < 0 || sf_error(sf) != SF_ERR_NO_ERROR) {
			stride_set_err(err, "%s: read error: %s", path, sf_strerror(sf));
			goto done;
		}
		bool eof = got == 0;
		if (mono && file_ch > 1)
			mix_interleaved(in, (size_t)got, file_ch);
		if (!resample) {
			if (eof)
				break;
			if (planar_append(&out, in, (size_t)got) != 0)
				goto oom;
			continue;
		}
		int r = resample_chunk(src, in, got, eof, ratio, ch, block, &out, path, err);
		if (r == -2)
			goto oom;
		if (r < 0)
			goto done;
		if (eof)
			break;
	}
	planar_finish(&out, audio, rate);
	rc = 0;
	goto done;
oom:
	stride_set_err(err, "%s: out of memory reading audio", path);
done:
	if (src)
		src_delete(src);
	free(block);
	free(in);
	free(out.data);
	sf_close(sf);
	return rc;
}

int cli_audio_read(const char *path, int target_rate, StrideAudio *audio,
                   char err[STRIDE_ERR_LEN])
{
	return read_audio(path, target_rate, false, audio, err);
}

int cli_audio_read_mono(const char *path, int target_rate, StrideAudio *audio,
                        char err[STRIDE_ERR_LEN])
{
	return read_audio(path, target_rate, true, audio, err);
}

void cli_audio_mix_mono(StrideAudio *audio)
{
	int ch = audio->channels;
	if (ch <= 1 || !audio->data)
		return;
	size_t n = audio->frames;
	/* Channel 0 comes first, so each mean can overwrite its own channel-0 sample. */
	for (size_t i = 0; i < n; i++) {
		double sum = 0.0;
		for (int c = 0; c < ch; c++)
			sum += audio->data[(size_t)c * n + i];
		audio->data[i] = (float)(sum / ch);
	}
	float *shrunk = realloc(audio->data, (n ? n : 1) * sizeof(float));
	if (shrunk)
		audio->data = shrunk;
	audio->channels = 1;
}

void cli_audio_free(StrideAudio *audio)
{
	if (!audio)
		return;
	free(audio->data);
	memset(audio, 0, sizeof *audio);
}
