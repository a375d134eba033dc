/* State faults: a session restored into a fresh instance of every plugin (gate,
 * gate_stereo, genre) through the LV2 state interface, in the lilv host
 * (tests/lv2_host.h), with the model property naming
 *
 *   1. a missing file;            2. a directory;
 *   3. a file without read permission (as root, the file system uid is
 *      dropped to an unprivileged one around the restore; skipped when even
 *      that cannot make the file unreadable);
 *   4. a good model cut in half (the shipped one and a hand-weighted one), and
 *      random bytes;
 *   5. a valid model of the other task (the other plugin's shipped model and a
 *      hand-weighted one);
 *   6. a valid non-default model of the right task (tests/fault_models.h);
 *   7. the default model itself.
 *
 * Cases 1-5 must be refused: the restore reports an error, the log names the
 * file and why, and the instance goes on exactly as a fresh one: a patch:Get
 * names the same model, every output (audio and control ports) is equal
 * frame for frame on the same audio, and a save gives the same state.
 * Case 6 must be taken: the restored instance names and runs the new model
 * (its outputs differ from the default's, which also shows that the audio
 * here tells the models apart, so "equal" in 1-5 means the default runs).
 * Cases 6 and 7: save, restore into a fresh instance, save, restore into
 * another, save: the three states are equal, and the restored instances run
 * the same on the same audio.
 *
 * Case 6 runs twice: restored as lilv hands values back (the path's size
 * counts its NUL) and as Carla and REAPER do (the size is the string's length);
 * both must run the chosen model, the same way.
 *   8. model values that are no path (empty, a NUL inside, an atom:String)
 *      are refused, the log naming the plugin and the reason;
 *   9. a patch:Set whose atom:Path body lacks the NUL loads the model; one
 *      with a NUL inside is refused, the log naming the plugin.
 * Every log line starts with the plugin's own name ("Stride Gate Stereo:").
 *
 * Model paths in the states are relative to the temporary folder, so the
 * host's state:mapPath (abstract on save, absolute on restore) is used both
 * ways, as a session moved to another folder would use it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lv2/atom/atom.h>

#include "fault_models.h"
#include "lv2_host.h"
#include "ports.h"
#include "test_signals.h"
#include "test_support.h"

#define RATE 48000.0
#define BLOCK 960 /* 20 ms at 48 kHz */
/* The comparison audio: content, quiet, content (the gate opens, closes and
 * opens again), each phase 0.9 s: the shipped gate looks at 1.27 s of audio
 * per decision and genre at 2.048 s, so 2.7 s give each decisions to make. Short, since valgrind runs every refused case through the
 * shipped model. Each phase is a whole number of blocks. */
#define PHASES 3u

/* Files written into the temporary folder besides fault_models.h's. */
#define TRUNC_GATE_SHIPPED "truncated_gate_shipped.safetensors"
#define TRUNC_GENRE_SHIPPED "truncated_genre_shipped.safetensors"
#define UNREADABLE "unreadable.safetensors"
#define READABLE "readable.safetensors"

/* An unprivileged user id for the unreadable case when we run as root. */
#define NOBODY 65534

/* Room for a difference report naming two model paths. */
#define WHY_LEN (2 * TS_PATH_LEN + 256)

static char bundle[TS_PATH_LEN];
static char prefix[TS_PATH_LEN]; /* the temporary folder with a trailing slash */
static LV2Host *host;

typedef struct {
	const char *uri;
	const char *name; /* as the plugin names itself in its log lines */
	bool genre;
	const char *shipped_other; /* the other plugin's shipped model (bundle file) */
	const char *hand_other;    /* a hand-weighted model of the other task (tmp file) */
	const char *good;          /* a non-default model of this task (tmp file) */
	const char *truncated[2];  /* good models cut in half (tmp files) */
	const char *other_reason;  /* what the log says for the other task */
	uint32_t phase_frames;     /* of the comparison audio: see PHASES */
} Plugin;

