/* bench_plugins: what the Stride plugins cost, measured by a small lilv host.
 *
 *   bench_plugins [BUNDLE [PLUGIN_URI...]]
 *
 * BUNDLE defaults to $STRIDE_LV2_BUNDLE, else the stride.lv2 next to this
 * program's folder (<build>/stride.lv2). For each plugin, each host rate (44.1,
 * 48, 96 kHz) and each block size (32 .. 4096), two fresh instances each run
 * STRIDE_BENCH_SECONDS (default 10) seconds of the same test audio after one
 * second of warm-up, every run() timed in thread CPU time. Printed: CPU per
 * second of audio (% of one core), the CPU of other threads meanwhile (a plugin
 * must start none), and the worst run() against the block's duration, where the
 * worst is taken over blocks of the smaller of the two instances' times, so that
 * the machine's noise (interrupts, a virtual machine's stolen time), which seldom
 * hits the same block twice, does not count as the plugin's. Then lv2bench
 * (lilv-utils) on each plugin, for a second opinion.
 *
 * The host gives urid:map, log, options and bounded block length; no worker, so
 * the plugins run their default model (as lv2bench runs them).
 */
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/urid/urid.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_URIDS 512
#define ATOM_CAPACITY 65536
#define MAX_BLOCK 4096
#define TWO_PI 6.283185307179586

static const char *const default_uris[] = {"urn:stride:gate", "urn:stride:gate_stereo",
                                           "urn:stride:genre"};
static const double rates[] = {44100.0, 48000.0, 96000.0};
static const uint32_t blocks[] = {32, 64, 128, 256, 512, 1024, 2048, 4096};

/* ------------------------------------------------------------------ host features */

typedef struct {
	char *uris[MAX_URIDS];
	uint32_t n;
} UridTable;

static LV2_URID urid_map(LV2_URID_Map_Handle handle, const char *uri)
{
	UridTable *t = handle;
	for (uint32_t i = 0; i < t->n; i++)
		if (!strcmp(t->uris[i], uri))
			return i + 1;
	if (t->n == MAX_URIDS)
		return 0;
	size_t len = strlen(uri) + 1;
	t->uris[t->n] = malloc(len);
	if (!t->uris[t->n])
		return 0;
	memcpy(t->uris[t->n], uri, len);
	return ++t->n;
}

static const char *urid_unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
	UridTable *t = handle;
	return urid >= 1 && urid <= t->n ? t->uris[urid - 1] : NULL;
}

