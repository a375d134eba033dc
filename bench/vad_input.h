/* What the baseline VAD helpers (vad_webrtc, vad_speex) share: reading the
 * test audio and writing one CSV row per 10 ms frame. C, callable from C++. */
#ifndef STRIDE_VAD_INPUT_H
#define STRIDE_VAD_INPUT_H

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The rate both helpers run at and the frame they decide on (10 ms). */
#define VAD_RATE 16000
#define VAD_FRAME 160

/* Scales [-1, 1] floats to 16-bit samples, rounded and clipped, as a 16-bit
 * capture would give them. */
void vad_to_s16(const float *x, short *out, int n);

/* One helper's work on one file: writes its rows for the n samples x read
 * from path; returns false after printing an error that names the file. */
typedef bool (*VadFileFn)(const char *path, const float *x, long n, FILE *out);

/* The helpers' main: `PROGRAM [--out FILE.csv] WAV...`; writes the CSV header
 * line, then runs fn on each file in turn. Returns the exit status: 0, 1 when
 * a file failed (later files are not read), 2 on a usage error. */
int vad_main(int argc, char **argv, const char *header, VadFileFn fn);

#ifdef __cplusplus
}
#endif

#endif /* STRIDE_VAD_INPUT_H */