static const Plugin plugins[] = {
	{STRIDE_URI_GATE, "Stride Gate", false, STRIDE_GENRE_MODEL_FILE, FM_ENERGY_CLS, FM_ENERGY_GATE,
	 {TRUNC_GATE_SHIPPED, FM_TRUNCATED_GATE}, "not a gate model", 43200},
	{STRIDE_URI_GATE_STEREO, "Stride Gate Stereo", false, STRIDE_GENRE_MODEL_FILE, FM_ENERGY_CLS, FM_ENERGY_GATE,
	 {TRUNC_GATE_SHIPPED, FM_TRUNCATED_GATE}, "not a gate model", 43200},
	{STRIDE_URI_GENRE, "Stride Genre", true, STRIDE_GATE_MODEL_FILE, FM_ENERGY_GATE, FM_ENERGY_CLS,
	 {TRUNC_GENRE_SHIPPED, FM_TRUNCATED_CLS}, "not a classifier model", 43200},
};

static LV2Instance *fresh(const Plugin *p)
{
	LV2Instance *inst = lv2inst_new(host, p->uri, RATE, BLOCK, true);
	if (!inst)
		fail_msg("%s did not instantiate:\n%s", p->uri, lv2host_log(host));
	return inst;
}

static LV2StateProperty *model_property(LV2StateSnapshot *snap)
{
	const LV2_URID key = lv2host_map(host, STRIDE_URI_MODEL);
	for (int i = 0; i < snap->n; i++)
		if (snap->props[i].key == key)
			return &snap->props[i];
	fail_msg("the saved state has no %s property", STRIDE_URI_MODEL);
	return NULL;
}

static void save(LV2Instance *inst, LV2StateSnapshot *snap)
{
	assert_int_equal(lv2inst_save_state(inst, prefix, snap), LV2_STATE_SUCCESS);
	assert_int_equal(snap->dropped, 0);
}

/* The state a fresh instance saves, with the model property naming `value`
 * instead (relative to the temporary folder, or absolute): a session as a
 * host would hand it back. The state as saved goes to `as_saved` unless it
 * is NULL. Heap-allocated: snapshots are large. */
static LV2StateSnapshot *state_naming(const Plugin *p, const char *value,
                                      LV2StateSnapshot *as_saved)
{
	/* saved once per plugin: each instance loads the shipped model, which
	 * takes a while under valgrind */
	static LV2StateSnapshot saved[3];
	static bool have[3];
	const ptrdiff_t k = p - plugins;
	if (!have[k]) {
		LV2Instance *inst = fresh(p);
		save(inst, &saved[k]);
		lv2inst_free(inst);
		have[k] = true;
	}
	LV2StateSnapshot *snap = calloc(1, sizeof *snap);
	*snap = saved[k];
	if (as_saved)
		*as_saved = *snap;
	LV2StateProperty *prop = model_property(snap);
	const size_t size = strlen(value) + 1;
	assert_true(size <= LV2HOST_STATE_VALUE);
	memcpy(prop->value, value, size);
	prop->size = (uint32_t)size;
	return snap;
}

static float phase_sample(const Plugin *p, uint64_t t)
{
	const uint64_t phase = t / p->phase_frames;
	return phase % 2u == 0 ? ts_content_sample(RATE, t) : ts_quiet_sample(RATE, t);
}

/* What an instance put out on the comparison audio: the model it named when
 * asked first, every audio sample, and every port's value after each block. */
typedef struct {
	char model[sizeof ((LV2Instance *)0)->notify_model];
	uint32_t frames, blocks, n_ports;
	int channels;
	float *out;   /* [channel][frame] */
	float *ports; /* [block][port] */
} Recording;

static uint32_t audio_frames(const Plugin *p)
{
	return PHASES * p->phase_frames;
}

/* Runs the comparison audio through inst into rec (freed by the caller with
 * recording_free). */
