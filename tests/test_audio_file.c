/* Audio file reading: formats, resampling, mono mixdown, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_file.h"
#include "test_support.h"

#define PI 3.14159265358979323846

/* Channel c of frame i: a sine of frequency freq[c] and amplitude amp[c]. */
static void write_sines(const char *path, int format, int rate, int channels, long frames,
                        const double *freq, const double *amp)
{
	SF_INFO info;
	memset(&info, 0, sizeof info);
	info.samplerate = rate;
	info.channels = channels;
	info.format = format;
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	float *buf = malloc((size_t)frames * (size_t)channels * sizeof *buf);
	assert_non_null(buf);
	for (long i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			buf[i * channels + c] = (float)(amp[c] * sin(2.0 * PI * freq[c] * (double)i / rate));
	assert_int_equal(sf_writef_float(sf, buf, frames), frames);
	free(buf);
	assert_int_equal(sf_close(sf), 0);
}

/* Worst deviation from amp * sin(2 pi f t) over x[edge .. n - edge): a wrong
 * rate, frequency, amplitude or time offset all show up here. */
static double sine_error(const float *x, size_t n, int rate, double f, double amp, size_t edge)
{
	double worst = 0.0;
	for (size_t i = edge; i + edge < n; i++) {
		double d = fabs(x[i] - amp * sin(2.0 * PI * f * (double)i / rate));
		if (d > worst)
			worst = d;
	}
	return worst;
}

static double rms(const float *x, size_t from, size_t to)
{
	double s = 0.0;
	for (size_t i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return sqrt(s / (double)(to - from));
}

static void assert_length_near(size_t got, double expected)
{
	if (fabs((double)got - expected) > 2.0)
		fail_msg("length %zu, expected %.1f (+-2)", got, expected);
}

static void test_mono_wav_44100_to_16000(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("mono44.wav");
	double f[1] = { 440.0 }, a[1] = { 0.5 };
	write_sines(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, 44100, f, a);

	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 16000, &au, err), 0);
	assert_int_equal(au.channels, 1);
	assert_int_equal(au.rate, 16000);
	assert_length_near(au.frames, 16000.0);
	double e = sine_error(au.data, au.frames, 16000, 440.0, 0.5, 200);
	if (e > 1e-4)
		fail_msg("resampled sine deviates by %g", e);
	double r = rms(au.data, 200, au.frames - 200);
	assert_true(fabs(r - 0.5 * sqrt(0.5)) < 1e-4);
	cli_audio_free(&au);
	assert_null(au.data);
}

static void test_stereo_flac_48000_and_mixdown(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("stereo48.flac");
	double f[2] = { 440.0, 1000.0 }, a[2] = { 0.5, 0.25 };
	write_sines(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2, 48000, f, a);

	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 16000, &au, err), 0);
	assert_int_equal(au.channels, 2);
	assert_int_equal(au.rate, 16000);
	assert_length_near(au.frames, 16000.0);
	/* Planar: left then right, each its own sine. */
	const float *left = au.data, *right = au.data + au.frames;
	assert_true(sine_error(left, au.frames, 16000, 440.0, 0.5, 200) < 1e-4);
	assert_true(sine_error(right, au.frames, 16000, 1000.0, 0.25, 200) < 1e-4);

	size_t n = au.frames;
	float *mean = malloc(n * sizeof *mean);
	assert_non_null(mean);
	for (size_t i = 0; i < n; i++)
		mean[i] = 0.5f * (left[i] + right[i]);
	cli_audio_mix_mono(&au);
	assert_int_equal(au.channels, 1);
	assert_int_equal(au.frames, n);
	for (size_t i = 0; i < n; i++)
		assert_float_equal(au.data[i], mean[i], 1e-6);

	/* Mixing before resampling gives the same signal. */
	StrideAudio mono;
	assert_int_equal(cli_audio_read_mono(path, 16000, &mono, err), 0);
	assert_int_equal(mono.channels, 1);
	assert_int_equal(mono.rate, 16000);
	assert_true(mono.frames + 1 >= n && mono.frames <= n + 1);
	for (size_t i = 0; i < n && i < mono.frames; i++)
		assert_float_equal(mono.data[i], mean[i], 1e-5);
	cli_audio_free(&mono);
	free(mean);
	cli_audio_free(&au);
}

