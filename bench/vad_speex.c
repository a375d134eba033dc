/* vad_speex [--out FILE.csv] WAV...: speexdsp's preprocessor speech
 * probability, one row per 10 ms frame, for the gate benchmark
 * (bench/gate_real.py). Input: mono 16 kHz audio, fed as 16-bit samples in
 * frames of 160, a fresh preprocessor per file with its VAD on and everything
 * else at speexdsp's defaults.
 *
 * Output: `file,frame,speex_prob`, speex_prob in 0..1: SPEEX_PREPROCESS_GET_PROB
 * (a whole percentage) / 100 after the frame is processed. Frame f covers
 * samples [160 f, 160 f + 160): speexdsp decides on the frame it is given, with
 * no lookahead, so no shift is needed. A trailing part frame is not scored. */
#include <speex/speex_preprocess.h>

#include "vad_input.h"

static bool run_file(const char *path, const float *x, long n, FILE *out)
{
	SpeexPreprocessState *st = speex_preprocess_state_init(VAD_FRAME, VAD_RATE);
	if (!st) {
		fprintf(stderr, "%s: cannot set up speexdsp's preprocessor\n", path);
		return false;
	}
	spx_int32_t on = 1;
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_VAD, &on);
	spx_int16_t frame[VAD_FRAME];
	for (long f = 0; (f + 1) * VAD_FRAME <= n; f++) {
		vad_to_s16(x + f * VAD_FRAME, frame, VAD_FRAME);
		speex_preprocess_run(st, frame);
		spx_int32_t prob = 0;
		speex_preprocess_ctl(st, SPEEX_PREPROCESS_GET_PROB, &prob);
		fprintf(out, "%s,%ld,%.2f\n", path, f, prob / 100.0);
	}
	speex_preprocess_state_destroy(st);
	return true;
}

int main(int argc, char **argv)
{
	return vad_main(argc, argv, "file,frame,speex_prob", run_file);
}