static void record(const Plugin *p, LV2Instance *inst, Recording *rec)
{
	rec->frames = audio_frames(p);
	rec->blocks = rec->frames / BLOCK;
	rec->n_ports = inst->n_ports;
	rec->channels = inst->n_out;
	rec->out = calloc((size_t)rec->channels * rec->frames, sizeof(float));
	rec->ports = calloc((size_t)rec->blocks * rec->n_ports, sizeof(float));
	inst->notify_model[0] = '\0';
	lv2inst_send_get(inst);
	for (uint32_t b = 0; b < rec->blocks; b++) {
		const uint32_t t = b * BLOCK;
		for (uint32_t i = 0; i < BLOCK; i++) {
			const float x = phase_sample(p, t + i);
			inst->in[0][i] = x;
			if (inst->n_in > 1)
				inst->in[1][i] = -0.7f * x;
		}
		lv2inst_run(inst, BLOCK);
		lv2inst_work(inst);
		for (int ch = 0; ch < rec->channels; ch++)
			memcpy(rec->out + (size_t)ch * rec->frames + t, inst->out[ch], BLOCK * sizeof(float));
		memcpy(rec->ports + (size_t)b * rec->n_ports, inst->controls,
		       rec->n_ports * sizeof(float));
	}
	snprintf(rec->model, sizeof rec->model, "%s", inst->notify_model);
	/* the model must have decided something within the audio (its ports
	 * moved), or equal recordings would not say that the same model runs */
	if (!memcmp(rec->ports, rec->ports + (size_t)(rec->blocks - 1) * rec->n_ports,
	            rec->n_ports * sizeof(float)))
		fail_msg("%s running %s: no port moved in %u frames", p->uri, rec->model, rec->frames);
}

static void recording_free(Recording *rec)
{
	free(rec->out);
	free(rec->ports);
}

/* True when a and b are equal; else false with the first difference in `why`. */
static bool same_recording(const Recording *a, const Recording *b, char *why, size_t size)
{
	if (strcmp(a->model, b->model) != 0) {
		snprintf(why, size, "one names the model \"%s\", the other \"%s\"", a->model,
		         b->model);
		return false;
	}
	assert_int_equal(a->frames, b->frames);
	assert_int_equal(a->channels, b->channels);
	assert_int_equal(a->n_ports, b->n_ports);
	for (int ch = 0; ch < a->channels; ch++)
		for (uint32_t i = 0; i < a->frames; i++) {
			const float x = a->out[(size_t)ch * a->frames + i];
			const float y = b->out[(size_t)ch * b->frames + i];
			if (x != y) {
				snprintf(why, size, "frame %u, channel %d: %.9g and %.9g", i, ch, (double)x,
				         (double)y);
				return false;
			}
		}
	for (uint32_t k = 0; k < a->blocks * a->n_ports; k++)
		if (a->ports[k] != b->ports[k]) {
			snprintf(why, size, "after frame %u, port %u: %.9g and %.9g",
			         (k / a->n_ports + 1) * BLOCK, k % a->n_ports, (double)a->ports[k],
			         (double)b->ports[k]);
			return false;
		}
	return true;
}

/* Runs the comparison audio through inst and fails unless it puts out exactly
 * what `want` holds. */
static void assert_behaves_as(const Plugin *p, LV2Instance *inst, const Recording *want,
                              const char *what)
{
	Recording got;
	record(p, inst, &got);
	char why[WHY_LEN];
	const bool same = same_recording(&got, want, why, sizeof why);
	recording_free(&got);
	if (!same)
		fail_msg("%s, %s: %s\nlog:\n%s", p->uri, what, why, lv2host_log(host));
}

/* What a fresh instance of each plugin (the default model) puts out, recorded
 * once: every refused restore is compared with it. */
static Recording defaults[3];

static const Recording *default_recording(const Plugin *p)
{
	Recording *rec = &defaults[p - plugins];
	if (!rec->out) {
		LV2Instance *inst = fresh(p);
		record(p, inst, rec);
		lv2inst_free(inst);
	}
	return rec;
}

/* True when every line of `log` starts with the plugin's own name and a colon
 * after the level tag ("[Error] Stride Gate Stereo: ..."): "Stride Gate:" is
 * not "Stride Gate Stereo:". */
static bool names_plugin(const Plugin *p, const char *log)
{
	char want[64];
	snprintf(want, sizeof want, "] %s: ", p->name);
	if (!*log)
		return false;
	for (const char *line = log; *line;) {
		const char *end = strchr(line, '\n');
		const size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *tag_end = memchr(line, ']', len);
		if (!tag_end || strncmp(tag_end, want, strlen(want)) != 0)
			return false;
		line += len + (end ? 1 : 0);
	}
	return true;
}

/* Restores a state naming `name` into a fresh instance and checks that it is
 * refused, logged (the file's path and `reason`), and that the instance runs
 * and saves exactly as a fresh one. `name` is relative to the temporary
 * folder unless absolute; `restore` does the restore itself (for the
 * unreadable case, which wraps it). */
