/*
 * isa-debugcon: bytes written to the port reach the chardev (a file here),
 * reads return the readback value; without a chardev output is dropped.
 */
#include "hw/isa/isa.h"
#include "chardev/char.h"
#include <unistd.h>

static char *out_path;

static void test_output(void)
{
    static const char msg[] = "SeaBIOS says hi\n";
    g_autofree char *got = NULL;
    gsize len;

    for (const char *p = msg; *p; p++) {
        address_space_write(&address_space_io, 0xe9, p, 1);
    }
    g_assert_true(g_file_get_contents(out_path, &got, &len, NULL));
    g_assert_cmpstr(got, ==, msg);
}

static void test_readback(void)
{
    uint8_t v = 0;

    address_space_read(&address_space_io, 0xe9, &v, 1);
    g_assert_cmphex(v, ==, 0xe9);
    address_space_read(&address_space_io, 0x402, &v, 1);
    g_assert_cmphex(v, ==, 0x42);
    v = 'x';
    address_space_write(&address_space_io, 0x402, &v, 1);   /* dropped */
}

int main(int argc, char **argv)
{
    g_autofree char *dir = g_dir_make_tmp("kestrel-debugcon-XXXXXX", NULL);
    g_autofree char *opts = NULL;
    DeviceState *dev;
    Error *err = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    out_path = g_build_filename(dir, "out", NULL);
    opts = g_strdup_printf("file,id=dbg,path=%s", out_path);
    if (!chardev_new_from_opts(opts, &err)) {
        g_error("chardev: %s", err->msg);
    }
    dev = device_new("isa-debugcon");
    g_assert_true(device_set_prop(dev, "chardev", "dbg", &err));
    g_assert_true(device_realize(dev, &err));
    dev = device_new("isa-debugcon");
    g_assert_true(device_set_prop(dev, "iobase", "0x402", &err));
    g_assert_true(device_set_prop(dev, "readback", "0x42", &err));
    g_assert_true(device_realize(dev, &err));

    g_test_add_func("/debugcon/output", test_output);
    g_test_add_func("/debugcon/readback", test_readback);
    ret = g_test_run();
    unlink(out_path);
    rmdir(dir);
    g_free(out_path);
    return ret;
}
