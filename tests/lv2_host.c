/* A small LV2 host for the plugin tests (see lv2_host.h). */
#include "lv2_host.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/log/log.h>
#include <lv2/patch/patch.h>

#define URI_MODEL "urn:stride:model"
#define URI_LABELS "urn:stride:labels"

struct LV2Host {
	LilvWorld *world;
	char tmpdir[64];
	char link[PATH_MAX];
	char **uris;
	uint32_t n_uris, cap_uris;
	LV2_URID_Map map;
	LV2_URID_Unmap unmap;
	LV2_Log_Log log;
	char *log_text;
	size_t log_len, log_cap;
	bool inline_display; /* offer the inline display's queue_draw (default) */
};

/* ------------------------------------------------------------------------ */
/* URIDs and log                                                             */
/* ------------------------------------------------------------------------ */

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char *uri)
{
	LV2Host *h = (LV2Host *)handle;
	for (uint32_t i = 0; i < h->n_uris; i++)
		if (!strcmp(h->uris[i], uri))
			return i + 1;
	if (h->n_uris == h->cap_uris) {
		h->cap_uris = h->cap_uris ? 2 * h->cap_uris : 64;
		h->uris = realloc(h->uris, h->cap_uris * sizeof(char *));
	}
	const size_t len = strlen(uri) + 1;
	h->uris[h->n_uris] = malloc(len);
	memcpy(h->uris[h->n_uris], uri, len);
	return ++h->n_uris;
}

static const char *unmap_uri(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
	LV2Host *h = (LV2Host *)handle;
	return urid >= 1 && urid <= h->n_uris ? h->uris[urid - 1] : NULL;
}

LV2_LOG_FUNC(3, 0)
static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, va_list ap)
{
	LV2Host *h = (LV2Host *)handle;
	char line[8192];
	const char *kind = unmap_uri(h, type);
	const char *hash = kind ? strrchr(kind, '#') : NULL;
	int n = snprintf(line, sizeof line, "[%s] ", hash ? hash + 1 : "?");
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	const size_t len = strlen(line);
	if (h->log_len + len + 1 > h->log_cap) {
		h->log_cap = 2 * (h->log_len + len + 1);
		h->log_text = realloc(h->log_text, h->log_cap);
	}
	memcpy(h->log_text + h->log_len, line, len + 1);
	h->log_len += len;
	fputs(line, stderr);
	return (int)len;
}

LV2_LOG_FUNC(3, 4)
static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const int r = log_vprintf(handle, type, fmt, ap);
	va_end(ap);
	return r;
}

/* ------------------------------------------------------------------------ */
/* The world                                                                 */
/* ------------------------------------------------------------------------ */

bool lv2host_bundle_path(char *out, size_t size)
{
	const char *build = getenv("STRIDE_BUILD");
	if (!build) {
		fprintf(stderr, "STRIDE_BUILD is not set: run through ./waf test\n");
		return false;
	}
#if defined(STRIDE_SANITIZED)
	const char *variant = "/asan";
#else
	const char *variant = "";
#endif
	const int n = snprintf(out, size, "%s%s/stride.lv2", build, variant);
	return n > 0 && (size_t)n < size;
}

bool lv2host_other_bundle(const char *name)
{
	const size_t n = strlen(name);
	return n >= 5 && !strcmp(name + n - 4, ".lv2") && strncmp(name, "eg-", 3) != 0 &&
	       strcmp(name, "stride.lv2") != 0;
}

LV2Host *lv2host_new_built(char *bundle, size_t size)
{
	return lv2host_bundle_path(bundle, size) ? lv2host_new(bundle) : NULL;
}

/* Links every bundle in `dir` but ours and the LV2 book's examples into
 * h->tmpdir. */
static void link_bundles(LV2Host *h, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!lv2host_other_bundle(e->d_name))
			continue;
		char from[PATH_MAX], to[PATH_MAX];
		snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
		snprintf(to, sizeof to, "%s/%s", h->tmpdir, e->d_name);
		if (symlink(from, to) != 0)
			perror("lv2host: symlink");
	}
	closedir(d);
}

LV2Host *lv2host_new(const char *bundle_dir)
{
	return lv2host_new_with(bundle_dir, NULL);
}