/* The plugin's format strings are its own: tell the compiler this is printf-like. */
__attribute__((format(printf, 3, 0)))
static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, va_list ap)
{
	(void)handle;
	(void)type;
	fprintf(stderr, "  [plugin log] ");
	return vfprintf(stderr, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = log_vprintf(handle, type, fmt, ap);
	va_end(ap);
	return r;
}

/* ------------------------------------------------------------------ timing */

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ test audio */

/* Alternating second-long stretches of quiet noise, a harmonic tone with note
 * onsets, and silence: the gate opens and closes, every path runs. */
static float *make_signal(double rate, size_t frames)
{
	float *x = malloc(frames * sizeof(float));
	if (!x)
		return NULL;
	uint32_t s = 12345u;
	for (size_t i = 0; i < frames; i++) {
		double t = (double)i / rate;
		int part = (int)t % 3;
		s = s * 1664525u + 1013904223u;
		double noise = ((double)(s >> 8) / 16777216.0 - 0.5) * 0.06;
		double v = 0.0;
		if (part == 0) {
			v = noise;
		} else if (part == 1) {
			double tn = fmod(t, 0.25);
			double f0 = 220.0 * pow(2.0, (double)((int)(t * 4.0) % 5) / 12.0);
			for (int h = 1; h <= 4; h++)
				v += exp(-6.0 * tn) * sin(TWO_PI * f0 * h * tn) / h * 0.3;
		}
		x[i] = (float)v;
	}
	return x;
}

/* What timing an empty stretch costs and adds: the mean is subtracted from every
 * measured run(); the worst shows the machine's noise (interrupts, a virtual
 * machine's stolen time), which no plugin can beat. */
static double timer_mean_s;
static double timer_worst_s;

static void calibrate_timer(void)
{
	double sum = 0.0;
	const int n = 200000;
	for (int i = 0; i < n; i++) {
		double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		double c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		sum += c1 - c0;
		if (c1 - c0 > timer_worst_s)
			timer_worst_s = c1 - c0;
	}
	timer_mean_s = sum / n;
}

/* ------------------------------------------------------------------ one pass */

typedef struct {
	LilvWorld *world;
	LilvNode *audio, *control, *atom, *cv, *input, *output, *optional;
	UridTable urids;
	LV2_URID_Map map;
	LV2_URID_Unmap unmap;
	LV2_Log_Log logger;
	LV2_URID atom_sequence, atom_chunk, atom_int, atom_float;
} Host;

typedef struct {
	double *times;       /* each measured run()'s thread CPU time, timer cost removed */
	size_t runs;
	double other_s;      /* CPU of the process's other threads meanwhile */
	double worst_wall_s;
} Pass;

/* A fresh instance, one second of warm-up, then `seconds` of audio with every
 * run() timed. Returns 0 on success. */
static int run_pass(Host *h, const LilvPlugin *plugin, double rate, uint32_t block,
                    double seconds, const float *signal, size_t signal_frames, Pass *out)
{
	memset(out, 0, sizeof *out);
	int32_t min_block = 1, max_block = (int32_t)block, nominal = (int32_t)block;
	float srate = (float)rate;
	LV2_Options_Option options[] = {
		{LV2_OPTIONS_INSTANCE, 0, urid_map(&h->urids, LV2_BUF_SIZE__minBlockLength),
		 sizeof(int32_t), h->atom_int, &min_block},
		{LV2_OPTIONS_INSTANCE, 0, urid_map(&h->urids, LV2_BUF_SIZE__maxBlockLength),
		 sizeof(int32_t), h->atom_int, &max_block},
		{LV2_OPTIONS_INSTANCE, 0, urid_map(&h->urids, LV2_BUF_SIZE__nominalBlockLength),
		 sizeof(int32_t), h->atom_int, &nominal},
		{LV2_OPTIONS_INSTANCE, 0, urid_map(&h->urids, LV2_PARAMETERS__sampleRate),
		 sizeof(float), h->atom_float, &srate},
		{LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL},
	};
	LV2_Feature f_map = {LV2_URID__map, &h->map};
	LV2_Feature f_unmap = {LV2_URID__unmap, &h->unmap};
	LV2_Feature f_log = {LV2_LOG__log, &h->logger};
	LV2_Feature f_opts = {LV2_OPTIONS__options, options};
	LV2_Feature f_bounded = {LV2_BUF_SIZE__boundedBlockLength, NULL};
	const LV2_Feature *features[] = {&f_map, &f_unmap, &f_log, &f_opts, &f_bounded, NULL};

	LilvInstance *inst = lilv_plugin_instantiate(plugin, rate, features);
	if (!inst) {
		fprintf(stderr, "cannot instantiate %s at %.0f Hz\n",
		        lilv_node_as_uri(lilv_plugin_get_uri(plugin)), rate);
		return -1;
	}
	uint32_t n_ports = lilv_plugin_get_num_ports(plugin);
	float *mins = calloc(n_ports, sizeof(float));
	float *maxs = calloc(n_ports, sizeof(float));
	float *defs = calloc(n_ports, sizeof(float));
	float *controls = calloc(n_ports, sizeof(float));
	float **audio = calloc(n_ports, sizeof(float *));
	void **atoms = calloc(n_ports, sizeof(void *));
	size_t max_runs = (size_t)(seconds * rate) / block + 2;
	out->times = malloc(max_runs * sizeof(double));
	bool ok = mins && maxs && defs && controls && audio && atoms && out->times;
	if (ok)
		lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
	uint32_t audio_in[16];
	uint32_t n_audio_in = 0;
	uint32_t atom_out[16];
	uint32_t n_atom_out = 0;
	for (uint32_t i = 0; ok && i < n_ports; i++) {
		const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
		bool in = lilv_port_is_a(plugin, port, h->input);
		if (lilv_port_is_a(plugin, port, h->control)) {
			controls[i] = isnan(defs[i]) ? (isnan(mins[i]) ? 0.0f : mins[i]) : defs[i];
			lilv_instance_connect_port(inst, i, &controls[i]);
		} else if (lilv_port_is_a(plugin, port, h->audio) || lilv_port_is_a(plugin, port, h->cv)) {
			audio[i] = calloc(MAX_BLOCK, sizeof(float));
			ok = audio[i] != NULL;
			if (ok && in && lilv_port_is_a(plugin, port, h->audio) && n_audio_in < 16)
				audio_in[n_audio_in++] = i;
			if (ok)
				lilv_instance_connect_port(inst, i, audio[i]);
		} else if (lilv_port_is_a(plugin, port, h->atom)) {
			atoms[i] = calloc(1, ATOM_CAPACITY);
			ok = atoms[i] != NULL;
			if (!ok)
				break;
			LV2_Atom_Sequence *seq = atoms[i];
			if (in) {
				seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
				seq->atom.type = h->atom_sequence;
			} else if (n_atom_out < 16) {
				atom_out[n_atom_out++] = i;
			}
			lilv_instance_connect_port(inst, i, atoms[i]);
		} else if (lilv_port_has_property(plugin, port, h->optional)) {
			lilv_instance_connect_port(inst, i, NULL);
		} else {
			fprintf(stderr, "port %u of %s has a type this host does not know\n", i,
			        lilv_node_as_uri(lilv_plugin_get_uri(plugin)));
			ok = false;
		}
	}
	if (ok) {
		lilv_instance_activate(inst);
		size_t warm = (size_t)rate;
		size_t total = warm + (size_t)(seconds * rate);
		size_t pos = 0, done = 0;
		double proc0 = 0.0, thread0 = 0.0;
		while (done < total) {
			if (done >= warm && proc0 == 0.0) {
				proc0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
				thread0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
			}
			for (uint32_t k = 0; k < n_audio_in; k++) {
				for (uint32_t f = 0; f < block; f++)
					audio[audio_in[k]][f] = signal[(pos + f) % signal_frames];
			}
			for (uint32_t k = 0; k < n_atom_out; k++) {
				LV2_Atom *a = atoms[atom_out[k]];
				a->size = ATOM_CAPACITY - sizeof(LV2_Atom);
				a->type = h->atom_chunk;
			}
			double w0 = clock_s(CLOCK_MONOTONIC);
			double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
			lilv_instance_run(inst, block);
			double c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
			double w1 = clock_s(CLOCK_MONOTONIC);
			if (done >= warm && out->runs < max_runs) {
				double t = c1 - c0 - timer_mean_s;
				out->times[out->runs++] = t > 0.0 ? t : 0.0;
				if (w1 - w0 > out->worst_wall_s)
					out->worst_wall_s = w1 - w0;
			}
			pos = (pos + block) % signal_frames;
			done += block;
		}
		double proc1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		double thread1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		out->other_s = (proc1 - proc0) - (thread1 - thread0);
		if (out->other_s < 0.0)
			out->other_s = 0.0;
		lilv_instance_deactivate(inst);
	}
	lilv_instance_free(inst);
	for (uint32_t i = 0; i < n_ports; i++) {
		if (audio)
			free(audio[i]);
		if (atoms)
			free(atoms[i]);
	}
	free(mins);
	free(maxs);
	free(defs);
	free(controls);
	free(audio);
	free(atoms);
	if (!ok || out->runs == 0) {
		free(out->times);
		out->times = NULL;
		return -1;
	}
	return 0;
}

typedef struct {
	double cpu_pct;      /* run()'s CPU per second of audio, % of one core */
	double other_pct;    /* the process's other threads meanwhile, % of one core */
	double mean_us;      /* mean run() */
	double worst_us;     /* worst run() that both passes agree on */
	double raw_worst_us; /* worst run() of either pass, noise included */
	double wall_us;      /* wall-clock worst of either pass */
	double block_us;     /* the block's duration */
	int ok;
} Result;

/* Two passes over identical input on two fresh instances: a plugin's run() for
 * the same block does the same work in both, while the machine's noise (an
 * interrupt, a preempted virtual CPU) seldom hits the same block twice. So the
 * worst run() is the worst over blocks of the smaller of the two times. */
static Result bench_config(Host *h, const LilvPlugin *plugin, double rate, uint32_t block,
                           double seconds, const float *signal, size_t signal_frames)
{
	Result res;
	memset(&res, 0, sizeof res);
	Pass a, b;
	if (run_pass(h, plugin, rate, block, seconds, signal, signal_frames, &a))
		return res;
	if (run_pass(h, plugin, rate, block, seconds, signal, signal_frames, &b)) {
		free(a.times);
		return res;
	}
	size_t n = a.runs < b.runs ? a.runs : b.runs;
	double sum_a = 0.0, sum_b = 0.0, worst = 0.0, raw = 0.0;
	for (size_t i = 0; i < n; i++) {
		double lo = a.times[i] < b.times[i] ? a.times[i] : b.times[i];
		double hi = a.times[i] < b.times[i] ? b.times[i] : a.times[i];
		sum_a += a.times[i];
		sum_b += b.times[i];
		if (lo > worst)
			worst = lo;
		if (hi > raw)
			raw = hi;
	}
	/* Same work twice: the cheaper pass is the one the machine disturbed less. */
	double sum = sum_a < sum_b ? sum_a : sum_b;
	double audio_s = (double)(n * block) / rate;
	res.cpu_pct = 100.0 * sum / audio_s;
	res.other_pct = 100.0 * (a.other_s > b.other_s ? a.other_s : b.other_s) / audio_s;
	res.mean_us = 1e6 * sum / (double)n;
	res.worst_us = 1e6 * worst;
	res.raw_worst_us = 1e6 * raw;
	res.wall_us = 1e6 * (a.worst_wall_s > b.worst_wall_s ? a.worst_wall_s : b.worst_wall_s);
	res.block_us = 1e6 * block / rate;
	res.ok = 1;
	free(a.times);
	free(b.times);
	return res;
}

/* ------------------------------------------------------------------ lv2bench */

static void run_lv2bench(const char *uri)
{
	static const uint32_t lb_blocks[] = {64, 512};
	for (size_t b = 0; b < sizeof lb_blocks / sizeof lb_blocks[0]; b++) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "lv2bench -f -b %u -n 480000 '%s' 2>&1", lb_blocks[b], uri);
		FILE *p = popen(cmd, "r");
		if (!p) {
			printf("  lv2bench: cannot run (is lilv-utils installed?)\n");
			return;
		}
		char line[1024];
		bool found = false;
		while (fgets(line, sizeof line, p)) {
			unsigned blk = 0, n = 0;
			double t = 0.0;
			char u[512];
			if (sscanf(line, "%u %u %lf %511s", &blk, &n, &t, u) == 4 && !strcmp(u, uri)) {
				double pct = 100.0 * t / ((double)n / 48000.0);
				printf("  %-24s block %4u: %.6f s for %u frames = %6.3f%% of one core\n", uri,
				       blk, t, n, pct);
				found = true;
			} else if (line[0] != '#') {
				printf("  lv2bench: %s", line);
			}
		}
		int rc = pclose(p);
		if (!found)
			printf("  %-24s block %4u: lv2bench gave no figure (exit %d)\n", uri, lb_blocks[b], rc);
	}
}