static void test_stereo_wav_44100_keeps_rate_when_asked(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("stereo44.wav");
	double f[2] = { 300.0, 700.0 }, a[2] = { 0.8, 0.1 };
	write_sines(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 22050, f, a);

	/* target 0: the file's own rate, samples as written (16-bit quantisation). */
	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 0, &au, err), 0);
	assert_int_equal(au.rate, 44100);
	assert_int_equal(au.channels, 2);
	assert_int_equal(au.frames, 22050);
	assert_true(sine_error(au.data, au.frames, 44100, 300.0, 0.8, 0) < 1e-4);
	assert_true(sine_error(au.data + au.frames, au.frames, 44100, 700.0, 0.1, 0) < 1e-4);
	cli_audio_free(&au);

	/* Mono at the file's rate: the mean of the 16-bit samples. */
	StrideAudio mono;
	assert_int_equal(cli_audio_read_mono(path, 0, &mono, err), 0);
	assert_int_equal(mono.channels, 1);
	assert_int_equal(mono.frames, 22050);
	for (size_t i = 0; i < mono.frames; i++) {
		double want = 0.5 * (0.8 * sin(2.0 * PI * 300.0 * (double)i / 44100) +
		                     0.1 * sin(2.0 * PI * 700.0 * (double)i / 44100));
		assert_float_equal(mono.data[i], want, 1e-4);
	}
	cli_audio_free(&mono);

	assert_int_equal(cli_audio_read(path, 16000, &au, err), 0);
	assert_length_near(au.frames, 22050.0 * 16000.0 / 44100.0);
	assert_true(sine_error(au.data, au.frames, 16000, 300.0, 0.8, 200) < 1e-4);
	assert_true(sine_error(au.data + au.frames, au.frames, 16000, 700.0, 0.1, 200) < 1e-4);
	cli_audio_free(&au);
}

/* At the target rate already: the samples come back untouched. */
static void test_same_rate_is_not_resampled(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("mono16.wav");
	double f[1] = { 1234.5 }, a[1] = { 0.9 };
	write_sines(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, 20001, f, a);

	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 16000, &au, err), 0);
	assert_int_equal(au.frames, 20001);
	for (size_t i = 0; i < au.frames; i++)
		assert_true(au.data[i] == (float)(0.9 * sin(2.0 * PI * 1234.5 * (double)i / 16000)));
	cli_audio_free(&au);
}

/* Many read chunks: the resampler's state must carry across them seamlessly. */
static void test_long_file_is_continuous(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("long44.wav");
	long frames = ts_under_valgrind() ? 44100 : 5 * 44100;
	double f[1] = { 523.25 }, a[1] = { 0.7 };
	write_sines(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, frames, f, a);

	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 16000, &au, err), 0);
	assert_length_near(au.frames, (double)frames * 16000.0 / 44100.0);
	double e = sine_error(au.data, au.frames, 16000, 523.25, 0.7, 200);
	if (e > 1e-4)
		fail_msg("resampled sine deviates by %g", e);
	cli_audio_free(&au);
}

static void test_missing_file_names_it(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("no-such-file.wav");
	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 16000, &au, err), -1);
	assert_null(au.data);
	assert_non_null(strstr(err, path));
	cli_audio_free(&au);
	err[0] = '\0';
	assert_int_equal(cli_audio_read_mono(path, 16000, &au, err), -1);
	assert_non_null(strstr(err, path));
}

static void test_non_audio_file_names_it(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	const char *path = ts_tmp_path("text.wav");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not audio, just a few words of text\n", f);
	fclose(f);
	StrideAudio au;
	assert_int_equal(cli_audio_read(path, 16000, &au, err), -1);
	assert_null(au.data);
	assert_non_null(strstr(err, path));
	/* libsndfile's reason follows the name. */
	assert_true(strlen(err) > strlen(path) + 4);
}

static void test_mix_mono_of_mono_is_identity(void **state)
{
	(void)state;
	float *d = malloc(3 * sizeof *d);
	assert_non_null(d);
	d[0] = 0.25f;
	d[1] = -1.0f;
	d[2] = 0.5f;
	StrideAudio au = { d, 1, 3, 16000 };
	cli_audio_mix_mono(&au);
	assert_int_equal(au.channels, 1);
	assert_true(au.data[0] == 0.25f && au.data[1] == -1.0f && au.data[2] == 0.5f);
	cli_audio_free(&au);
}

static void test_mix_mono_three_channels(void **state)
{
	(void)state;
	/* Planar 3 x 2: channels (1, 2), (4, -8), (7, 0). */
	float *d = malloc(6 * sizeof *d);
	assert_non_null(d);
	const float v[6] = { 1, 2, 4, -8, 7, 0 };
	memcpy(d, v, sizeof v);
	StrideAudio au = { d, 3, 2, 16000 };
	cli_audio_mix_mono(&au);
	assert_int_equal(au.channels, 1);
	assert_int_equal(au.frames, 2);
	assert_float_equal(au.data[0], 4.0f, 1e-6);
	assert_float_equal(au.data[1], -2.0f, 1e-6);
	cli_audio_free(&au);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mono_wav_44100_to_16000),
		cmocka_unit_test(test_stereo_flac_48000_and_mixdown),
		cmocka_unit_test(test_stereo_wav_44100_keeps_rate_when_asked),
		cmocka_unit_test(test_same_rate_is_not_resampled),
		cmocka_unit_test(test_long_file_is_continuous),
		cmocka_unit_test(test_missing_file_names_it),
		cmocka_unit_test(test_non_audio_file_names_it),
		cmocka_unit_test(test_mix_mono_of_mono_is_identity),
		cmocka_unit_test(test_mix_mono_three_channels),
	};
	return cmocka_run_group_tests(tests, ts_tmpdir_setup, ts_tmpdir_teardown);
}
