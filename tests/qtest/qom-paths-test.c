/*
 * Where devices sit in the QOM tree (monitor/qom.c), as in QEMU 7.2:
 * -device and device_add without an id under
 * /machine/peripheral-anon/device[N] (N the lowest number free when the
 * device came, so a deleted one's number is taken again), with an id under
 * /machine/peripheral, the pflash chips as /machine/system.flash0 and
 * flash1, the rest of the board under /machine/unattached.  query-block's
 * qdev and device_del by path follow.
 */
#include "libkqtest.h"
#include "libkqmp.h"
#include <string.h>
#include <unistd.h>

static void ok(KQmpVm vm, const char *json)
{
    json_node_unref(kqmp_return(kqmp_cmd(vm.qmp, "%s", json)));
}

/* qom-list of path as "name:type name:type ..." in its order. */
static char *list(KQmpVm vm, const char *path)
{
    g_autoptr(JsonNode) r = kqmp_cmd(vm.qmp, "{'execute': 'qom-list', "
                                     "'arguments': {'path': '%s'}}", path);
    JsonArray *a = json_node_get_array(kqmp_return(r));
    GString *s = g_string_new("");
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        g_string_append_printf(s, "%s%s:%s", i ? " " : "",
                               json_object_get_string_member(o, "name"),
                               json_object_get_string_member(o, "type"));
    }
    return g_string_free(s, false);
}

static char *get_str(KQmpVm vm, const char *path, const char *prop)
{
    g_autoptr(JsonNode) r = kqmp_cmd(vm.qmp, "{'execute': 'qom-get', "
                                     "'arguments': {'path': '%s', "
                                     "'property': '%s'}}", path, prop);
    return g_strdup(json_node_get_string(kqmp_return(r)));
}

/* The qdev of the query-block entry whose node-name is node. */
static char *qdev_of(KQmpVm vm, const char *node)
{
    g_autoptr(JsonNode) r = kqmp_cmd(vm.qmp, "{'execute': 'query-block'}");
    JsonArray *a = json_node_get_array(kqmp_return(r));
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        JsonObject *in = json_object_get_object_member(o, "inserted");
        if (in && !strcmp(json_object_get_string_member(in, "node-name"),
                          node)) {
            return g_strdup(json_object_get_string_member(o, "qdev"));
        }
    }
    g_error("no backend with node %s", node);
}

static void test_anon(void)
{
    KQmpVm vm = kqmp_vm_start("-device virtio-scsi-pci -device virtio-scsi-pci,id=named "
                  "-blockdev null-co,node-name=n0 "
                  "-blockdev null-co,node-name=n1 "
                  "-blockdev null-co,node-name=n2 "
                  "-device scsi-hd,drive=n0 -device isa-debugcon,chardev=c "
                  "-chardev null,id=c");
    g_autofree char *anon = list(vm, "/machine/peripheral-anon");
    g_autofree char *periph = list(vm, "/machine/peripheral");
    g_autofree char *unattached = list(vm, "/machine/unattached");
    g_autofree char *qdev = qdev_of(vm, "n0");
    g_autofree char *type = get_str(vm, "peripheral-anon/device[2]", "type");

    g_assert_cmpstr(anon, ==, "type:string "
                    "device[0]:child<virtio-scsi-pci> "
                    "device[1]:child<scsi-hd> "
                    "device[2]:child<isa-debugcon>");
    g_assert_cmpstr(periph, ==, "type:string named:child<virtio-scsi-pci>");
    g_assert_null(strstr(unattached, "scsi"));
    g_assert_null(strstr(unattached, "debugcon"));
    g_assert_cmpstr(qdev, ==, "/machine/peripheral-anon/device[1]");
    g_assert_cmpstr(type, ==, "isa-debugcon");

    /* device_add takes the next number; a deleted device's number is
     * free again and the next one takes it. */
    ok(vm, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd', "
       "'drive': 'n1'}}");
    g_free(qdev);
    qdev = qdev_of(vm, "n1");
    g_assert_cmpstr(qdev, ==, "/machine/peripheral-anon/device[3]");
    ok(vm, "{'execute': 'device_del', 'arguments': "
       "{'id': '/machine/peripheral-anon/device[1]'}}");
    json_node_unref(kqmp_event(vm.qmp, "DEVICE_DELETED"));
    ok(vm, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd', "
       "'drive': 'n2'}}");
    g_free(qdev);
    qdev = qdev_of(vm, "n2");
    g_assert_cmpstr(qdev, ==, "/machine/peripheral-anon/device[1]");
    g_free(anon);
    anon = list(vm, "/machine/peripheral-anon");
    g_assert_cmpstr(anon, ==, "type:string "
                    "device[0]:child<virtio-scsi-pci> "
                    "device[2]:child<isa-debugcon> "
                    "device[3]:child<scsi-hd> "
                    "device[1]:child<scsi-hd>");
    kqmp_vm_quit(vm);
}

static char *flash_image(void)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-qom-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 128 * 1024), ==, 0);
    close(fd);
    return path;
}

static void test_flash(void)
{
    g_autofree char *code = flash_image();
    g_autofree char *vars = flash_image();
    g_autofree char *args = g_strdup_printf(
        "-drive if=pflash,format=raw,file=%s,readonly=on "
        "-drive if=pflash,format=raw,file=%s", code, vars);
    KQmpVm vm = kqmp_vm_start(args);
    g_autofree char *machine = list(vm, "/machine");
    g_autofree char *unattached = list(vm, "/machine/unattached");
    g_autofree char *type = get_str(vm, "/machine/system.flash1", "type");
    g_autofree char *name = get_str(vm, "/machine/system.flash0", "name");

    g_assert_nonnull(strstr(machine, "system.flash0:child<cfi.pflash01>"));
    g_assert_nonnull(strstr(machine, "system.flash1:child<cfi.pflash01>"));
    g_assert_null(strstr(unattached, "pflash"));
    g_assert_cmpstr(type, ==, "cfi.pflash01");
    g_assert_cmpstr(name, ==, "system.flash0");
    kqmp_vm_quit(vm);

    /* No flash drive, no flash child (QEMU drops the unused ones). */
    vm = kqmp_vm_start("");
    g_free(machine);
    machine = list(vm, "/machine");
    g_assert_null(strstr(machine, "flash"));
    kqmp_vm_quit(vm);
    unlink(code);
    unlink(vars);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qom-paths/peripheral-anon", test_anon);
    g_test_add_func("/qom-paths/system-flash", test_flash);
    return g_test_run();
}
