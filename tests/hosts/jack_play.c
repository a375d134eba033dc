/* jack_play: plays a sound file into JACK input ports once and records other
 * ports while it plays, then exits. The host tests use it to push test audio
 * through a plugin running in jalv and to keep what came out.
 *
 *   jack_play -n NAME [-p PORT]... [-r PORT]... [-o OUT.wav] [-t TAIL] [-T TIMEOUT] IN.wav
 *
 * -p: where each channel of IN goes (a mono file goes to every -p port);
 * -r: ports to record into OUT.wav (one channel each), from the first played frame
 *     to TAIL seconds after the last;
 * prints "start T" and "end T" on stdout, T in seconds of CLOCK_MONOTONIC, so a
 * caller can place what it reads from the host on the file's time line, then
 * "xruns N": the xruns JACK reported meanwhile (a cycle some client did not
 * finish in time; the periods around one may hold stale audio).
 *
 * The file is read whole before the client starts: the process callbacks only
 * copy between preallocated buffers. Recording runs in a second JACK client so
 * the graph is player -> plugin -> recorder, without a feedback cycle (which JACK
 * would break with a one-period delay); the recorder dates each buffer by the
 * player's frame count of the same cycle.
 */
#include <errno.h>
#include <jack/jack.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PORTS 8

typedef struct {
	jack_client_t *client;       /* plays */
	jack_client_t *rclient;      /* records */
	jack_port_t *out[MAX_PORTS]; /* ours, feeding the targets */
	jack_port_t *in[MAX_PORTS];  /* ours, fed by the recorded ports */
	int n_out, n_in;
	float *play;                 /* interleaved, play_ch channels */
	int play_ch;
	long play_frames;
	float *rec;                  /* interleaved, n_in channels */
	long rec_frames;             /* capacity */
	atomic_long pos;             /* frames played since the start */
	atomic_long rec_pos;         /* frames recorded since the start */
	atomic_int started;          /* set by the player once it has played its first period */
	atomic_int go;               /* set by main once every connection is made */
	atomic_int shutdown;
	atomic_int xruns;
} Player;

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static int play_process(jack_nframes_t nframes, void *arg)
{
	Player *p = arg;
	float *outs[MAX_PORTS];
	for (int c = 0; c < p->n_out; c++) {
		outs[c] = jack_port_get_buffer(p->out[c], nframes);
		memset(outs[c], 0, nframes * sizeof(float));
	}
	if (!atomic_load(&p->go))
		return 0;
	long pos = atomic_load(&p->pos);
	for (jack_nframes_t i = 0; i < nframes; i++) {
		long f = pos + (long)i;
		if (f >= p->play_frames)
			break;
		for (int c = 0; c < p->n_out; c++) {
			int src = p->play_ch == 1 ? 0 : c % p->play_ch;
			outs[c][i] = p->play[f * p->play_ch + src];
		}
	}
	atomic_store(&p->pos, pos + (long)nframes);
	atomic_store(&p->started, 1);
	return 0;
}

static int rec_process(jack_nframes_t nframes, void *arg)
{
	Player *p = arg;
	/* The recorder is downstream of the player (player -> plugin -> recorder), so
	 * JACK has run the player's callback for this cycle already: its frame count
	 * dates this buffer. (JACK's frame time would not: in asynchronous mode a late
	 * client can read the next cycle's time, shifting the recording by a period.) */
	long end = atomic_load(&p->pos);
	if (!atomic_load(&p->started) || end < (long)nframes)
		return 0;
	long off = end - (long)nframes;
	for (int c = 0; c < p->n_in; c++) {
		const float *in = jack_port_get_buffer(p->in[c], nframes);
		for (jack_nframes_t i = 0; i < nframes; i++) {
			long f = off + (long)i;
			if (f < p->rec_frames)
				p->rec[f * p->n_in + c] = in[i];
		}
	}
	atomic_store(&p->rec_pos, end);
	return 0;
}

static int on_xrun(void *arg)
{
	Player *p = arg;
	if (atomic_load(&p->started))
		atomic_fetch_add(&p->xruns, 1);
	return 0;
}

static void on_shutdown(void *arg)
{
	Player *p = arg;
	atomic_store(&p->shutdown, 1);
}

