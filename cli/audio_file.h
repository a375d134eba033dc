/* Reading audio files for the CLI: any format libsndfile reads, optionally
 * resampled (libsamplerate, SRC_SINC_BEST_QUALITY) to the rate a model wants.
 *
 * Samples are float in [-1, 1] (libsndfile's normalisation of integer formats)
 * and PLANAR: channel c occupies data[c * frames .. c * frames + frames - 1], which
 * is the (C, T) layout a network takes as input. */
#ifndef STRIDE_AUDIO_FILE_H
#define STRIDE_AUDIO_FILE_H

#include <stddef.h>

#include "stride.h"

typedef struct {
	float *data;   /* planar, channels * frames floats (malloc'd) */
	int channels;
	size_t frames; /* per channel */
	int rate;      /* Hz, after resampling */
} StrideAudio;

/* Read `path`. target_rate > 0 resamples to that rate (nothing is resampled when
 * the file is already at it); target_rate 0 keeps the file's own rate. Returns 0,
 * or -1 with err naming the file and the reason (libsndfile's for open errors).
 * On failure *audio is left empty (safe to pass to cli_audio_free). */
int cli_audio_read(const char *path, int target_rate, StrideAudio *audio,
                   char err[STRIDE_ERR_LEN]);

/* The same, mixed to mono (the channels' mean) as it is read, before resampling:
 * the signal cli_audio_mix_mono gives after cli_audio_read (to float
 * rounding, and the resampler's last frame may differ by one), without ever
 * holding all channels in memory. */
int cli_audio_read_mono(const char *path, int target_rate, StrideAudio *audio,
                        char err[STRIDE_ERR_LEN]);

/* Replace the channels with their mean, in place (a mono input is unchanged). */
void cli_audio_mix_mono(StrideAudio *audio);

/* Free the samples and reset *audio to empty. */
void cli_audio_free(StrideAudio *audio);

#endif /* STRIDE_AUDIO_FILE_H */
