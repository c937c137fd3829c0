/*
 * Finding and loading kestrel-monitor.so: next to the executable (a build
 * tree, or a relocated install) first, then the install directory.
 */
#include <dlfcn.h>
#include <unistd.h>
#include "monitor/module.h"
#include "config-host.h"

#define MODULE_NAME "kestrel-monitor.so"

static const MonitorModuleOps *module_ops;

static void *open_module(GString *tried)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *exe_dir = exe ? g_path_get_dirname(exe) : NULL;
    const char *dirs[] = { exe_dir, KESTREL_MODULE_DIR };

    for (unsigned i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (!dirs[i]) {
            continue;
        }
        g_autofree char *path = g_build_filename(dirs[i], MODULE_NAME, NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
            g_string_append_printf(tried, "%s%s", tried->len ? ", " : "",
                                   path);
            continue;
        }
        void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            g_string_append_printf(tried, "%s%s", tried->len ? "; " : "",
                                   dlerror());
        }
        return handle;
    }
    return NULL;
}

const MonitorModuleOps *monitor_module_load(Error **errp)
{
    if (module_ops) {
        return module_ops;
    }
    g_autoptr(GString) tried = g_string_new(NULL);
    void *handle = open_module(tried);
    if (!handle) {
        error_setg(errp, "cannot load the monitor module (%s)", tried->str);
        return NULL;
    }
    module_ops = dlsym(handle, MONITOR_MODULE_SYMBOL);
    if (!module_ops) {
        error_setg(errp, "the monitor module has no %s: %s",
                   MONITOR_MODULE_SYMBOL, dlerror());
        dlclose(handle);
    }
    return module_ops;
}

const MonitorModuleOps *monitor_module_get(void)
{
    return module_ops;
}
