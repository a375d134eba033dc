/* A small LV2 host for the plugin tests, on lilv: loads the built bundle through
 * LV2_PATH, instantiates a plugin with urid:map, log and (optionally) a worker,
 * connects every port to buffers it owns, sends patch messages and reads the
 * notify port.
 *
 * The worker is synchronous and runs between cycles, as if the host's worker
 * thread were instant: lv2inst_run() runs the plugin; lv2inst_work() then does
 * the scheduled jobs (the plugin's work()) and lv2inst_respond() hands their
 * answers to work_response(), which a real host calls on the audio thread right
 * after run(). schedule_work and respond copy into rings preallocated at
 * instantiation, so the host itself never allocates during run(): the
 * real-time test counts every allocation in that window.
 *
 * Everything here is single-threaded test code. */
#ifndef STRIDE_LV2_HOST_H
#define STRIDE_LV2_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lilv/lilv.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "inline_display.h"

#define LV2HOST_MAX_CHANNELS 2
#define LV2HOST_ATOM_CAPACITY 65536
#define LV2HOST_RING 65536

typedef struct LV2Host LV2Host;

/* The bundle this test program belongs with: $STRIDE_BUILD/stride.lv2, or
 * $STRIDE_BUILD/asan/stride.lv2 for the ASan build. Returns false when
 * STRIDE_BUILD is not set (the program runs through ./waf test). */
bool lv2host_bundle_path(char *out, size_t size);

/* The host the plugin tests share: the bundle of this build (path into
 * bundle, see lv2host_bundle_path) in a world of its own. NULL on failure. */
LV2Host *lv2host_new_built(char *bundle, size_t size);

/* Whether a folder named `name` is a bundle a host beside ours should see:
 * any NAME.lv2 but stride.lv2 (another build of ours) and the LV2 book's
 * examples (eg-*.lv2). */
bool lv2host_other_bundle(const char *name);

/* A world that sees exactly the bundle in `bundle_dir` (LV2_PATH is set to a
 * temporary folder holding a link to it). Returns NULL with a message on stderr. */
LV2Host *lv2host_new(const char *bundle_dir);
/* The same, with every bundle in the folder `others` beside it (the LV2
 * specifications in /usr/lib/lv2, as a real host sees them), less any
 * stride.lv2 and the LV2 book's examples. */
LV2Host *lv2host_new_with(const char *bundle_dir, const char *others);
void lv2host_free(LV2Host *host);

LilvWorld *lv2host_world(LV2Host *host);
const LilvPlugin *lv2host_plugin(LV2Host *host, const char *uri);
LV2_URID lv2host_map(LV2Host *host, const char *uri);
const char *lv2host_unmap(LV2Host *host, LV2_URID urid);
LV2_URID_Map *lv2host_map_feature(LV2Host *host);
LV2_URID_Unmap *lv2host_unmap_feature(LV2Host *host);

/* Everything the plugins logged since the last clear. */
const char *lv2host_log(const LV2Host *host);
void lv2host_clear_log(LV2Host *host);

typedef struct {
	LV2Host *host;
	const LilvPlugin *plugin;
	LilvInstance *instance;
	const LV2_Worker_Interface *worker;
	const LV2_State_Interface *state;
	double rate;
	uint32_t max_block;
	uint32_t n_ports;
	float *controls; /* one value per port (control ports only matter) */
	int n_in, n_out;
	float *in[LV2HOST_MAX_CHANNELS];
	float *out[LV2HOST_MAX_CHANNELS];
	void *control_atoms; /* LV2_Atom_Sequence, LV2HOST_ATOM_CAPACITY bytes */
	void *notify_atoms;
	uint32_t control_used; /* bytes of events queued for the next run */

	/* the synchronous worker */
	LV2_Worker_Schedule schedule;
	bool has_worker;
	uint8_t *jobs, *answers;
	uint32_t jobs_used, answers_used;
	int jobs_dropped;
	bool refuse_work; /* schedule_work answers "no space", as a full queue does */

	/* Ardour's inline display: the feature offered, and the redraws asked for */
	StrideInlineDisplay idisp;
	int queue_draws;

	/* what the notify port said (latest values) */
	char notify_model[4096];
	char notify_labels[4096];
	int notify_sets;
} LV2Instance;

/* Instantiates `uri` at `rate` (with a worker feature when with_worker),
 * connects all ports (controls at their defaults), activates. NULL on failure,
 * with the reason on stderr and in the log. */
LV2Instance *lv2inst_new(LV2Host *host, const char *uri, double rate, uint32_t max_block,
                         bool with_worker);
void lv2inst_free(LV2Instance *inst);

