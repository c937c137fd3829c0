/* Where firmware and option ROM files are looked for. */
#include "system/system.h"
#include "config-host.h"

static GPtrArray *firmware_dirs;

void firmware_path_add(const char *dir)
{
    if (!firmware_dirs) {
        firmware_dirs = g_ptr_array_new();
    }
    g_ptr_array_add(firmware_dirs, g_strdup(dir));
}

char *firmware_find(const char *name)
{
    if (strchr(name, '/')) {
        return g_file_test(name, G_FILE_TEST_IS_REGULAR) ? g_strdup(name) : NULL;
    }
    const char *builtin[] = { KESTREL_BUILD_ROM_DIR, KESTREL_FIRMWARE_DIR,
                              "/usr/share/seabios", "/usr/share/qemu" };
    for (guint i = 0; firmware_dirs && i < firmware_dirs->len; i++) {
        char *p = g_build_filename(g_ptr_array_index(firmware_dirs, i), name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            return p;
        }
        g_free(p);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(builtin); i++) {
        char *p = g_build_filename(builtin[i], name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            return p;
        }
        g_free(p);
    }
    return NULL;
}

