/* Run-time model loading for the Stride plugins (see model_loader.h). */
#include "model_loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/atom/util.h>
#include <lv2/core/lv2_util.h>
#include <lv2/log/log.h>
#include <lv2/patch/patch.h>

#include "ports.h"

struct StrideLoaded {
	void *dsp;
	char *labels; /* JSON list of strings */
	StrideLoaded *next_orphan; /* in StrideLoader.orphans */
	char path[];
};

/* The worker's message asking it to free a model the audio thread let go of.
 * A load request is the atom:Path from the patch:Set itself. */
typedef struct {
	LV2_Atom atom; /* type uris.free_msg */
	StrideLoaded *loaded;
} FreeMessage;

#define URI_FREE_MESSAGE "urn:stride:worker#free"

/* Any thread: a path value as a host hands it over, `size` bytes with or
 * without the terminating NUL counted (lilv and jalv count it; Carla and
 * REAPER give the string's length), copied into `out` with its NUL. Reads
 * nothing past `size`. Returns NULL, or why the value is refused. */
static const char *path_value(const void *value, size_t size, char out[STRIDE_PATH_MAX])
{
	const char *s = (const char *)value;
	size_t len = size;
	if (s && len > 0 && s[len - 1] == '\0')
		len--;
	if (!s || len == 0)
		return "the path is empty";
	if (memchr(s, '\0', len))
		return "the path holds a NUL byte before its end";
	if (len >= STRIDE_PATH_MAX)
		return "the path is too long";
	memcpy(out, s, len);
	out[len] = '\0';
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Loading (worker or instantiation thread)                                  */
/* ------------------------------------------------------------------------ */

/* The class names as a JSON list, with the characters JSON needs escaped. */
static char *labels_json(const StrideModel *model)
{
	size_t len = 3;
	for (int i = 0; i < model->n_labels; i++)
		len += 6 * strlen(model->labels[i]) + 3;
	char *out = malloc(len);
	if (!out)
		return NULL;
	char *p = out;
	*p++ = '[';
	for (int i = 0; i < model->n_labels; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const unsigned char *s = (const unsigned char *)model->labels[i]; *s; s++) {
			if (*s == '"' || *s == '\\') {
				*p++ = '\\';
				*p++ = (char)*s;
			} else if (*s < 0x20) {
				p += snprintf(p, 7, "\\u%04x", *s);
			} else {
				*p++ = (char)*s;
			}
		}
		*p++ = '"';
	}
	*p++ = ']';
	*p = '\0';
	return out;
}

static void free_loaded(const StrideLoader *ld, StrideLoaded *l)
{
	if (!l)
		return;
	ld->cls->destroy(l->dsp);
	free(l->labels);
	free(l);
}

/* Loads `path` and builds the plugin's DSP object; logs and returns NULL on
 * any failure. */
static StrideLoaded *load(StrideLoader *ld, const char *path)
{
	char err[STRIDE_ERR_LEN] = "";
	const size_t len = strlen(path);
	if (len >= STRIDE_PATH_MAX) {
		lv2_log_error(&ld->logger, "%s: model path of %zu bytes is too long (%d at most)\n",
		              ld->cls->plugin_name, len, STRIDE_PATH_MAX - 1);
		return NULL;
	}
	StrideModel *model = stride_model_read(path, err);
	if (!model) {
		lv2_log_error(&ld->logger, "%s: cannot load the model: %s\n", ld->cls->plugin_name, err);
		return NULL;
	}
	StrideLoaded *l = calloc(1, sizeof *l + len + 1);
	if (!l) {
		stride_model_free(model);
		lv2_log_error(&ld->logger, "%s: %s: out of memory\n", ld->cls->plugin_name, path);
		return NULL;
	}
	memcpy(l->path, path, len + 1);
	l->labels = labels_json(model);
	l->dsp = l->labels ? ld->cls->build(ld->plugin, model, err) : NULL;
	stride_model_free(model);
	if (!l->dsp) {
		lv2_log_error(&ld->logger, "%s: %s: %s\n", ld->cls->plugin_name, path,
		              l->labels ? err : "out of memory");
		free(l->labels);
		free(l);
		return NULL;
	}
	return l;
}

/* ------------------------------------------------------------------------ */
/* The current path, for save() beside run()                                 */
/* ------------------------------------------------------------------------ */

/* Audio or instantiation thread: the only writer. */
static void publish_path(StrideLoader *ld, const char *path)
{
	atomic_fetch_add(&ld->path_seq, 1); /* odd: writing */
	size_t len = strlen(path);
	if (len >= STRIDE_PATH_MAX)
		len = STRIDE_PATH_MAX - 1;
	memcpy(ld->path, path, len);
	ld->path[len] = '\0';
	atomic_fetch_add(&ld->path_seq, 1);
}