LV2Host *lv2host_new_with(const char *bundle_dir, const char *others)
{
	LV2Host *h = calloc(1, sizeof *h);
	h->inline_display = true;
	char real[2 * PATH_MAX + 2], cwd[PATH_MAX];
	int w = -1;
	if (bundle_dir[0] == '/')
		w = snprintf(real, sizeof real, "%s", bundle_dir);
	else if (getcwd(cwd, sizeof cwd))
		w = snprintf(real, sizeof real, "%s/%s", cwd, bundle_dir);
	if (w <= 0 || (size_t)w >= sizeof real || access(real, R_OK) != 0) {
		fprintf(stderr, "lv2host: no bundle at %s (build it first)\n", bundle_dir);
		free(h);
		return NULL;
	}
	snprintf(h->tmpdir, sizeof h->tmpdir, "/tmp/stride-lv2path-XXXXXX");
	if (!mkdtemp(h->tmpdir)) {
		perror("lv2host: mkdtemp");
		free(h);
		return NULL;
	}
	w = snprintf(h->link, sizeof h->link, "%s/stride.lv2", h->tmpdir);
	if (w <= 0 || (size_t)w >= sizeof h->link || symlink(real, h->link) != 0) {
		perror("lv2host: symlink");
		rmdir(h->tmpdir);
		free(h);
		return NULL;
	}
	h->map.handle = h;
	h->map.map = map_uri;
	h->unmap.handle = h;
	h->unmap.unmap = unmap_uri;
	h->log.handle = h;
	h->log.printf = log_printf;
	h->log.vprintf = log_vprintf;
	h->log_cap = 1024;
	h->log_text = calloc(1, h->log_cap);
	if (others)
		link_bundles(h, others);
	setenv("LV2_PATH", h->tmpdir, 1);
	h->world = lilv_world_new();
	lilv_world_load_all(h->world);
	return h;
}

void lv2host_free(LV2Host *h)
{
	if (!h)
		return;
	lilv_world_free(h->world);
	/* our link and any lv2host_new_with linked */
	DIR *d = opendir(h->tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", h->tmpdir, e->d_name);
		if (e->d_name[0] != '.')
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(h->tmpdir);
	for (uint32_t i = 0; i < h->n_uris; i++)
		free(h->uris[i]);
	free(h->uris);
	free(h->log_text);
	free(h);
}

LilvWorld *lv2host_world(LV2Host *h)
{
	return h->world;
}

const LilvPlugin *lv2host_plugin(LV2Host *h, const char *uri)
{
	LilvNode *node = lilv_new_uri(h->world, uri);
	const LilvPlugin *p = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(h->world), node);
	lilv_node_free(node);
	return p;
}

LV2_URID lv2host_map(LV2Host *h, const char *uri)
{
	return map_uri(h, uri);
}

const char *lv2host_unmap(LV2Host *h, LV2_URID urid)
{
	return unmap_uri(h, urid);
}

LV2_URID_Map *lv2host_map_feature(LV2Host *h)
{
	return &h->map;
}

LV2_URID_Unmap *lv2host_unmap_feature(LV2Host *h)
{
	return &h->unmap;
}

const char *lv2host_log(const LV2Host *h)
{
	return h->log_text;
}