/* ------------------------------------------------------------------ main */

static int find_bundle(const char *arg, char *out, size_t len)
{
	const char *env = getenv("STRIDE_LV2_BUNDLE");
	if (arg) {
		snprintf(out, len, "%s", arg);
	} else if (env && *env) {
		snprintf(out, len, "%s", env);
	} else {
		char exe[2048];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0)
			return -1;
		exe[n] = '\0';
		for (int up = 0; up < 2; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				return -1;
			*slash = '\0';
		}
		snprintf(out, len, "%s/stride.lv2", exe);
	}
	size_t l = strlen(out);
	while (l > 1 && out[l - 1] == '/')
		out[--l] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	char bundle[4096];
	if (find_bundle(argc > 1 ? argv[1] : NULL, bundle, sizeof bundle)) {
		fprintf(stderr, "bench_plugins: cannot work out where the bundle is\n");
		return 1;
	}
	char manifest[4200];
	snprintf(manifest, sizeof manifest, "%s/manifest.ttl", bundle);
	if (access(manifest, R_OK)) {
		printf("bench_plugins: no LV2 bundle at %s (build it with ./waf build)\n", bundle);
		return 1;
	}
	const char *const *uris = default_uris;
	int n_uris = 3;
	if (argc > 2) {
		uris = (const char *const *)(argv + 2);
		n_uris = argc - 2;
	}
	double seconds = 10.0;
	if (getenv("STRIDE_BENCH_SECONDS"))
		seconds = atof(getenv("STRIDE_BENCH_SECONDS"));
	if (!(seconds > 0.0))
		seconds = 10.0;

	/* LV2_PATH: a private folder holding only a link to the bundle (the bundle's own
	 * folder, the build folder, holds much that is not a bundle), then the system's
	 * folders for the LV2 specifications. */
	char linkdir[] = "/tmp/stride-bench-XXXXXX";
	char link[4200];
	char absb[4096];
	char cwd[2048];
	if (bundle[0] == '/')
		snprintf(absb, sizeof absb, "%s", bundle);
	else if (getcwd(cwd, sizeof cwd))
		snprintf(absb, sizeof absb, "%.2047s/%.2000s", cwd, bundle);
	else
		absb[0] = '\0';
	if (!absb[0] || !mkdtemp(linkdir)) {
		fprintf(stderr, "bench_plugins: cannot make a temporary folder or resolve %s\n", bundle);
		return 1;
	}
	snprintf(link, sizeof link, "%s/stride.lv2", linkdir);
	if (symlink(absb, link)) {
		fprintf(stderr, "bench_plugins: cannot link %s\n", link);
		rmdir(linkdir);
		return 1;
	}
	char lv2_path[4200];
	snprintf(lv2_path, sizeof lv2_path, "%s:/usr/lib/lv2:/usr/local/lib/lv2", linkdir);
	setenv("LV2_PATH", lv2_path, 1);

	Host h;
	memset(&h, 0, sizeof h);
	h.world = lilv_world_new();
	lilv_world_load_all(h.world);
	h.audio = lilv_new_uri(h.world, LV2_CORE__AudioPort);
	h.control = lilv_new_uri(h.world, LV2_CORE__ControlPort);
	h.cv = lilv_new_uri(h.world, LV2_CORE__CVPort);
	h.atom = lilv_new_uri(h.world, LV2_ATOM__AtomPort);
	h.input = lilv_new_uri(h.world, LV2_CORE__InputPort);
	h.output = lilv_new_uri(h.world, LV2_CORE__OutputPort);
	h.optional = lilv_new_uri(h.world, LV2_CORE__connectionOptional);
	h.map.handle = &h.urids;
	h.map.map = urid_map;
	h.unmap.handle = &h.urids;
	h.unmap.unmap = urid_unmap;
	h.logger.handle = NULL;
	h.logger.printf = log_printf;
	h.logger.vprintf = log_vprintf;
	h.atom_sequence = urid_map(&h.urids, LV2_ATOM__Sequence);
	h.atom_chunk = urid_map(&h.urids, LV2_ATOM__Chunk);
	h.atom_int = urid_map(&h.urids, LV2_ATOM__Int);
	h.atom_float = urid_map(&h.urids, LV2_ATOM__Float);

	calibrate_timer();
	printf("Plugin cost, measured by a lilv host: default model, no worker. Each row: two fresh\n"
	       "instances each run %.0f s of the same test audio after 1 s of warm-up, every run()\n"
	       "timed in thread CPU time (the timer's own mean cost, %.2f us, removed).\n"
	       "  CPU %%    run()'s CPU per second of audio, %% of one core (the cheaper instance)\n"
	       "  other    CPU of the process's other threads meanwhile (helper threads), %% of one core\n"
	       "  worst    the slowest run() both instances agree on (per block, the smaller of the\n"
	       "           two times, then the largest over blocks), and as %% of the block's duration\n"
	       "  raw      the slowest single run() of either instance, machine noise included\n"
	       "  wall     the same in wall-clock time\n"
	       "Machine noise floor: the slowest of 200000 timed empty stretches took %.1f us.\n"
	       "Bundle: %s\n\n",
	       seconds, 1e6 * timer_mean_s, 1e6 * timer_worst_s, bundle);
	printf("%-22s %6s %5s %7s %6s %8s %8s %8s %8s %8s\n", "plugin", "rate", "block", "CPU %",
	       "other", "mean us", "worst us", "worst %", "raw us", "wall us");
	const LilvPlugins *all = lilv_world_get_all_plugins(h.world);
	size_t signal_frames = 0;
	int missing = 0;
	double worst_cpu48 = 0.0, worst_pct64 = 0.0;
	for (int u = 0; u < n_uris; u++) {
		LilvNode *uri = lilv_new_uri(h.world, uris[u]);
		const LilvPlugin *plugin = lilv_plugins_get_by_uri(all, uri);
		lilv_node_free(uri);
		if (!plugin) {
			printf("%-22s not found in %s\n", uris[u], lv2_path);
			missing++;
			continue;
		}
		for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
			signal_frames = (size_t)(rates[r] * 6.0);
			float *signal = make_signal(rates[r], signal_frames);
			if (!signal) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
			for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
				Result res = bench_config(&h, plugin, rates[r], blocks[b], seconds, signal,
				                          signal_frames);
				if (!res.ok) {
					printf("%-22s %6.0f %5u  failed\n", uris[u], rates[r], blocks[b]);
					continue;
				}
				double pct = 100.0 * res.worst_us / res.block_us;
				printf("%-22s %6.0f %5u %7.3f %6.3f %8.1f %8.1f %8.2f %8.1f %8.1f\n", uris[u],
				       rates[r], blocks[b], res.cpu_pct, res.other_pct, res.mean_us, res.worst_us,
				       pct, res.raw_worst_us, res.wall_us);
				fflush(stdout);
				if (rates[r] == 48000.0 && res.cpu_pct > worst_cpu48)
					worst_cpu48 = res.cpu_pct;
				if (rates[r] == 48000.0 && blocks[b] == 64 && pct > worst_pct64)
					worst_pct64 = pct;
			}
			free(signal);
		}
	}
	printf("\nGoals at 48 kHz: each plugin < 0.5%% of one core (highest measured: %.3f%%: %s);\n"
	       "worst run() < 5%% of a 64-frame block (highest measured: %.2f%%: %s).\n",
	       worst_cpu48, worst_cpu48 < 0.5 ? "met" : "NOT met", worst_pct64,
	       worst_pct64 < 5.0 ? "met" : "NOT met");

	printf("\nlv2bench (lilv-utils; instantiates at 48 kHz, 480000 frames):\n");
	for (int u = 0; u < n_uris; u++)
		run_lv2bench(uris[u]);

	lilv_node_free(h.audio);
	lilv_node_free(h.control);
	lilv_node_free(h.cv);
	lilv_node_free(h.atom);
	lilv_node_free(h.input);
	lilv_node_free(h.output);
	lilv_node_free(h.optional);
	lilv_world_free(h.world);
	for (uint32_t i = 0; i < h.urids.n; i++)
		free(h.urids.uris[i]);
	unlink(link);
	rmdir(linkdir);
	return missing ? 1 : 0;
}