/* Any thread: a consistent copy of the current path. */
static void read_path(StrideLoader *ld, char out[STRIDE_PATH_MAX])
{
	for (;;) {
		const unsigned before = atomic_load(&ld->path_seq);
		if (before & 1u)
			continue;
		memcpy(out, ld->path, STRIDE_PATH_MAX);
		if (atomic_load(&ld->path_seq) == before)
			break;
	}
	out[STRIDE_PATH_MAX - 1] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Instantiation                                                             */
/* ------------------------------------------------------------------------ */

int stride_loader_init(StrideLoader *ld, const StrideLoaderClass *cls, void *plugin,
                       const char *bundle_path, const LV2_Feature *const *features)
{
	memset(ld, 0, sizeof *ld);
	ld->cls = cls;
	ld->plugin = plugin;
	atomic_init(&ld->path_seq, 0u);
	LV2_Log_Log *log = NULL;
	const char *missing =
	    lv2_features_query(features, LV2_LOG__log, &log, false, LV2_URID__map, &ld->map, true,
	                       LV2_WORKER__schedule, &ld->schedule, false, NULL);
	lv2_log_logger_init(&ld->logger, ld->map, log);
	if (missing) {
		lv2_log_error(&ld->logger, "%s: the host lacks the feature <%s>\n", cls->plugin_name,
		              missing);
		return -1;
	}
	LV2_URID_Map *m = ld->map;
	ld->uris.atom_Path = m->map(m->handle, LV2_ATOM__Path);
	ld->uris.atom_String = m->map(m->handle, LV2_ATOM__String);
	ld->uris.atom_URID = m->map(m->handle, LV2_ATOM__URID);
	ld->uris.patch_Get = m->map(m->handle, LV2_PATCH__Get);
	ld->uris.patch_Set = m->map(m->handle, LV2_PATCH__Set);
	ld->uris.patch_property = m->map(m->handle, LV2_PATCH__property);
	ld->uris.patch_value = m->map(m->handle, LV2_PATCH__value);
	ld->uris.model = m->map(m->handle, STRIDE_URI_MODEL);
	ld->uris.labels = m->map(m->handle, STRIDE_URI_LABELS);
	ld->uris.free_msg = m->map(m->handle, URI_FREE_MESSAGE);
	lv2_atom_forge_init(&ld->forge, m);

	char path[STRIDE_PATH_MAX];
	const size_t blen = strlen(bundle_path);
	const bool slash = blen > 0 && bundle_path[blen - 1] == '/';
	const int n = snprintf(path, sizeof path, "%s%s%s", bundle_path, slash ? "" : "/",
	                       cls->default_file);
	if (n < 0 || (size_t)n >= sizeof path) {
		lv2_log_error(&ld->logger, "%s: bundle path too long\n", cls->plugin_name);
		return -1;
	}
	ld->current = load(ld, path);
	if (!ld->current)
		return -1;
	publish_path(ld, ld->current->path);
	ld->notify_pending = true;
	return 0;
}

void stride_loader_cleanup(StrideLoader *ld)
{
	free_loaded(ld, ld->current);
	ld->current = NULL;
	while (ld->orphans) {
		StrideLoaded *l = ld->orphans;
		ld->orphans = l->next_orphan;
		free_loaded(ld, l);
	}
}

/* ------------------------------------------------------------------------ */
/* Audio                                                                     */
/* ------------------------------------------------------------------------ */

void *stride_loader_dsp(const StrideLoader *ld)
{
	return ld->current->dsp;
}

void stride_loader_reset(StrideLoader *ld)
{
	ld->cls->reset(ld->current->dsp);
}

/* Room for a patch:Set carrying a string of len bytes, with slack for the
 * event, object and property headers. */
static bool room_for(const LV2_Atom_Forge *f, uint32_t len)
{
	return f->offset + 128u + len <= f->size;
}

static void write_set(StrideLoader *ld, LV2_URID property, LV2_URID type, const char *str)
{
	LV2_Atom_Forge *f = &ld->forge;
	const uint32_t len = (uint32_t)strlen(str);
	LV2_Atom_Forge_Frame frame;
	lv2_atom_forge_frame_time(f, 0);
	lv2_atom_forge_object(f, &frame, 0, ld->uris.patch_Set);
	lv2_atom_forge_key(f, ld->uris.patch_property);
	lv2_atom_forge_urid(f, property);
	lv2_atom_forge_key(f, ld->uris.patch_value);
	lv2_atom_forge_typed_string(f, type, str, len);
	lv2_atom_forge_pop(f, &frame);
}

static void handle_control(StrideLoader *ld, const LV2_Atom_Sequence *control)
{
	LV2_ATOM_SEQUENCE_FOREACH (control, ev) {
		if (!lv2_atom_forge_is_object_type(&ld->forge, ev->body.type))
			continue;
		const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
		const LV2_Atom *property = NULL, *value = NULL;
		lv2_atom_object_get(obj, ld->uris.patch_property, &property, ld->uris.patch_value, &value,
		                    0);
		const LV2_URID prop = (property && property->type == ld->uris.atom_URID)
		                          ? ((const LV2_Atom_URID *)property)->body
		                          : 0;
		if (obj->body.otype == ld->uris.patch_Get) {
			if (!property || prop == ld->uris.model)
				ld->notify_pending = true;
			else if (prop == ld->uris.labels)
				ld->labels_pending = true;
		} else if (obj->body.otype == ld->uris.patch_Set && prop == ld->uris.model) {
			/* any size the worker can take: with or without its NUL; the
			 * worker checks the bytes and logs a refusal */
			if (!value || value->type != ld->uris.atom_Path || value->size < 1 ||
			    value->size > STRIDE_PATH_MAX || !ld->schedule)
				continue;
			/* the worker gets the path atom as it is */
			ld->schedule->schedule_work(ld->schedule->handle, lv2_atom_total_size(value), value);
		}
	}
}

/* Audio thread: asks the worker to free `l`; false when its queue is full. */
static bool ask_free(StrideLoader *ld, StrideLoaded *l)
{
	const FreeMessage msg = {{(uint32_t)sizeof(StrideLoaded *), ld->uris.free_msg}, l};
	return ld->schedule->schedule_work(ld->schedule->handle, sizeof msg, &msg) == LV2_WORKER_SUCCESS;
}

void stride_loader_run(StrideLoader *ld, const LV2_Atom_Sequence *control,
                       LV2_Atom_Sequence *notify)
{
	/* models the worker could not take before: ask again, oldest last */
	while (ld->orphans) {
		StrideLoaded *l = ld->orphans, *rest = l->next_orphan; /* the worker may free l at once */
		if (!ask_free(ld, l))
			break;
		ld->orphans = rest;
	}
	if (control)
		handle_control(ld, control);
	if (!notify)
		return;
	/* the host gives the notify buffer's capacity as its size */
	const uint32_t capacity = notify->atom.size;
	LV2_Atom_Forge_Frame seq;
	lv2_atom_forge_set_buffer(&ld->forge, (uint8_t *)notify, capacity);
	if (!lv2_atom_forge_sequence_head(&ld->forge, &seq, 0))
		return;
	const StrideLoaded *cur = ld->current;
	if (ld->notify_pending && room_for(&ld->forge, (uint32_t)strlen(cur->path))) {
		write_set(ld, ld->uris.model, ld->uris.atom_Path, cur->path);
		ld->notify_pending = false;
	}
	if (ld->labels_pending && room_for(&ld->forge, (uint32_t)strlen(cur->labels))) {
		write_set(ld, ld->uris.labels, ld->uris.atom_String, cur->labels);
		ld->labels_pending = false;
	}
	lv2_atom_forge_pop(&ld->forge, &seq);
}

LV2_Worker_Status stride_loader_work_response(StrideLoader *ld, uint32_t size, const void *data)
{
	if (size != sizeof(StrideLoaded *))
		return LV2_WORKER_ERR_UNKNOWN;
	StrideLoaded *next;
	memcpy(&next, data, sizeof next);
	StrideLoaded *old = ld->current;
	ld->cls->take_over(next->dsp, old->dsp);
	ld->current = next;
	publish_path(ld, next->path);
	ld->notify_pending = true;

	if (!ask_free(ld, old)) {
		/* the worker's queue is full: keep it (a list through the models
		 * themselves, so any number fit without allocating here) and ask
		 * again on the next runs */
		old->next_orphan = ld->orphans;
		ld->orphans = old;
	}
	return LV2_WORKER_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Worker                                                                    */
/* ------------------------------------------------------------------------ */

LV2_Worker_Status stride_loader_work(StrideLoader *ld, LV2_Worker_Respond_Function respond,
                                     LV2_Worker_Respond_Handle handle, uint32_t size,
                                     const void *data)
{
	if (size < sizeof(LV2_Atom))
		return LV2_WORKER_ERR_UNKNOWN;
	const LV2_Atom *atom = (const LV2_Atom *)data;
	if (atom->type == ld->uris.free_msg && size >= sizeof(FreeMessage)) {
		FreeMessage msg;
		memcpy(&msg, data, sizeof msg);
		free_loaded(ld, msg.loaded);
		return LV2_WORKER_SUCCESS;
	}
	if (atom->type != ld->uris.atom_Path || size < sizeof(LV2_Atom) + atom->size)
		return LV2_WORKER_ERR_UNKNOWN;
	char path[STRIDE_PATH_MAX];
	const char *why = path_value(LV2_ATOM_BODY_CONST(atom), atom->size, path);
	if (why) {
		lv2_log_error(&ld->logger, "%s: a patch:Set of the model was refused: %s\n",
		              ld->cls->plugin_name, why);
		return LV2_WORKER_ERR_UNKNOWN;
	}
	StrideLoaded *l = load(ld, path);
	if (!l)
		return LV2_WORKER_ERR_UNKNOWN; /* logged; the current model keeps running */
	if (respond(handle, sizeof l, &l) != LV2_WORKER_SUCCESS) {
		lv2_log_error(&ld->logger, "%s: %s: the host's worker could not answer\n",
		              ld->cls->plugin_name, path);
		free_loaded(ld, l);
		return LV2_WORKER_ERR_NO_SPACE;
	}
	return LV2_WORKER_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* State                                                                     */
/* ------------------------------------------------------------------------ */

static void free_state_path(const LV2_Feature *const *features, char *path)
{
	LV2_State_Free_Path *fp =
	    (LV2_State_Free_Path *)lv2_features_data(features, LV2_STATE__freePath);
	if (fp)
		fp->free_path(fp->handle, path);
	else
		free(path);
}

LV2_State_Status stride_loader_save(StrideLoader *ld, LV2_State_Store_Function store,
                                    LV2_State_Handle handle, uint32_t flags,
                                    const LV2_Feature *const *features)
{
	(void)flags;
	char path[STRIDE_PATH_MAX];
	read_path(ld, path);
	LV2_State_Map_Path *mp = (LV2_State_Map_Path *)lv2_features_data(features, LV2_STATE__mapPath);
	char *abstract = mp ? mp->abstract_path(mp->handle, path) : NULL;
	const char *value = abstract ? abstract : path;
	const LV2_State_Status st = store(handle, ld->uris.model, value, strlen(value) + 1,
	                                  ld->uris.atom_Path,
	                                  LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
	if (abstract)
		free_state_path(features, abstract);
	return st;
}

LV2_State_Status stride_loader_restore(StrideLoader *ld, LV2_State_Retrieve_Function retrieve,
                                       LV2_State_Handle handle, uint32_t flags,
                                       const LV2_Feature *const *features)
{
	(void)flags;
	size_t size = 0;
	uint32_t type = 0, vflags = 0;
	const void *saved = retrieve(handle, ld->uris.model, &size, &type, &vflags);
	if (!saved) {
		lv2_log_note(&ld->logger, "%s: the saved state names no model; keeping %s\n",
		             ld->cls->plugin_name, ld->current->path);
		return LV2_STATE_SUCCESS;
	}
	if (type != ld->uris.atom_Path) {
		lv2_log_error(&ld->logger,
		              "%s: the saved model is not an atom:Path; keeping %s\n",
		              ld->cls->plugin_name, ld->current->path);
		return LV2_STATE_ERR_BAD_TYPE;
	}
	char value[STRIDE_PATH_MAX];
	const char *why = path_value(saved, size, value);
	if (why) {
		lv2_log_error(&ld->logger, "%s: the saved model is refused (%zu bytes): %s; keeping %s\n",
		              ld->cls->plugin_name, size, why, ld->current->path);
		return LV2_STATE_ERR_BAD_TYPE;
	}
	LV2_State_Map_Path *mp = (LV2_State_Map_Path *)lv2_features_data(features, LV2_STATE__mapPath);
	char *absolute = mp ? mp->absolute_path(mp->handle, value) : NULL;
	StrideLoaded *l = load(ld, absolute ? absolute : value);
	if (absolute)
		free_state_path(features, absolute);
	if (!l)
		return LV2_STATE_ERR_UNKNOWN; /* logged; the current model keeps running */
	/* restore() is never concurrent with run() (no threadSafeRestore) */
	StrideLoaded *old = ld->current;
	ld->cls->take_over(l->dsp, old->dsp);
	ld->current = l;
	publish_path(ld, l->path);
	ld->notify_pending = true;
	free_loaded(ld, old);
	return LV2_STATE_SUCCESS;
}
