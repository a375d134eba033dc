/* What the baseline VAD helpers (vad_webrtc, vad_speex) share: reading the
 * test audio and writing one CSV row per 10 ms frame. C, callable from C++. */
#ifndef STRIDE_VAD_INPUT_H
#define STRIDE_VAD_INPUT_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The rate both helpers run at and the frame they decide on (10 ms). */
#define VAD_RATE 16000
#define VAD_FRAME 160

/* Reads a mono VAD_RATE Hz file (any format libsndfile reads); returns the
 * samples (free() them) and their count in *frames, or NULL after printing
 * an error that names the file and what is wrong. */
float *vad_read(const char *path, long *frames);

/* Scales [-1, 1] floats to 16-bit samples, rounded and clipped, as a 16-bit
 * capture would give them. */
void vad_to_s16(const float *x, short *out, int n);

/* Parses the helpers' command line: `[--out FILE.csv] WAV...`. Returns the
 * output stream (stdout without --out) and sets *first to the first WAV's
 * index, or returns NULL after printing the usage or the error. */
FILE *vad_parse_args(int argc, char **argv, const char *usage, int *first);

#ifdef __cplusplus
}
#endif

#endif /* STRIDE_VAD_INPUT_H */