static void expect_refused_with(const Plugin *p, const char *name, const char *reason,
                                int (*restore)(LV2Instance *, const LV2StateSnapshot *))
{
	char absolute[TS_PATH_LEN];
	ts_path(absolute, "%s%s", name[0] == '/' ? "" : prefix, name);
	LV2StateSnapshot *got = calloc(1, sizeof *got), *want = calloc(1, sizeof *want);
	LV2StateSnapshot *bad = state_naming(p, name, want);
	LV2Instance *inst = fresh(p);

	lv2host_clear_log(host);
	const int st = restore(inst, bad);
	const char *log = lv2host_log(host);
	if (st == LV2_STATE_SUCCESS)
		fail_msg("%s: restoring %s succeeded; the log says:\n%s", p->uri, absolute, log);
	if (!strstr(log, "[Error]") || !strstr(log, absolute) || !strstr(log, reason) ||
	    !names_plugin(p, log))
		fail_msg("%s: restoring %s: the log should name the plugin (%s:), the file and say "
		         "\"%s\"; it says:\n%s",
		         p->uri, absolute, p->name, reason, log);
	printf("  %-22s %s", p->uri, log); /* the log line ends with its newline */

	save(inst, got);
	if (!lv2host_state_equal(got, want))
		fail_msg("%s: after refusing %s the saved model is \"%.*s\", a fresh instance's \"%.*s\"",
		         p->uri, absolute, (int)model_property(got)->size,
		         (const char *)model_property(got)->value, (int)model_property(want)->size,
		         (const char *)model_property(want)->value);
	char what[TS_PATH_LEN + 128];
	snprintf(what, sizeof what, "after refusing %s, against a fresh instance", absolute);
	assert_behaves_as(p, inst, default_recording(p), what);
	lv2inst_free(inst);
	free(bad);
	free(got);
	free(want);
}

static int plain_restore(LV2Instance *inst, const LV2StateSnapshot *snap)
{
	return lv2inst_restore_state(inst, prefix, snap);
}

static void expect_refused(const Plugin *p, const char *name, const char *reason)
{
	expect_refused_with(p, name, reason, plain_restore);
}

/* 1. */
static void test_missing(void **state)
{
	expect_refused(*state, FM_MISSING, "No such file or directory");
}

/* 2. */
static void test_directory(void **state)
{
	expect_refused(*state, FM_FOLDER, "Is a directory");
}

/* 3. Root reads any file whatever its mode. Linux checks file access against
 * the file system uid, and a root process that sets it to an unprivileged uid
 * loses its file capabilities until it sets it back, so the restore runs
 * under such a uid; the plugin sees what an ordinary user's session would. */
static bool fs_uid_dropped;

static int restore_unprivileged(LV2Instance *inst, const LV2StateSnapshot *snap)
{
	if (fs_uid_dropped)
		setfsuid(NOBODY);
	const int st = lv2inst_restore_state(inst, prefix, snap);
	if (fs_uid_dropped)
		setfsuid(0);
	return st;
}

/* Whether `path` can be opened for reading, under the unprivileged uid when
 * fs_uid_dropped. */
