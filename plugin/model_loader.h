/* Run-time model loading, shared by the Stride plugins.
 *
 * The plugin owns one StrideLoader. The loader keeps the current model's DSP
 * object (whatever the plugin builds from a model: a StrideGate, a
 * StrideClassifier) together with its file path and class names, and does the
 * LV2 side of changing it:
 *
 *   - a patch:Set of urn:stride:model (an atom:Path) on the control port is
 *     handed to the worker, which loads the file and builds the new DSP object
 *     (all allocation and I/O happen there);
 *   - work_response, on the audio thread, lets the new object take over the old
 *     one's state, swaps the pointers, and sends the old object back to the
 *     worker to be freed;
 *   - the notify port then carries a patch:Set of urn:stride:model (the path);
 *     a patch:Get without a property asks for it again, and a patch:Get of
 *     urn:stride:labels asks for the class names (a JSON list of strings);
 *   - state save/restore stores the path through state:mapPath.
 *
 * A file that cannot be loaded, or a model for another task, is reported
 * through the LV2 log (stderr without one) and the current model keeps running.
 * Without the worker feature only the default model (loaded in instantiate)
 * runs; without log, messages go to stderr.
 *
 * Each function's comment names its LV2 threading class. */
#ifndef STRIDE_MODEL_LOADER_H
#define STRIDE_MODEL_LOADER_H

#include <stdatomic.h>
#include <stdbool.h>

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/logger.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "stride.h"

/* Longest model path, with its NUL. */
#define STRIDE_PATH_MAX 4096

/* What a plugin builds from a model. */
typedef struct {
	const char *plugin_name;  /* for messages: "Stride Gate" */
	const char *default_file; /* in the bundle: "gate.safetensors" */
	/* Worker or instantiation thread: the DSP object for `model` (not kept),
	 * or NULL with err set. */
	void *(*build)(void *plugin, const StrideModel *model, char err[STRIDE_ERR_LEN]);
	/* Audio thread (or restore): `dsp` replaces `old`: take over its state. */
	void (*take_over)(void *dsp, const void *old);
	/* Instantiation thread (activate): back to its state after build. */
	void (*reset)(void *dsp);
	/* Worker or instantiation thread. */
	void (*destroy)(void *dsp);
} StrideLoaderClass;

/* One loaded model: the DSP object, its path and class names. */
typedef struct StrideLoaded StrideLoaded;

typedef struct {
	const StrideLoaderClass *cls;
	void *plugin;

	/* host features */
	LV2_URID_Map *map;
	LV2_Worker_Schedule *schedule; /* NULL: no run-time loading */
	LV2_Log_Logger logger;

	struct {
		LV2_URID atom_Path;
		LV2_URID atom_String;
		LV2_URID atom_URID;
		LV2_URID patch_Get;
		LV2_URID patch_Set;
		LV2_URID patch_property;
		LV2_URID patch_value;
		LV2_URID model;
		LV2_URID labels;
		LV2_URID free_msg; /* the worker's "free this model" message */
	} uris;
	LV2_Atom_Forge forge;

	StrideLoaded *current;
	/* models the worker could not be asked to free (its queue was full): asked
	 * again on every run, freed in cleanup at the latest */
	StrideLoaded *orphans;
	/* audio thread: send the path, the class names, on the next run. The class
	 * names go out only when a patch:Get names them: urn:stride:labels is not
	 * patch:writable, and Ardour warns ("patch:Set for unknown property") of
	 * every patch:Set of a property it does not know as writable. */
	bool notify_pending;
	bool labels_pending;

	/* The current path for save(), which may run beside run(): written on the
	 * audio thread under a sequence count (odd while writing), copied out by
	 * readers that retry when the count moved. */
	atomic_uint path_seq;
	char path[STRIDE_PATH_MAX];
} StrideLoader;

/* Instantiation: takes the features (urid:map required; worker and log
 * optional) and loads the default model from the bundle. Returns 0, or -1
 * after logging why. */
int stride_loader_init(StrideLoader *ld, const StrideLoaderClass *cls, void *plugin,
                       const char *bundle_path, const LV2_Feature *const *features);

/* Instantiation: frees the current model. */
void stride_loader_cleanup(StrideLoader *ld);

/* Audio: the current DSP object (never NULL after a successful init). */
void *stride_loader_dsp(const StrideLoader *ld);

/* Instantiation (activate): resets the current DSP object (cls->reset). */
void stride_loader_reset(StrideLoader *ld);

/* Audio: handles the patch messages on `control` and writes what is pending to
 * `notify` (either may be NULL). Call once at the start of run(). */
void stride_loader_run(StrideLoader *ld, const LV2_Atom_Sequence *control,
                       LV2_Atom_Sequence *notify);

/* Worker: the LV2 work callback. */
LV2_Worker_Status stride_loader_work(StrideLoader *ld, LV2_Worker_Respond_Function respond,
                                     LV2_Worker_Respond_Handle handle, uint32_t size,
                                     const void *data);

/* Audio: the LV2 work_response callback. */
LV2_Worker_Status stride_loader_work_response(StrideLoader *ld, uint32_t size, const void *data);

/* State (its own threading class): the LV2 save and restore callbacks. */
LV2_State_Status stride_loader_save(StrideLoader *ld, LV2_State_Store_Function store,
                                    LV2_State_Handle handle, uint32_t flags,
                                    const LV2_Feature *const *features);
LV2_State_Status stride_loader_restore(StrideLoader *ld, LV2_State_Retrieve_Function retrieve,
                                       LV2_State_Handle handle, uint32_t flags,
                                       const LV2_Feature *const *features);

#endif /* STRIDE_MODEL_LOADER_H */
