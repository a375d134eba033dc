/* What every Stride plugin's instance holds first, and the LV2 entry points
 * that only forward to it (plugin/model_loader.h, plugin/display.h).
 *
 * A plugin's instance struct begins with a StridePluginBase, so the instance
 * handle is also a pointer to it (C11 6.7.2.1: a pointer to a struct, suitably
 * converted, points to its first member). The plugin keeps its own
 * instantiate, connect_port, run and the inline display's render; activate,
 * deactivate, cleanup and the worker and state interfaces come from here, and
 * its extension_data is one call to stride_plugin_extension_data.
 *
 * Each function's comment names its LV2 threading class. */
#ifndef STRIDE_PLUGIN_BASE_H
#define STRIDE_PLUGIN_BASE_H

#include <lv2/core/lv2.h>

#include "display.h"
#include "inline_display.h"
#include "model_loader.h"

typedef struct {
	StrideLoader loader;   /* the model, loaded at run time by the worker */
	StrideDisplay display; /* Ardour's inline display */
} StridePluginBase;

/* Instantiation thread: the loader (which loads the default model; `plugin` is
 * what cls->build gets) and the display (frames of n_display_values). Returns
 * 0, or -1 after logging why; then the caller frees the instance with
 * stride_plugin_cleanup. `base` must be zeroed (calloc). */
int stride_plugin_base_init(StridePluginBase *base, const StrideLoaderClass *cls, void *plugin,
                            double rate, const char *bundle_path,
                            const LV2_Feature *const *features, int n_display_values);

/* Instantiation thread: the descriptor's activate: resets the current DSP
 * object (its loader class's reset). */
void stride_plugin_activate(LV2_Handle instance);

/* Instantiation thread: the descriptor's deactivate (nothing to do). */
void stride_plugin_deactivate(LV2_Handle instance);

/* Instantiation thread: the descriptor's cleanup: frees the loader's models,
 * the display, and the instance (one calloc'd block beginning with the base). */
void stride_plugin_cleanup(LV2_Handle instance);

/* Discovery thread: the descriptor's extension_data, given the plugin's inline
 * display interface (a static object holding its render): the worker and state
 * interfaces of the loader, the display's, or NULL. */
const void *stride_plugin_extension_data(const char *uri,
                                         const StrideInlineDisplayInterface *display);

#endif /* STRIDE_PLUGIN_BASE_H */
