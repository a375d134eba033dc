/* The LV2 entry points every Stride plugin shares (see plugin_base.h). */
#include "plugin_base.h"

#include <stdlib.h>
#include <string.h>

#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

int stride_plugin_base_init(StridePluginBase *base, const StrideLoaderClass *cls, void *plugin,
                            double rate, const char *bundle_path,
                            const LV2_Feature *const *features, int n_display_values)
{
	if (stride_loader_init(&base->loader, cls, plugin, bundle_path, features) < 0)
		return -1;
	return stride_display_init(&base->display, features, rate, n_display_values);
}

void stride_plugin_activate(LV2_Handle instance)
{
	stride_loader_reset(&((StridePluginBase *)instance)->loader);
}

void stride_plugin_deactivate(LV2_Handle instance)
{
	(void)instance;
}

void stride_plugin_cleanup(LV2_Handle instance)
{
	StridePluginBase *base = (StridePluginBase *)instance;
	stride_loader_cleanup(&base->loader);
	stride_display_cleanup(&base->display);
	free(instance);
}

/* Worker thread. */
static LV2_Worker_Status work(LV2_Handle instance, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
	return stride_loader_work(&((StridePluginBase *)instance)->loader, respond, handle, size,
	                          data);
}

/* Audio thread. */
static LV2_Worker_Status work_response(LV2_Handle instance, uint32_t size, const void *data)
{
	return stride_loader_work_response(&((StridePluginBase *)instance)->loader, size, data);
}

/* State threading class (may run beside run()). */
static LV2_State_Status save(LV2_Handle instance, LV2_State_Store_Function store,
                             LV2_State_Handle handle, uint32_t flags,
                             const LV2_Feature *const *features)
{
	return stride_loader_save(&((StridePluginBase *)instance)->loader, store, handle, flags,
	                          features);
}

/* Instantiation thread. */
static LV2_State_Status restore(LV2_Handle instance, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle handle, uint32_t flags,
                                const LV2_Feature *const *features)
{
	return stride_loader_restore(&((StridePluginBase *)instance)->loader, retrieve, handle,
	                             flags, features);
}

const void *stride_plugin_extension_data(const char *uri,
                                         const StrideInlineDisplayInterface *display)
{
	static const LV2_Worker_Interface worker = {work, work_response, NULL};
	static const LV2_State_Interface state = {save, restore};
	if (!strcmp(uri, LV2_WORKER__interface))
		return &worker;
	if (!strcmp(uri, LV2_STATE__interface))
		return &state;
	if (!strcmp(uri, STRIDE_IDISP__interface))
		return display;
	return NULL;
}