static void usage(void)
{
	fprintf(stderr, "usage: jack_play -n NAME [-p PORT]... [-r PORT]... [-o OUT.wav] [-t TAIL] "
	                "[-T TIMEOUT] IN.wav\n");
}

static float *read_file(const char *path, int *channels, long *frames, int *rate)
{
	SF_INFO info;
	memset(&info, 0, sizeof info);
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f) {
		fprintf(stderr, "jack_play: %s: %s\n", path, sf_strerror(NULL));
		return NULL;
	}
	float *buf = malloc((size_t)info.frames * (size_t)info.channels * sizeof(float) + sizeof(float));
	if (!buf) {
		sf_close(f);
		fprintf(stderr, "jack_play: %s: out of memory\n", path);
		return NULL;
	}
	sf_count_t got = sf_readf_float(f, buf, info.frames);
	sf_close(f);
	if (got != info.frames) {
		fprintf(stderr, "jack_play: %s: short read (%ld of %ld frames)\n", path, (long)got,
		        (long)info.frames);
		free(buf);
		return NULL;
	}
	*channels = info.channels;
	*frames = (long)info.frames;
	*rate = info.samplerate;
	return buf;
}

static int write_file(const char *path, const float *buf, int channels, long frames, int rate)
{
	SF_INFO info;
	memset(&info, 0, sizeof info);
	info.channels = channels;
	info.samplerate = rate;
	info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (!f) {
		fprintf(stderr, "jack_play: %s: cannot write: %s\n", path, sf_strerror(NULL));
		return -1;
	}
	sf_count_t put = sf_writef_float(f, buf, frames);
	sf_close(f);
	if (put != frames) {
		fprintf(stderr, "jack_play: %s: short write\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *out_path = NULL, *in_path = NULL;
	const char *targets[MAX_PORTS], *sources[MAX_PORTS];
	int n_targets = 0, n_sources = 0;
	double tail = 0.5, timeout = 60.0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] == '-' && a[1] && !a[2] && strchr("nprotT", a[1])) {
			if (!v) {
				usage();
				return 2;
			}
			i++;
			switch (a[1]) {
			case 'n': name = v; break;
			case 'o': out_path = v; break;
			case 't': tail = atof(v); break;
			case 'T': timeout = atof(v); break;
			case 'p':
				if (n_targets == MAX_PORTS) {
					fprintf(stderr, "jack_play: at most %d -p ports\n", MAX_PORTS);
					return 2;
				}
				targets[n_targets++] = v;
				break;
			case 'r':
				if (n_sources == MAX_PORTS) {
					fprintf(stderr, "jack_play: at most %d -r ports\n", MAX_PORTS);
					return 2;
				}
				sources[n_sources++] = v;
				break;
			default: break;
			}
		} else if (!in_path && a[0] != '-') {
			in_path = a;
		} else {
			usage();
			return 2;
		}
	}
	if (!name || !in_path || n_targets == 0 || (n_sources > 0 && !out_path)) {
		usage();
		return 2;
	}

	Player p;
	memset(&p, 0, sizeof p);
	int rate = 0;
	p.play = read_file(in_path, &p.play_ch, &p.play_frames, &rate);
	if (!p.play)
		return 1;
	if (p.play_ch != 1 && p.play_ch != n_targets) {
		fprintf(stderr, "jack_play: %s has %d channels but %d -p ports were given\n", in_path,
		        p.play_ch, n_targets);
		free(p.play);
		return 2;
	}

	int rc = 1;
	char rname[128];
	snprintf(rname, sizeof rname, "%s_rec", name);
	jack_status_t status;
	p.client = jack_client_open(name, JackNoStartServer | JackUseExactName, &status);
	if (p.client && n_sources > 0)
		p.rclient = jack_client_open(rname, JackNoStartServer | JackUseExactName, &status);
	if (!p.client || (n_sources > 0 && !p.rclient)) {
		const char *server = getenv("JACK_DEFAULT_SERVER");
		fprintf(stderr, "jack_play: cannot open JACK client '%s' (status 0x%x); is the server "
		                "running (JACK_DEFAULT_SERVER=%s)?\n",
		        p.client ? rname : name, (unsigned)status, server ? server : "default");
		goto done;
	}
	int srate = (int)jack_get_sample_rate(p.client);
	if (srate != rate) {
		fprintf(stderr, "jack_play: %s is at %d Hz but JACK runs at %d Hz\n", in_path, rate, srate);
		goto done;
	}
	p.n_out = n_targets;
	p.n_in = n_sources;
	p.rec_frames = p.play_frames + (long)(tail * srate) + 1;
	if (n_sources > 0) {
		p.rec = calloc((size_t)p.rec_frames * (size_t)n_sources, sizeof(float));
		if (!p.rec) {
			fprintf(stderr, "jack_play: out of memory\n");
			goto done;
		}
	}
	for (int c = 0; c < n_targets; c++) {
		char pn[32];
		snprintf(pn, sizeof pn, "out_%d", c + 1);
		p.out[c] = jack_port_register(p.client, pn, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
		if (!p.out[c]) {
			fprintf(stderr, "jack_play: cannot register JACK port %s\n", pn);
			goto done;
		}
	}
	for (int c = 0; c < n_sources; c++) {
		char pn[32];
		snprintf(pn, sizeof pn, "in_%d", c + 1);
		p.in[c] = jack_port_register(p.rclient, pn, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
		if (!p.in[c]) {
			fprintf(stderr, "jack_play: cannot register JACK port %s\n", pn);
			goto done;
		}
	}
	jack_set_process_callback(p.client, play_process, &p);
	jack_on_shutdown(p.client, on_shutdown, &p);
	jack_set_xrun_callback(p.client, on_xrun, &p);
	if (p.rclient) {
		jack_set_process_callback(p.rclient, rec_process, &p);
		jack_on_shutdown(p.rclient, on_shutdown, &p);
	}
	if (jack_activate(p.client) || (p.rclient && jack_activate(p.rclient))) {
		fprintf(stderr, "jack_play: cannot activate the JACK clients\n");
		goto done;
	}
	for (int c = 0; c < n_targets; c++) {
		if (jack_connect(p.client, jack_port_name(p.out[c]), targets[c])) {
			fprintf(stderr, "jack_play: cannot connect %s -> %s\n", jack_port_name(p.out[c]),
			        targets[c]);
			goto done;
		}
	}
	for (int c = 0; c < n_sources; c++) {
		if (jack_connect(p.rclient, sources[c], jack_port_name(p.in[c]))) {
			fprintf(stderr, "jack_play: cannot connect %s -> %s\n", sources[c],
			        jack_port_name(p.in[c]));
			goto done;
		}
	}
	atomic_store(&p.go, 1);

	double t0 = now_mono();
	while (!atomic_load(&p.started) && !atomic_load(&p.shutdown) && now_mono() - t0 < timeout)
		sleep_ms(1);
	if (!atomic_load(&p.started)) {
		fprintf(stderr, "jack_play: the JACK server never ran our process callback\n");
		goto done;
	}
	/* The player has just moved pos by one period or so; date the file's start from it. */
	double start = now_mono() - (double)atomic_load(&p.pos) / srate;
	printf("start %.6f\n", start);
	fflush(stdout);
	for (;;) {
		bool played = atomic_load(&p.pos) >= p.play_frames;
		bool recorded = n_sources == 0 || atomic_load(&p.rec_pos) >= p.rec_frames;
		if (played && recorded)
			break;
		if (atomic_load(&p.shutdown)) {
			fprintf(stderr, "jack_play: the JACK server shut down\n");
			goto done;
		}
		if (now_mono() - t0 > timeout) {
			fprintf(stderr, "jack_play: timed out after %.1f s\n", timeout);
			goto done;
		}
		sleep_ms(5);
	}
	printf("end %.6f\n", start + (double)p.play_frames / srate);
	printf("xruns %d\n", atomic_load(&p.xruns));
	fflush(stdout);
	rc = 0;

done:
	if (!atomic_load(&p.shutdown)) {
		/* Closing deactivates first, so the callbacks are done with the buffers. */
		if (p.rclient)
			jack_client_close(p.rclient);
		if (p.client)
			jack_client_close(p.client);
	}
	if (rc == 0 && n_sources > 0)
		rc = write_file(out_path, p.rec, n_sources, p.rec_frames, rate) ? 1 : 0;
	free(p.play);
	free(p.rec);
	return rc;
}