/* Whether instances made from now on get the inline display's queue_draw
 * feature (they do unless turned off). */
void lv2host_set_inline_display(LV2Host *host, bool on);
/* Calls the plugin's inline display render (what the host's GUI thread
 * does); NULL when the plugin has none or draws nothing. */
StrideInlineDisplaySurface *lv2inst_render(LV2Instance *inst, uint32_t width, uint32_t max_height);

/* Port index of `symbol`, or -1. */
int lv2inst_port(const LV2Instance *inst, const char *symbol);
/* Sets or reads a control port by symbol (aborts the test program on a bad symbol). */
void lv2inst_set(LV2Instance *inst, const char *symbol, float value);
float lv2inst_get(const LV2Instance *inst, const char *symbol);

/* Queues a patch:Set of urn:stride:model to `path`, or a patch:Get, for the next run. */
void lv2inst_send_model(LV2Instance *inst, const char *path);
void lv2inst_send_get(LV2Instance *inst);
/* A patch:Get naming one property (a URI). */
void lv2inst_send_get_property(LV2Instance *inst, const char *property);
/* A patch:Set of urn:stride:model whose atom:Path body is exactly the `size`
 * bytes at `bytes`: size strlen(path) sends the path without its NUL, as some
 * hosts and UIs do. */
void lv2inst_send_model_sized(LV2Instance *inst, const char *bytes, uint32_t size);

/* One cycle of n frames (n <= max_block) over inst->in / inst->out: prepares
 * the atom buffers, calls run(), reads the notify port. The run() call itself
 * is the plugin's and nothing else; see lv2inst_run_only for the pieces. */
void lv2inst_run(LV2Instance *inst, uint32_t n);
void lv2inst_prepare(LV2Instance *inst);
void lv2inst_run_only(LV2Instance *inst, uint32_t n);
void lv2inst_read_notify(LV2Instance *inst);

/* Runs the queued worker jobs (the worker thread's part). Returns how many. */
int lv2inst_work(LV2Instance *inst);
/* Delivers the jobs' answers to work_response (the audio thread's part). */
int lv2inst_respond(LV2Instance *inst);
/* The whole round: work, respond, then one run of `n` frames of silence so the
 * notify port reports the result. */
void lv2inst_settle(LV2Instance *inst, uint32_t n);

/* State through the plugin's state interface, with our own store: saves to
 * `key`/`value` of the model property (value NUL-terminated), mapping paths
 * with abstract = path with `strip` removed from its start. Returns the status. */
int lv2inst_save_model(LV2Instance *inst, const char *strip, char *value, uint32_t size,
                       uint32_t *type, uint32_t *flags);
/* Restores a model property `value` of type atom:Path, mapping back by
 * prefixing `prefix`. Returns the plugin's status. */
int lv2inst_restore_model(LV2Instance *inst, const char *prefix, const char *value);

/* The whole state the plugin saves: every property it stores, as it stored it
 * (key, type, flags and value bytes), in the order it stored them. */
#define LV2HOST_STATE_PROPERTIES 16
#define LV2HOST_STATE_VALUE 4096

typedef struct {
	uint32_t key, type, flags;
	uint32_t size;
	uint8_t value[LV2HOST_STATE_VALUE];
} LV2StateProperty;

typedef struct {
	int n;
	int dropped; /* properties that did not fit (too many, or too big) */
	LV2StateProperty props[LV2HOST_STATE_PROPERTIES];
} LV2StateSnapshot;

/* Saves every property into snap, paths mapped as lv2inst_save_model maps
 * them. Returns the plugin's status. */
int lv2inst_save_state(LV2Instance *inst, const char *strip, LV2StateSnapshot *snap);
/* Restores snap (paths mapped back by prefixing `prefix`). Returns the
 * plugin's status. */
int lv2inst_restore_state(LV2Instance *inst, const char *prefix, const LV2StateSnapshot *snap);

/* How retrieve() hands back string and path values (atom:String, atom:Path):
 * as lilv does, with the size the plugin stored (its NUL counted); or as
 * Carla's LV2 host does (and REAPER), with the size set to the string's length,
 * the NUL not counted, though it is still there in memory. */
typedef enum { LV2HOST_RESTORE_LILV, LV2HOST_RESTORE_CARLA } LV2HostRestoreStyle;
int lv2inst_restore_state_as(LV2Instance *inst, const char *prefix, const LV2StateSnapshot *snap,
                             LV2HostRestoreStyle style);
/* True when both hold the same properties, byte for byte, in the same order. */
bool lv2host_state_equal(const LV2StateSnapshot *a, const LV2StateSnapshot *b);

#endif /* STRIDE_LV2_HOST_H */
