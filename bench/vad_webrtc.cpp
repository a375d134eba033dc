/* vad_webrtc [--out FILE.csv] WAV...: WebRTC's voice activity detector (the
 * voice_detection of webrtc::AudioProcessing, Debian's
 * libwebrtc-audio-processing 0.3) at each of its four likelihood settings, one
 * row per 10 ms frame, for the gate benchmark (bench/gate_real.py). C++ only
 * because that library is.
 *
 * Input: mono 16 kHz audio in frames of 160 float samples through the float
 * ProcessStream; one AudioProcessing per likelihood and file, with only voice
 * detection enabled (10 ms VAD frames, the default) and the experimental AGC
 * off, so nothing else touches the signal.
 *
 * Output: `file,frame,webrtc_very_low,webrtc_low,webrtc_moderate,webrtc_high`,
 * each 0 or 1 (stream_has_voice after the frame). Frame f covers samples
 * [160 f, 160 f + 160); the detector decides on the frame it is given (no
 * lookahead). A trailing part frame is not scored. */
#include <webrtc/modules/audio_processing/include/audio_processing.h>

#include "vad_input.h"

namespace {

const webrtc::VoiceDetection::Likelihood kLikelihoods[] = {
	webrtc::VoiceDetection::kVeryLowLikelihood,
	webrtc::VoiceDetection::kLowLikelihood,
	webrtc::VoiceDetection::kModerateLikelihood,
	webrtc::VoiceDetection::kHighLikelihood,
};
const int kN = 4;

webrtc::AudioProcessing *make_vad(webrtc::VoiceDetection::Likelihood likelihood)
{
	webrtc::Config config;
	config.Set<webrtc::ExperimentalAgc>(new webrtc::ExperimentalAgc(false));
	webrtc::AudioProcessing *apm = webrtc::AudioProcessing::Create(config);
	if (!apm || apm->voice_detection()->Enable(true) != webrtc::AudioProcessing::kNoError ||
	    apm->voice_detection()->set_likelihood(likelihood) != webrtc::AudioProcessing::kNoError) {
		delete apm;
		return NULL;
	}
	return apm;
}

/* Writes the rows for one file; false after printing an error. */
bool run_file(const char *path, const float *x, long n, FILE *out)
{
	webrtc::AudioProcessing *apm[kN] = {};
	bool ok = true;
	for (int k = 0; k < kN && ok; k++) {
		apm[k] = make_vad(kLikelihoods[k]);
		if (!apm[k]) {
			fprintf(stderr, "%s: cannot set up WebRTC's voice detection\n", path);
			ok = false;
		}
	}
	const webrtc::StreamConfig config(VAD_RATE, 1);
	float frame[VAD_FRAME];
	for (long f = 0; ok && (f + 1) * VAD_FRAME <= n; f++) {
		int voice[kN];
		for (int k = 0; k < kN && ok; k++) {
			/* ProcessStream may change the audio in place: give each its own copy */
			for (int i = 0; i < VAD_FRAME; i++)
				frame[i] = x[f * VAD_FRAME + i];
			float *ch = frame;
			const int rc = apm[k]->ProcessStream(&ch, config, config, &ch);
			if (rc != webrtc::AudioProcessing::kNoError) {
				fprintf(stderr, "%s: WebRTC's ProcessStream failed (%d) at frame %ld\n", path, rc,
				        f);
				ok = false;
			}
			voice[k] = apm[k]->voice_detection()->stream_has_voice() ? 1 : 0;
		}
		if (ok)
			fprintf(out, "%s,%ld,%d,%d,%d,%d\n", path, f, voice[0], voice[1], voice[2], voice[3]);
	}
	for (int k = 0; k < kN; k++)
		delete apm[k];
	return ok;
}

} // namespace

int main(int argc, char **argv)
{
	return vad_main(argc, argv, "file,frame,webrtc_very_low,webrtc_low,webrtc_moderate,webrtc_high",
	                run_file);
}