static bool can_open(const char *path)
{
	if (fs_uid_dropped)
		setfsuid(NOBODY);
	const int fd = open(path, O_RDONLY);
	if (fs_uid_dropped)
		setfsuid(0);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void test_unreadable(void **state)
{
	const char *unreadable = ts_tmp_path(UNREADABLE);
	fs_uid_dropped = false;
	if (can_open(unreadable)) {
		if (geteuid() != 0) {
			printf("  a mode-000 file opens for this (non-root) user: this case is skipped\n");
			skip();
		}
		/* the unprivileged uid must reach the folder, and be stopped by the
		 * file's mode alone: a readable file beside it opens */
		if (chmod(ts_tmpdir(), 0711) != 0)
			fail_msg("chmod %s: %s", ts_tmpdir(), strerror(errno));
		setfsuid(NOBODY);
		fs_uid_dropped = (unsigned)setfsuid(0) == NOBODY;
		if (!fs_uid_dropped || can_open(unreadable) || !can_open(ts_tmp_path(READABLE))) {
			fs_uid_dropped = false;
			chmod(ts_tmpdir(), 0700);
			printf("  running as root and the file system uid cannot be dropped to %d "
			       "here: a mode-000 file stays readable, so this case is skipped\n",
			       NOBODY);
			skip();
		}
	}
	expect_refused_with(*state, UNREADABLE, "Permission denied", restore_unprivileged);
	if (fs_uid_dropped)
		chmod(ts_tmpdir(), 0700);
	fs_uid_dropped = false;
}

/* 4. */
static void test_truncated_and_garbage(void **state)
{
	const Plugin *p = *state;
	for (int k = 0; k < 2; k++)
		expect_refused(p, p->truncated[k], "truncated");
	expect_refused(p, FM_GARBAGE, "not a safetensors file");
}

/* 5. */
static void test_other_task(void **state)
{
	const Plugin *p = *state;
	char shipped[TS_PATH_LEN];
	ts_path(shipped, "%s/%s", bundle, p->shipped_other);
	expect_refused(p, shipped, p->other_reason);
	expect_refused(p, p->hand_other, p->other_reason);
}

/* Save `from` into s1, restore s1 into a fresh instance and save it to s2,
 * restore s2 into another and save it to s3: all three must be equal. The two
 * restored instances go back in *b and *c. */
static void save_restore_twice(const Plugin *p, LV2Instance *from, LV2Instance **b,
                               LV2Instance **c, LV2StateSnapshot *s1)
{
	LV2StateSnapshot *s2 = calloc(1, sizeof *s2), *s3 = calloc(1, sizeof *s3);
	save(from, s1);
	lv2host_clear_log(host);
	*b = fresh(p);
	assert_int_equal(lv2inst_restore_state(*b, prefix, s1), LV2_STATE_SUCCESS);
	save(*b, s2);
	*c = fresh(p);
	assert_int_equal(lv2inst_restore_state(*c, prefix, s2), LV2_STATE_SUCCESS);
	save(*c, s3);
	if (strstr(lv2host_log(host), "[Error]"))
		fail_msg("%s: a good state was restored with errors:\n%s", p->uri, lv2host_log(host));
	if (!lv2host_state_equal(s1, s2) || !lv2host_state_equal(s2, s3))
		fail_msg("%s: saved states differ: \"%.*s\", then \"%.*s\", then \"%.*s\"", p->uri,
		         (int)model_property(s1)->size, (const char *)model_property(s1)->value,
		         (int)model_property(s2)->size, (const char *)model_property(s2)->value,
		         (int)model_property(s3)->size, (const char *)model_property(s3)->value);
	free(s2);
	free(s3);
}

/* 6. Restored as `style` hands it back (lilv: the path's NUL counted in its
 * size; Carla: not counted). */
static void restore_good_model(const Plugin *p, LV2HostRestoreStyle style)
{
	LV2StateSnapshot *s0 = state_naming(p, p->good, NULL), *s1 = calloc(1, sizeof *s1);
	LV2Instance *a = fresh(p);
	lv2host_clear_log(host);
	if (lv2inst_restore_state_as(a, prefix, s0, style) != LV2_STATE_SUCCESS)
		fail_msg("%s: restoring %s (%s style) failed:\n%s", p->uri, p->good,
		         style == LV2HOST_RESTORE_CARLA ? "Carla" : "lilv", lv2host_log(host));

	LV2Instance *b, *c;
	save_restore_twice(p, a, &b, &c, s1);
	/* a saves the model as it was handed over: relative to the session folder,
	 * its NUL counted again */
	assert_true(lv2host_state_equal(s0, s1));

	Recording rec;
	record(p, a, &rec);
	/* a names the new model, by its path, when asked */
	char want[TS_PATH_LEN];
	ts_path(want, "%s%s", prefix, p->good);
	assert_string_equal(rec.model, want);
	/* and runs it: not as the default does (so the audio tells the models
	 * apart, and the refused cases' equality means the default runs) */
	char why[WHY_LEN];
	if (same_recording(&rec, default_recording(p), why, sizeof why))
		fail_msg("%s: the restored %s runs exactly as the default model", p->uri, p->good);
	assert_behaves_as(p, b, &rec, "its state saved and restored");
	assert_behaves_as(p, c, &rec, "its state saved and restored twice");
	if (style == LV2HOST_RESTORE_CARLA) {
		/* exactly as the same state restored the lilv way */
		LV2Instance *d = fresh(p);
		assert_int_equal(lv2inst_restore_state(d, prefix, s0), LV2_STATE_SUCCESS);
		assert_behaves_as(p, d, &rec, "the same state restored as lilv restores it");
		lv2inst_free(d);
	}
	recording_free(&rec);
	lv2inst_free(a);
	lv2inst_free(b);
	lv2inst_free(c);
	free(s0);
	free(s1);
}

static void test_good_model(void **state)
{
	restore_good_model(*state, LV2HOST_RESTORE_LILV);
}

static void test_good_model_carla(void **state)
{
	restore_good_model(*state, LV2HOST_RESTORE_CARLA);
}

/* 8. Model values that are no path at all: refused with an error naming the
 * plugin and the reason, reading nothing past the size; the instance goes on
 * as a fresh one. */
static void test_refused_values(void **state)
{
	const Plugin *p = *state;
	static const char embedded[] = "good\0tail.safetensors";
	const struct {
		const void *bytes;
		uint32_t size;
		const char *type, *reason;
	} cases[] = {
		{"", 1, LV2_ATOM__Path, "the path is empty"},
		{"", 0, LV2_ATOM__Path, "the path is empty"},
		{embedded, sizeof embedded, LV2_ATOM__Path, "NUL byte before its end"},
		{embedded, sizeof embedded - 1, LV2_ATOM__Path, "NUL byte before its end"},
		{p->good, (uint32_t)strlen(p->good) + 1, LV2_ATOM__String, "not an atom:Path"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		LV2StateSnapshot *want = calloc(1, sizeof *want), *got = calloc(1, sizeof *got);
		LV2StateSnapshot *bad = state_naming(p, p->good, want);
		LV2StateProperty *prop = model_property(bad);
		/* the bytes after the value are not NUL: a reader past the size
		 * would see a longer string */
		memset(prop->value, 'x', sizeof prop->value);
		memcpy(prop->value, cases[k].bytes, cases[k].size);
		prop->size = cases[k].size;
		prop->type = lv2host_map(host, cases[k].type);
		LV2Instance *inst = fresh(p);
		lv2host_clear_log(host);
		const int st = lv2inst_restore_state(inst, prefix, bad);
		const char *log = lv2host_log(host);
		if (st == LV2_STATE_SUCCESS || !strstr(log, "[Error]") ||
		    !strstr(log, cases[k].reason) || !names_plugin(p, log))
			fail_msg("%s, case %zu: status %d; the log should name the plugin (%s:) and say "
			         "\"%s\"; it says:\n%s",
			         p->uri, k, st, p->name, cases[k].reason, log);
		printf("  %-22s %s", p->uri, log);
		save(inst, got);
		assert_true(lv2host_state_equal(got, want));
		lv2inst_free(inst);
		free(want);
		free(got);
		free(bad);
	}
}

/* 9. A patch:Set of the model whose atom:Path body lacks the NUL loads the
 * model (the notify port echoes the path only after the worker has loaded it
 * and work_response has swapped it in); one with a NUL inside is refused with
 * the plugin's name in the log, and the current model stays. */
static void test_patch_set_without_nul(void **state)
{
	const Plugin *p = *state;
	char path[TS_PATH_LEN];
	ts_path(path, "%s%s", prefix, p->good);
	LV2Instance *inst = fresh(p);
	lv2inst_run(inst, BLOCK);
	char before[sizeof inst->notify_model];
	snprintf(before, sizeof before, "%s", inst->notify_model);

	lv2host_clear_log(host);
	char bad[TS_PATH_LEN + 8];
	const size_t n = strlen(path);
	memcpy(bad, path, n);
	memcpy(bad + 4, "\0", 1); /* a NUL inside the path */
	lv2inst_send_model_sized(inst, bad, (uint32_t)n);
	lv2inst_run(inst, BLOCK);
	lv2inst_settle(inst, BLOCK);
	const char *log = lv2host_log(host);
	if (!strstr(log, "[Error]") || !strstr(log, "NUL byte before its end") || !names_plugin(p, log))
		fail_msg("%s: a path with a NUL inside: the log says:\n%s", p->uri, log);
	inst->notify_model[0] = '\0';
	lv2inst_send_get(inst);
	lv2inst_run(inst, BLOCK);
	assert_string_equal(inst->notify_model, before);

	lv2host_clear_log(host);
	lv2inst_send_model_sized(inst, path, (uint32_t)n);
	lv2inst_run(inst, BLOCK);
	inst->notify_model[0] = '\0';
	lv2inst_settle(inst, BLOCK);
	if (strstr(lv2host_log(host), "[Error]"))
		fail_msg("%s: a path without its NUL: the log says:\n%s", p->uri, lv2host_log(host));
	assert_string_equal(inst->notify_model, path);
	lv2inst_free(inst);
}

/* 7. */
static void test_default_model(void **state)
{
	const Plugin *p = *state;
	LV2StateSnapshot *s1 = calloc(1, sizeof *s1);
	LV2Instance *a = fresh(p), *b, *c;
	save_restore_twice(p, a, &b, &c, s1);
	char path[TS_PATH_LEN];
	snprintf(path, sizeof path, "%.*s", (int)model_property(s1)->size,
	         (const char *)model_property(s1)->value);
	const char *slash = strrchr(path, '/');
	assert_string_equal(slash ? slash + 1 : path,
	                    p->genre ? STRIDE_GENRE_MODEL_FILE : STRIDE_GATE_MODEL_FILE);
	const Recording *def = default_recording(p);
	assert_behaves_as(p, a, def, "the saved instance");
	assert_behaves_as(p, b, def, "its state saved and restored");
	assert_behaves_as(p, c, def, "its state saved and restored twice");
	lv2inst_free(a);
	lv2inst_free(b);
	lv2inst_free(c);
	free(s1);
}

/* The first half of `path` as the temporary file `name`. */
static int write_half(const char *path, const char *name)
{
	size_t len = 0;
	uint8_t *bytes = ts_slurp(path, &len);
	const int rc = len > 1 ? fm_write(name, bytes, len / 2) : -1;
	free(bytes);
	return rc;
}

static int setup(void **state)
{
	if (ts_tmpdir_setup(state) || fm_write_all() || !lv2host_bundle_path(bundle, sizeof bundle))
		return -1;
	ts_path(prefix, "%s/", ts_tmpdir());
	char shipped[TS_PATH_LEN];
	ts_path(shipped, "%s/%s", bundle, STRIDE_GATE_MODEL_FILE);
	if (write_half(shipped, TRUNC_GATE_SHIPPED))
		return -1;
	ts_path(shipped, "%s/%s", bundle, STRIDE_GENRE_MODEL_FILE);
	if (write_half(shipped, TRUNC_GENRE_SHIPPED))
		return -1;
	/* a good model that only its mode makes unreadable, and a readable twin */
	if (fm_save(test_energy_model(false, 16000, 512, 128, 0.01f, 400.0f), UNREADABLE) ||
	    fm_save(test_energy_model(false, 16000, 512, 128, 0.01f, 400.0f), READABLE) ||
	    chmod(ts_tmp_path(UNREADABLE), 0) != 0 || chmod(ts_tmp_path(READABLE), 0644) != 0)
		return -1;
	host = lv2host_new(bundle);
	return host ? 0 : -1;
}

static int teardown(void **state)
{
	for (int k = 0; k < 3; k++)
		recording_free(&defaults[k]);
	lv2host_free(host);
	return ts_tmpdir_teardown(state);
}

#define CASES(p)                                                                                \
	cmocka_unit_test_prestate(test_missing, (void *)&plugins[p]),                               \
	    cmocka_unit_test_prestate(test_directory, (void *)&plugins[p]),                         \
	    cmocka_unit_test_prestate(test_unreadable, (void *)&plugins[p]),                        \
	    cmocka_unit_test_prestate(test_truncated_and_garbage, (void *)&plugins[p]),             \
	    cmocka_unit_test_prestate(test_other_task, (void *)&plugins[p]),                        \
	    cmocka_unit_test_prestate(test_good_model, (void *)&plugins[p]),                        \
	    cmocka_unit_test_prestate(test_good_model_carla, (void *)&plugins[p]),                  \
	    cmocka_unit_test_prestate(test_default_model, (void *)&plugins[p]),                     \
	    cmocka_unit_test_prestate(test_refused_values, (void *)&plugins[p]),                    \
	    cmocka_unit_test_prestate(test_patch_set_without_nul, (void *)&plugins[p])

int main(void)
{
	const struct CMUnitTest tests[] = {CASES(0), CASES(1), CASES(2)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