void lv2host_clear_log(LV2Host *h)
{
	h->log_len = 0;
	h->log_text[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* The worker (synchronous, between cycles)                                  */
/* ------------------------------------------------------------------------ */

/* Appends [size][data, padded to 8] to a ring; never allocates. */
static int ring_push(uint8_t *ring, uint32_t *used, uint32_t size, const void *data)
{
	const uint32_t need = 8u + ((size + 7u) & ~7u);
	if (*used + need > LV2HOST_RING)
		return -1;
	memcpy(ring + *used, &size, sizeof size);
	memcpy(ring + *used + 8, data, size);
	*used += need;
	return 0;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle handle, uint32_t size,
                                       const void *data)
{
	LV2Instance *inst = (LV2Instance *)handle;
	if (inst->refuse_work || ring_push(inst->jobs, &inst->jobs_used, size, data) < 0) {
		inst->jobs_dropped++;
		return LV2_WORKER_ERR_NO_SPACE;
	}
	return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
	LV2Instance *inst = (LV2Instance *)handle;
	return ring_push(inst->answers, &inst->answers_used, size, data) < 0
	           ? LV2_WORKER_ERR_NO_SPACE
	           : LV2_WORKER_SUCCESS;
}

int lv2inst_work(LV2Instance *inst)
{
	if (!inst->worker)
		return 0;
	/* take the jobs out first: work_response may schedule more later */
	static uint8_t pending[LV2HOST_RING];
	const uint32_t used = inst->jobs_used;
	memcpy(pending, inst->jobs, used);
	inst->jobs_used = 0;
	int n = 0;
	for (uint32_t at = 0; at < used; n++) {
		uint32_t size;
		memcpy(&size, pending + at, sizeof size);
		inst->worker->work(lilv_instance_get_handle(inst->instance), respond, inst, size,
		                   pending + at + 8);
		at += 8u + ((size + 7u) & ~7u);
	}
	return n;
}

int lv2inst_respond(LV2Instance *inst)
{
	if (!inst->worker)
		return 0;
	int n = 0;
	uint32_t at = 0;
	while (at < inst->answers_used) {
		uint32_t size;
		memcpy(&size, inst->answers + at, sizeof size);
		inst->worker->work_response(lilv_instance_get_handle(inst->instance), size,
		                            inst->answers + at + 8);
		at += 8u + ((size + 7u) & ~7u);
		n++;
	}
	inst->answers_used = 0;
	return n;
}

/* ------------------------------------------------------------------------ */
/* Instances                                                                 */
/* ------------------------------------------------------------------------ */

static bool port_is(const LV2Instance *inst, const LilvPort *port, const char *class_uri)
{
	LilvNode *c = lilv_new_uri(inst->host->world, class_uri);
	const bool is = lilv_port_is_a(inst->plugin, port, c);
	lilv_node_free(c);
	return is;
}

/* The inline display's queue_draw: counts the requests (any thread; the
 * test host runs one). */
static void queue_draw(void *handle)
{
	((LV2Instance *)handle)->queue_draws++;
}

void lv2host_set_inline_display(LV2Host *h, bool on)
{
	h->inline_display = on;
}

StrideInlineDisplaySurface *lv2inst_render(LV2Instance *inst, uint32_t width, uint32_t max_height)
{
	const StrideInlineDisplayInterface *d =
	    (const StrideInlineDisplayInterface *)lilv_instance_get_extension_data(
	        inst->instance, STRIDE_IDISP__interface);
	return d ? d->render(lilv_instance_get_handle(inst->instance), width, max_height) : NULL;
}

LV2Instance *lv2inst_new(LV2Host *h, const char *uri, double rate, uint32_t max_block,
                         bool with_worker)
{
	const LilvPlugin *plugin = lv2host_plugin(h, uri);
	if (!plugin) {
		fprintf(stderr, "lv2host: %s is not in the bundle\n", uri);
		return NULL;
	}
	LV2Instance *inst = calloc(1, sizeof *inst);
	inst->host = h;
	inst->plugin = plugin;
	inst->rate = rate;
	inst->max_block = max_block;
	inst->has_worker = with_worker;
	inst->jobs = calloc(1, LV2HOST_RING);
	inst->answers = calloc(1, LV2HOST_RING);
	inst->control_atoms = calloc(1, LV2HOST_ATOM_CAPACITY);
	inst->notify_atoms = calloc(1, LV2HOST_ATOM_CAPACITY);

	inst->schedule.handle = inst;
	inst->schedule.schedule_work = schedule_work;

	const LV2_Feature map_f = {LV2_URID__map, &h->map};
	const LV2_Feature unmap_f = {LV2_URID__unmap, &h->unmap};
	const LV2_Feature log_f = {LV2_LOG__log, &h->log};
	const LV2_Feature sched_f = {LV2_WORKER__schedule, &inst->schedule};
	inst->idisp.handle = inst;
	inst->idisp.queue_draw = queue_draw;
	const LV2_Feature idisp_f = {STRIDE_IDISP__queue_draw, &inst->idisp};
	const LV2_Feature *features[6] = {&map_f, &unmap_f, &log_f};
	int nf = 3;
	if (with_worker)
		features[nf++] = &sched_f;
	if (h->inline_display)
		features[nf++] = &idisp_f;
	features[nf] = NULL;
	inst->instance = lilv_plugin_instantiate(plugin, rate, features);
	if (!inst->instance) {
		fprintf(stderr, "lv2host: %s did not instantiate at %g Hz\n", uri, rate);
		lv2inst_free(inst);
		return NULL;
	}
	if (with_worker)
		inst->worker = (const LV2_Worker_Interface *)lilv_instance_get_extension_data(
		    inst->instance, LV2_WORKER__interface);
	inst->state = (const LV2_State_Interface *)lilv_instance_get_extension_data(
	    inst->instance, LV2_STATE__interface);

	inst->n_ports = lilv_plugin_get_num_ports(plugin);
	inst->controls = calloc(inst->n_ports, sizeof(float));
	float *defaults = calloc(inst->n_ports, sizeof(float));
	lilv_plugin_get_port_ranges_float(plugin, NULL, NULL, defaults);
	for (uint32_t i = 0; i < inst->n_ports; i++) {
		const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
		const bool input = port_is(inst, port, LV2_CORE__InputPort);
		if (port_is(inst, port, LV2_CORE__ControlPort)) {
			inst->controls[i] = defaults[i] == defaults[i] ? defaults[i] : 0.0f;
			lilv_instance_connect_port(inst->instance, i, &inst->controls[i]);
		} else if (port_is(inst, port, LV2_CORE__AudioPort)) {
			float *buf = calloc(max_block, sizeof(float));
			if (input && inst->n_in < LV2HOST_MAX_CHANNELS)
				inst->in[inst->n_in++] = buf;
			else if (!input && inst->n_out < LV2HOST_MAX_CHANNELS)
				inst->out[inst->n_out++] = buf;
			lilv_instance_connect_port(inst->instance, i, buf);
		} else if (port_is(inst, port, LV2_ATOM__AtomPort)) {
			lilv_instance_connect_port(inst->instance, i,
			                           input ? inst->control_atoms : inst->notify_atoms);
		}
	}
	free(defaults);
	lilv_instance_activate(inst->instance);
	return inst;
}

void lv2inst_free(LV2Instance *inst)
{
	if (!inst)
		return;
	if (inst->instance) {
		lilv_instance_deactivate(inst->instance);
		/* models the plugin sent back to be freed */
		lv2inst_work(inst);
		lilv_instance_free(inst->instance);
	}
	for (int c = 0; c < LV2HOST_MAX_CHANNELS; c++) {
		free(inst->in[c]);
		free(inst->out[c]);
	}
	free(inst->controls);
	free(inst->jobs);
	free(inst->answers);
	free(inst->control_atoms);
	free(inst->notify_atoms);
	free(inst);
}

int lv2inst_port(const LV2Instance *inst, const char *symbol)
{
	LilvNode *s = lilv_new_string(inst->host->world, symbol);
	const LilvPort *port = lilv_plugin_get_port_by_symbol(inst->plugin, s);
	lilv_node_free(s);
	return port ? (int)lilv_port_get_index(inst->plugin, port) : -1;
}

static uint32_t checked_port(const LV2Instance *inst, const char *symbol)
{
	const int i = lv2inst_port(inst, symbol);
	if (i < 0) {
		fprintf(stderr, "lv2host: no port \"%s\"\n", symbol);
		abort();
	}
	return (uint32_t)i;
}

void lv2inst_set(LV2Instance *inst, const char *symbol, float value)
{
	inst->controls[checked_port(inst, symbol)] = value;
}

float lv2inst_get(const LV2Instance *inst, const char *symbol)
{
	return inst->controls[checked_port(inst, symbol)];
}

/* Appends one event holding the atom the forge wrote to `buf`. */
static void queue_event(LV2Instance *inst, const LV2_Atom *atom)
{
	const uint32_t size = (uint32_t)sizeof(LV2_Atom_Event) + atom->size;
	const uint32_t padded = (size + 7u) & ~7u;
	const uint32_t at = (uint32_t)sizeof(LV2_Atom_Sequence) + inst->control_used;
	if (at + padded > LV2HOST_ATOM_CAPACITY)
		abort();
	LV2_Atom_Event *ev = (LV2_Atom_Event *)((uint8_t *)inst->control_atoms + at);
	ev->time.frames = 0;
	memcpy(&ev->body, atom, sizeof(LV2_Atom) + atom->size);
	inst->control_used += padded;
}

/* Queues a patch message of class `otype` (a URI): with patch:property
 * `property` when not NULL, and a patch:value of `value_type` whose body is the
 * `size` bytes at `value` when value_type is not NULL. */
static void forge_message(LV2Instance *inst, const char *otype, const char *property,
                          const char *value_type, const void *value, uint32_t size)
{
	LV2Host *h = inst->host;
	uint8_t buf[8192];
	LV2_Atom_Forge forge;
	lv2_atom_forge_init(&forge, &h->map);
	lv2_atom_forge_set_buffer(&forge, buf, sizeof buf);
	LV2_Atom_Forge_Frame frame;
	LV2_Atom_Forge_Ref ref = lv2_atom_forge_object(&forge, &frame, 0, map_uri(h, otype));
	if (property) {
		lv2_atom_forge_key(&forge, map_uri(h, LV2_PATCH__property));
		lv2_atom_forge_urid(&forge, map_uri(h, property));
	}
	if (value_type) {
		lv2_atom_forge_key(&forge, map_uri(h, LV2_PATCH__value));
		lv2_atom_forge_atom(&forge, size, map_uri(h, value_type));
		lv2_atom_forge_write(&forge, value, size);
	}
	lv2_atom_forge_pop(&forge, &frame);
	queue_event(inst, lv2_atom_forge_deref(&forge, ref));
}

void lv2inst_send_model(LV2Instance *inst, const char *path)
{
	forge_message(inst, LV2_PATCH__Set, URI_MODEL, LV2_ATOM__Path, path,
	              (uint32_t)strlen(path) + 1u);
}

void lv2inst_send_get(LV2Instance *inst)
{
	forge_message(inst, LV2_PATCH__Get, NULL, NULL, NULL, 0);
}

void lv2inst_send_get_property(LV2Instance *inst, const char *property)
{
	forge_message(inst, LV2_PATCH__Get, property, NULL, NULL, 0);
}

void lv2inst_send_model_sized(LV2Instance *inst, const char *bytes, uint32_t size)
{
	forge_message(inst, LV2_PATCH__Set, URI_MODEL, LV2_ATOM__Path, bytes, size);
}

void lv2inst_prepare(LV2Instance *inst)
{
	LV2Host *h = inst->host;
	LV2_Atom_Sequence *control = (LV2_Atom_Sequence *)inst->control_atoms;
	control->atom.type = map_uri(h, LV2_ATOM__Sequence);
	control->atom.size = (uint32_t)sizeof(LV2_Atom_Sequence_Body) + inst->control_used;
	control->body.unit = 0;
	control->body.pad = 0;
	LV2_Atom_Sequence *notify = (LV2_Atom_Sequence *)inst->notify_atoms;
	notify->atom.type = map_uri(h, LV2_ATOM__Chunk);
	notify->atom.size = LV2HOST_ATOM_CAPACITY - (uint32_t)sizeof(LV2_Atom);
}

void lv2inst_run_only(LV2Instance *inst, uint32_t n)
{
	lilv_instance_run(inst->instance, n);
}

void lv2inst_read_notify(LV2Instance *inst)
{
	LV2Host *h = inst->host;
	inst->control_used = 0;
	const LV2_Atom_Sequence *notify = (const LV2_Atom_Sequence *)inst->notify_atoms;
	if (notify->atom.type != map_uri(h, LV2_ATOM__Sequence))
		return;
	const LV2_URID set = map_uri(h, LV2_PATCH__Set), property = map_uri(h, LV2_PATCH__property);
	const LV2_URID value = map_uri(h, LV2_PATCH__value), model = map_uri(h, URI_MODEL);
	const LV2_URID labels = map_uri(h, URI_LABELS);
	LV2_ATOM_SEQUENCE_FOREACH (notify, ev) {
		const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
		if (obj->atom.type != map_uri(h, LV2_ATOM__Object) || obj->body.otype != set)
			continue;
		const LV2_Atom *p = NULL, *v = NULL;
		lv2_atom_object_get(obj, property, &p, value, &v, 0);
		if (!p || !v || p->type != map_uri(h, LV2_ATOM__URID))
			continue;
		const LV2_URID which = ((const LV2_Atom_URID *)p)->body;
		char *dst = which == model ? inst->notify_model : which == labels ? inst->notify_labels
		                                                                  : NULL;
		if (!dst)
			continue;
		snprintf(dst, 4096, "%.*s", (int)v->size, (const char *)LV2_ATOM_BODY_CONST(v));
		inst->notify_sets++;
	}
}

void lv2inst_run(LV2Instance *inst, uint32_t n)
{
	lv2inst_prepare(inst);
	lv2inst_run_only(inst, n);
	lv2inst_respond(inst);
	lv2inst_read_notify(inst);
}

void lv2inst_settle(LV2Instance *inst, uint32_t n)
{
	lv2inst_work(inst);
	lv2inst_respond(inst);
	for (int c = 0; c < inst->n_in; c++)
		memset(inst->in[c], 0, sizeof(float) * n);
	lv2inst_run(inst, n);
	lv2inst_work(inst); /* frees the model that was replaced */
}

/* ------------------------------------------------------------------------ */
/* State                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
	LV2Instance *inst;
	const char *prefix; /* strip on save, prepend on restore */
	char *value;
	uint32_t size, type, flags;
	const char *restore_value;
	bool stored;
	LV2StateSnapshot *save_all;          /* lv2inst_save_state: every property */
	const LV2StateSnapshot *restore_all; /* lv2inst_restore_state */
	LV2HostRestoreStyle style;           /* how retrieve() sizes strings */
} StateCtx;

static char *abstract_path(LV2_State_Map_Path_Handle handle, const char *absolute)
{
	const StateCtx *ctx = (const StateCtx *)handle;
	const size_t n = strlen(ctx->prefix);
	const char *rel = strncmp(absolute, ctx->prefix, n) == 0 ? absolute + n : absolute;
	char *out = malloc(strlen(rel) + 1);
	strcpy(out, rel);
	return out;
}

static char *absolute_path(LV2_State_Map_Path_Handle handle, const char *abstract)
{
	const StateCtx *ctx = (const StateCtx *)handle;
	const bool abs = abstract[0] == '/';
	char *out = malloc(strlen(ctx->prefix) + strlen(abstract) + 1);
	sprintf(out, "%s%s", abs ? "" : ctx->prefix, abstract);
	return out;
}

static void free_path(LV2_State_Free_Path_Handle handle, char *path)
{
	(void)handle;
	free(path);
}

static LV2_State_Status store(LV2_State_Handle handle, uint32_t key, const void *value,
                              size_t size, uint32_t type, uint32_t flags)
{
	StateCtx *ctx = (StateCtx *)handle;
	if (ctx->save_all) {
		LV2StateSnapshot *snap = ctx->save_all;
		if (snap->n == LV2HOST_STATE_PROPERTIES || size > LV2HOST_STATE_VALUE) {
			snap->dropped++;
			return LV2_STATE_ERR_NO_SPACE;
		}
		LV2StateProperty *p = &snap->props[snap->n++];
		p->key = key;
		p->type = type;
		p->flags = flags;
		p->size = (uint32_t)size;
		memcpy(p->value, value, size);
		return LV2_STATE_SUCCESS;
	}
	if (key != map_uri(ctx->inst->host, URI_MODEL))
		return LV2_STATE_SUCCESS;
	const size_t n = size < ctx->size ? size : ctx->size - 1;
	memcpy(ctx->value, value, n);
	ctx->value[n] = '\0';
	ctx->type = type;
	ctx->flags = flags;
	ctx->stored = true;
	return LV2_STATE_SUCCESS;
}

static const void *retrieve(LV2_State_Handle handle, uint32_t key, size_t *size, uint32_t *type,
                            uint32_t *flags)
{
	StateCtx *ctx = (StateCtx *)handle;
	if (ctx->restore_all) {
		for (int i = 0; i < ctx->restore_all->n; i++) {
			const LV2StateProperty *p = &ctx->restore_all->props[i];
			if (p->key == key) {
				*size = p->size;
				*type = p->type;
				*flags = p->flags;
				LV2Host *h = ctx->inst->host;
				if (ctx->style == LV2HOST_RESTORE_CARLA &&
				    (p->type == map_uri(h, LV2_ATOM__Path) ||
				     p->type == map_uri(h, LV2_ATOM__String)))
					*size = strnlen((const char *)p->value, p->size);
				return p->value;
			}
		}
		return NULL;
	}
	if (key != map_uri(ctx->inst->host, URI_MODEL) || !ctx->restore_value)
		return NULL;
	*size = strlen(ctx->restore_value) + 1;
	*type = map_uri(ctx->inst->host, LV2_ATOM__Path);
	*flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
	return ctx->restore_value;
}

int lv2inst_save_model(LV2Instance *inst, const char *strip, char *value, uint32_t size,
                       uint32_t *type, uint32_t *flags)
{
	StateCtx ctx = {inst, strip, value, size, 0, 0, NULL, false, NULL, NULL, LV2HOST_RESTORE_LILV};
	LV2_State_Map_Path mp = {&ctx, abstract_path, absolute_path};
	LV2_State_Free_Path fp = {&ctx, free_path};
	const LV2_Feature mp_f = {LV2_STATE__mapPath, &mp};
	const LV2_Feature fp_f = {LV2_STATE__freePath, &fp};
	const LV2_Feature *features[] = {&mp_f, &fp_f, NULL};
	value[0] = '\0';
	const int st = (int)inst->state->save(lilv_instance_get_handle(inst->instance), store, &ctx,
	                                       LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE, features);
	*type = ctx.type;
	*flags = ctx.flags;
	return ctx.stored ? st : -1;
}

int lv2inst_restore_model(LV2Instance *inst, const char *prefix, const char *value)
{
	StateCtx ctx = {inst, prefix, NULL, 0, 0, 0, value, false, NULL, NULL, LV2HOST_RESTORE_LILV};
	LV2_State_Map_Path mp = {&ctx, abstract_path, absolute_path};
	LV2_State_Free_Path fp = {&ctx, free_path};
	const LV2_Feature mp_f = {LV2_STATE__mapPath, &mp};
	const LV2_Feature fp_f = {LV2_STATE__freePath, &fp};
	const LV2_Feature *features[] = {&mp_f, &fp_f, NULL};
	return (int)inst->state->restore(lilv_instance_get_handle(inst->instance), retrieve, &ctx,
	                                 LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE, features);
}

/* Runs save or restore with our path mapping around ctx. */
static int with_state_features(LV2Instance *inst, StateCtx *ctx, bool save)
{
	LV2_State_Map_Path mp = {ctx, abstract_path, absolute_path};
	LV2_State_Free_Path fp = {ctx, free_path};
	const LV2_Feature mp_f = {LV2_STATE__mapPath, &mp};
	const LV2_Feature fp_f = {LV2_STATE__freePath, &fp};
	const LV2_Feature *features[] = {&mp_f, &fp_f, NULL};
	const LV2_Handle h = lilv_instance_get_handle(inst->instance);
	const uint32_t flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
	return save ? (int)inst->state->save(h, store, ctx, flags, features)
	            : (int)inst->state->restore(h, retrieve, ctx, flags, features);
}

int lv2inst_save_state(LV2Instance *inst, const char *strip, LV2StateSnapshot *snap)
{
	memset(snap, 0, sizeof *snap);
	StateCtx ctx = {inst, strip, NULL, 0, 0, 0, NULL, false, snap, NULL, LV2HOST_RESTORE_LILV};
	return with_state_features(inst, &ctx, true);
}

int lv2inst_restore_state(LV2Instance *inst, const char *prefix, const LV2StateSnapshot *snap)
{
	return lv2inst_restore_state_as(inst, prefix, snap, LV2HOST_RESTORE_LILV);
}

int lv2inst_restore_state_as(LV2Instance *inst, const char *prefix, const LV2StateSnapshot *snap,
                             LV2HostRestoreStyle style)
{
	StateCtx ctx = {inst, prefix, NULL, 0, 0, 0, NULL, false, NULL, snap, style};
	return with_state_features(inst, &ctx, false);
}

bool lv2host_state_equal(const LV2StateSnapshot *a, const LV2StateSnapshot *b)
{
	if (a->n != b->n || a->dropped || b->dropped)
		return false;
	for (int i = 0; i < a->n; i++) {
		const LV2StateProperty *p = &a->props[i], *q = &b->props[i];
		if (p->key != q->key || p->type != q->type || p->flags != q->flags ||
		    p->size != q->size || memcmp(p->value, q->value, p->size) != 0)
			return false;
	}
	return true;
}
