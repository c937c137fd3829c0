/*
 * The block layer over the monitor: query-block and info block (QEMU 7.2's
 * shapes, member by member, for a raw disk, a qcow2 disk with a backing
 * file, an empty CD-ROM, if=none drives with and without a medium and a
 * -blockdev node), query-named-block-nodes, blockdev-add/blockdev-del
 * (every driver kestrel has and every error), HMP drive_add/drive_del
 * (QEMU's drive_del-test without-dev case among them) and the JSON form
 * of -blockdev.
 */
#include "libkqtest.h"
#include "libkqmp.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PRI     0x1f0
#define PRI_CTL 0x3f6
#define MiB_    (1024 * 1024)
#define DISK    MiB_

static char *dir;

static char *path_of(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static char *tool(void)
{
    g_autofree char *d = g_path_get_dirname(g_getenv("QTEST_QEMU_BINARY"));
    return g_build_filename(d, "kestrel-img", NULL);
}

static void run_tool(const char *args)
{
    g_autofree char *t = tool();
    g_autofree char *cmd = g_strdup_printf("%s %s", t, args);
    g_autofree char *out = NULL;      /* not on our stdout: TAP */
    int status;
    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
}

/* A raw image of DISK bytes, sector n filled with n & 0xff. */
static char *make_raw(const char *name)
{
    char *path = path_of(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint8_t sector[512];
    g_assert_cmpint(fd, >=, 0);
    for (unsigned n = 0; n < DISK / 512; n++) {
        memset(sector, n & 0xff, sizeof(sector));
        g_assert_cmpint(write(fd, sector, sizeof(sector)), ==, 512);
    }
    close(fd);
    return path;
}

/* A command's reply: its return (unref the reply), or its error desc. */
static JsonNode *cmd_ok(KQmpVm vm, const char *json)
{
    JsonNode *r = kqmp_cmd(vm.qmp, "%s", json);
    kqmp_return(r);
    return r;
}

static void expect_error(KQmpVm vm, const char *json, const char *desc)
{
    g_autoptr(JsonNode) r = kqmp_cmd(vm.qmp, "%s", json);
    const char *d = NULL;
    const char *cls = kqmp_error(r, &d);
    if (!cls || strcmp(cls, "GenericError") || !strstr(d, desc)) {
        g_error("%s: expected GenericError '%s', got %s '%s'", json, desc,
                cls ? cls : "success", d ? d : "");
    }
}

static void expect_ok(KQmpVm vm, const char *json)
{
    json_node_unref(cmd_ok(vm, json));
}

/* HMP through human-monitor-command: what it printed. */
static char *hmp(KQmpVm vm, const char *line)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, "human-monitor-command");
    json_builder_set_member_name(b, "arguments");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "command-line");
    json_builder_add_string_value(b, line);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) req = json_builder_get_root(b);
    g_autofree char *text = json_to_string(req, false);
    /* kqmp_cmd turns ' into ": the request has none left to turn. */
    g_strdelimit(text, "'", '"');
    g_autoptr(JsonNode) r = kqmp_cmd(vm.qmp, "%s", text);
    return g_strdup(json_node_get_string(kqmp_return(r)));
}

static void expect_hmp(KQmpVm vm, const char *line, const char *output)
{
    g_autofree char *out = hmp(vm, line);
    g_assert_cmpstr(out, ==, output);
}

/* The object's members are exactly names (a NULL-terminated list). */
static void assert_members(JsonObject *o, const char *const *names)
{
    g_autoptr(GList) members = json_object_get_members(o);
    guint n = 0;
    for (const char *const *p = names; *p; p++, n++) {
        if (!json_object_has_member(o, *p)) {
            g_error("member '%s' is missing", *p);
        }
    }
    for (GList *l = members; l; l = l->next) {
        if (!g_strv_contains(names, l->data)) {
            g_error("member '%s' is not QEMU's", (char *)l->data);
        }
    }
    g_assert_cmpuint(g_list_length(members), ==, n);
}

static JsonObject *find(JsonArray *list, const char *key, const char *value)
{
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        if (!strcmp(json_object_get_string_member(o, key), value)) {
            return o;
        }
    }
    g_error("no entry with %s '%s'", key, value);
}

static const char *str(JsonObject *o, const char *m)
{
    return json_object_get_string_member(o, m);
}

static int64_t num(JsonObject *o, const char *m)
{
    return json_object_get_int_member(o, m);
}

static bool flag(JsonObject *o, const char *m)
{
    return json_object_get_boolean_member(o, m);
}

static JsonObject *obj(JsonObject *o, const char *m)
{
    return json_object_get_object_member(o, m);
}

/* BlockDeviceInfo's members (QEMU 7.2, no throttling group). */
#define NODE_MEMBERS "file", "node-name", "ro", "drv", "backing_file_depth", \
    "encrypted", "detect_zeroes", "bps", "bps_rd", "bps_wr", "iops", \
    "iops_rd", "iops_wr", "image", "cache", "write_threshold"

/* What every inserted medium shows the same way. */
static void check_node(JsonObject *n, const char *file, const char *drv,
                       bool ro, bool direct, bool no_flush)
{
    static const char *const zero[] = {
        "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
        "write_threshold",
    };
    static const char *const cache_members[] = {
        "writeback", "direct", "no-flush", NULL,
    };
    g_assert_cmpstr(str(n, "file"), ==, file);
    g_assert_cmpstr(str(n, "drv"), ==, drv);
    g_assert_cmpint(flag(n, "ro"), ==, ro);
    g_assert_false(flag(n, "encrypted"));
    g_assert_cmpstr(str(n, "detect_zeroes"), ==, "off");
    for (unsigned i = 0; i < G_N_ELEMENTS(zero); i++) {
        g_assert_cmpint(num(n, zero[i]), ==, 0);
    }
    JsonObject *c = obj(n, "cache");
    assert_members(c, cache_members);
    g_assert_true(flag(c, "writeback"));
    g_assert_cmpint(flag(c, "direct"), ==, direct);
    g_assert_cmpint(flag(c, "no-flush"), ==, no_flush);
    g_assert_cmpstr(str(obj(n, "image"), "filename"), ==, file);
}

static void check_qcow2_image(JsonObject *img, const char *file, int64_t size)
{
    static const char *const fs_members[] = { "type", "data", NULL };
    static const char *const data_members[] = {
        "compat", "compression-type", "lazy-refcounts", "refcount-bits",
        "corrupt", "extended-l2", NULL,
    };
    g_assert_cmpstr(str(img, "filename"), ==, file);
    g_assert_cmpstr(str(img, "format"), ==, "qcow2");
    g_assert_cmpint(num(img, "virtual-size"), ==, size);
    g_assert_cmpint(num(img, "cluster-size"), ==, 65536);
    g_assert_cmpint(num(img, "actual-size"), >, 0);
    g_assert_false(flag(img, "dirty-flag"));
    JsonObject *fs = obj(img, "format-specific");
    assert_members(fs, fs_members);
    g_assert_cmpstr(str(fs, "type"), ==, "qcow2");
    JsonObject *d = obj(fs, "data");
    assert_members(d, data_members);
    g_assert_cmpstr(str(d, "compat"), ==, "1.1");
    g_assert_cmpstr(str(d, "compression-type"), ==, "zlib");
    g_assert_false(flag(d, "lazy-refcounts"));
    g_assert_cmpint(num(d, "refcount-bits"), ==, 16);
    g_assert_false(flag(d, "corrupt"));
    g_assert_false(flag(d, "extended-l2"));
}

/*
 * query-block against what QEMU 7.2 answers for the same command line:
 * the members present (and absent) for each kind of drive, their types
 * and values.
 */
static void test_query_block(void)
{
    g_autofree char *raw = make_raw("qb-raw.img");
    g_autofree char *base = path_of("qb-base.qcow2");
    g_autofree char *top = path_of("qb-top.qcow2");
    g_autofree char *args = g_strdup_printf("create -f qcow2 %s 2M", base);
    run_tool(args);
    g_free(args);
    args = g_strdup_printf("snapshot -c snap1 %s", base);
    run_tool(args);
    g_free(args);
    args = g_strdup_printf("create -f qcow2 -b %s -F qcow2 %s", base, top);
    run_tool(args);
    KQmpVm vm = kqmp_vm_startf("-drive file=%s,format=raw,if=ide,index=0 "
                  "-drive file=%s,format=qcow2,if=none,id=q,cache=none,"
                  "werror=report "
                  "-device ide-hd,drive=q,id=disk1,bus=ide.0,unit=1 "
                  "-drive if=ide,index=2,media=cdrom "
                  "-drive if=none,id=nodev "
                  "-drive if=none,id=ro,file=%s,format=raw,readonly=on,"
                  "cache=unsafe,rerror=stop "
                  "-blockdev null-co,node-name=nul,size=4096 "
                  "-device ide-hd,drive=nul,bus=ide.1,unit=1",
                  raw, top, raw);
    static const char *const hd_members[] = {
        "device", "qdev", "type", "removable", "locked", "io-status",
        "inserted", NULL,
    };
    static const char *const raw_node[] = { NODE_MEMBERS, NULL };
    static const char *const backed_node[] = {
        NODE_MEMBERS, "backing_file", NULL,
    };
    static const char *const raw_image[] = {
        "filename", "format", "virtual-size", "actual-size", "dirty-flag",
        NULL,
    };
    static const char *const backed_image[] = {
        "filename", "format", "virtual-size", "actual-size", "dirty-flag",
        "cluster-size", "format-specific", "backing-filename",
        "full-backing-filename", "backing-filename-format", "backing-image",
        NULL,
    };
    static const char *const snap_image[] = {
        "filename", "format", "virtual-size", "actual-size", "dirty-flag",
        "cluster-size", "format-specific", "snapshots", NULL,
    };
    static const char *const snap_members[] = {
        "id", "name", "vm-state-size", "date-sec", "date-nsec",
        "vm-clock-sec", "vm-clock-nsec", "icount", NULL,
    };
    static const char *const cd_members[] = {
        "device", "qdev", "type", "removable", "locked", "tray_open",
        "io-status", NULL,
    };
    static const char *const nodev_members[] = {
        "device", "type", "removable", "locked", NULL,
    };
    static const char *const ro_members[] = {
        "device", "type", "removable", "locked", "inserted", NULL,
    };
    static const char *const null_image[] = {
        "filename", "format", "virtual-size", "actual-size", NULL,
    };

    JsonNode *r = cmd_ok(vm, "{'execute': 'query-block'}");
    JsonArray *list = json_node_get_array(kqmp_return(r));
    g_assert_cmpuint(json_array_get_length(list), ==, 6);
    /* Named drives first, in command-line order, then device backends. */
    const char *order[] = { "ide0-hd0", "q", "ide1-cd0", "nodev", "ro", "" };
    for (unsigned i = 0; i < G_N_ELEMENTS(order); i++) {
        g_assert_cmpstr(str(json_array_get_object_element(list, i), "device"),
                        ==, order[i]);
    }

    /* A raw disk of the board: its device by QOM path. */
    JsonObject *b = find(list, "device", "ide0-hd0");
    assert_members(b, hd_members);
    g_assert_true(g_str_has_prefix(str(b, "qdev"),
                                   "/machine/unattached/device["));
    g_assert_cmpstr(str(b, "type"), ==, "unknown");
    g_assert_false(flag(b, "removable"));
    g_assert_false(flag(b, "locked"));
    g_assert_cmpstr(str(b, "io-status"), ==, "ok");
    JsonObject *n = obj(b, "inserted");
    assert_members(n, raw_node);
    check_node(n, raw, "raw", false, false, false);
    g_assert_true(g_str_has_prefix(str(n, "node-name"), "#block"));
    g_assert_cmpint(num(n, "backing_file_depth"), ==, 0);
    JsonObject *img = obj(n, "image");
    assert_members(img, raw_image);
    g_assert_cmpstr(str(img, "format"), ==, "raw");
    g_assert_cmpint(num(img, "virtual-size"), ==, DISK);
    g_assert_cmpint(num(img, "actual-size"), >=, DISK);
    g_assert_false(flag(img, "dirty-flag"));

    /* qcow2 over a backing file, cache=none, on a device with an id;
     * werror=report: no io-status. */
    b = find(list, "device", "q");
    g_assert_cmpstr(str(b, "qdev"), ==, "disk1");
    g_assert_false(json_object_has_member(b, "io-status"));
    n = obj(b, "inserted");
    assert_members(n, backed_node);
    check_node(n, top, "qcow2", false, true, false);
    g_assert_cmpstr(str(n, "backing_file"), ==, base);
    g_assert_cmpint(num(n, "backing_file_depth"), ==, 1);
    img = obj(n, "image");
    assert_members(img, backed_image);
    check_qcow2_image(img, top, 2 * MiB_);
    g_assert_cmpstr(str(img, "backing-filename"), ==, base);
    g_assert_cmpstr(str(img, "full-backing-filename"), ==, base);
    g_assert_cmpstr(str(img, "backing-filename-format"), ==, "qcow2");
    JsonObject *bimg = obj(img, "backing-image");
    assert_members(bimg, snap_image);
    check_qcow2_image(bimg, base, 2 * MiB_);
    JsonArray *snaps = json_object_get_array_member(bimg, "snapshots");
    g_assert_cmpuint(json_array_get_length(snaps), ==, 1);
    JsonObject *sn = json_array_get_object_element(snaps, 0);
    assert_members(sn, snap_members);
    g_assert_cmpstr(str(sn, "id"), ==, "1");
    g_assert_cmpstr(str(sn, "name"), ==, "snap1");
    g_assert_cmpint(num(sn, "vm-state-size"), ==, 0);
    g_assert_cmpint(num(sn, "date-sec"), >, 0);
    g_assert_cmpint(num(sn, "icount"), ==, 0);

    /* An empty CD-ROM: removable, with a tray, no medium. */
    b = find(list, "device", "ide1-cd0");
    assert_members(b, cd_members);
    g_assert_true(flag(b, "removable"));
    g_assert_false(flag(b, "locked"));
    g_assert_false(flag(b, "tray_open"));
    g_assert_cmpstr(str(b, "io-status"), ==, "ok");

    /* if=none, no device: removable (nothing says otherwise), no tray. */
    b = find(list, "device", "nodev");
    assert_members(b, nodev_members);
    g_assert_true(flag(b, "removable"));
    g_assert_false(flag(b, "locked"));
    b = find(list, "device", "ro");
    assert_members(b, ro_members);      /* rerror=stop, but no device */
    check_node(obj(b, "inserted"), raw, "raw", true, false, true);

    /* A -blockdev node on a device: no name, its node-name. */
    b = find(list, "device", "");
    assert_members(b, hd_members);
    n = obj(b, "inserted");
    g_assert_cmpstr(str(n, "node-name"), ==, "nul");
    g_assert_cmpstr(str(n, "drv"), ==, "null-co");
    img = obj(n, "image");
    assert_members(img, null_image);
    g_assert_cmpint(num(img, "virtual-size"), ==, 4096);
    g_assert_cmpint(num(img, "actual-size"), ==, 0);
    json_node_unref(r);

    /* The guest turning its write cache off is writeback=false. */
    qts_outb(vm.qts, PRI + 6, 0xa0);
    qts_outb(vm.qts, PRI + 1, 0x82);
    qts_outb(vm.qts, PRI + 7, 0xef);                /* SET FEATURES */
    while (qts_inb(vm.qts, PRI_CTL) & 0x80) {
        g_usleep(100);
    }
    r = cmd_ok(vm, "{'execute': 'query-block'}");
    b = find(json_node_get_array(kqmp_return(r)), "device", "ide0-hd0");
    g_assert_false(flag(obj(obj(b, "inserted"), "cache"), "writeback"));
    json_node_unref(r);

    /* query-named-block-nodes: the opened nodes, named or not. */
    r = cmd_ok(vm, "{'execute': 'query-named-block-nodes'}");
    list = json_node_get_array(kqmp_return(r));
    g_assert_cmpuint(json_array_get_length(list), ==, 4);
    n = find(list, "node-name", "nul");
    assert_members(n, raw_node);
    json_node_unref(r);
    kqmp_vm_quit(vm);

    /* No machine, no drives. */
    vm = kqmp_vm_startf("-machine none");
    r = cmd_ok(vm, "{'execute': 'query-block'}");
    g_assert_cmpuint(json_array_get_length(json_node_get_array(
        kqmp_return(r))), ==, 0);
    json_node_unref(r);
    kqmp_vm_quit(vm);
    unlink(raw);
    unlink(base);
    unlink(top);
}

/* HMP's info block, line by line as QEMU prints it. */
static void test_info_block(void)
{
    g_autofree char *raw = make_raw("ib-raw.img");
    KQmpVm vm = kqmp_vm_startf("-drive file=%s,format=raw,if=ide,index=0,cache=none "
                  "-drive if=ide,index=2,media=cdrom,id=cd "
                  "-drive if=none,id=ro,file=%s,format=raw,readonly=on,"
                  "cache=unsafe "
                  "-blockdev null-co,node-name=nul "
                  "-device ide-hd,drive=nul,bus=ide.1,unit=1,id=disk "
                  "-device ide-cd,bus=ide.0,unit=1,id=x", raw, raw);
    g_autofree char *out = hmp(vm, "info block");
    /* The QOM indexes depend on the board: take them from the output. */
    const char *p = strstr(out, "device[");
    g_assert_nonnull(p);
    int d1 = atoi(p + 7);
    p = strstr(p + 1, "device[");
    g_assert_nonnull(p);
    int d2 = atoi(p + 7);
    g_autofree char *want = g_strdup_printf(
        "ide0-hd0 (#block0): %s (raw)\r\n"
        "    Attached to:      /machine/unattached/device[%d]\r\n"
        "    Cache mode:       writeback, direct\r\n"
        "\r\n"
        "cd: [not inserted]\r\n"
        "    Attached to:      /machine/unattached/device[%d]\r\n"
        "    Removable device: not locked, tray closed\r\n"
        "\r\n"
        "ro (#block1): %s (raw, read-only)\r\n"
        "    Removable device: not locked, tray closed\r\n"
        "    Cache mode:       writeback, ignore flushes\r\n"
        "\r\n"
        "nul: null-co:// (null-co)\r\n"
        "    Attached to:      disk\r\n"
        "    Cache mode:       writeback\r\n"
        "\r\n"                                    /* a CD-ROM, no drive */
        "x: [not inserted]\r\n"
        "    Attached to:      x\r\n"
        "    Removable device: not locked, tray closed\r\n",
        raw, d1, d2, raw);
    g_assert_cmpstr(out, ==, want);

    /* One drive; QEMU puts a blank line before all but the first. */
    g_free(want);
    want = g_strdup_printf("\r\nro (#block1): %s (raw, read-only)\r\n"
                           "    Removable device: not locked, tray closed\r\n"
                           "    Cache mode:       writeback, ignore flushes"
                           "\r\n", raw);
    expect_hmp(vm, "info block ro", want);
    expect_hmp(vm, "info block nope", "Device 'nope' not found\r\n");
    expect_hmp(vm, "info block -v", "usage: info block [-n] [device] (-v is "
               "not supported)\r\n");
    g_free(out);
    out = hmp(vm, "info block -n nul");
    g_assert_true(g_str_has_prefix(out, "\r\nnul: null-co:// (null-co)\r\n"
                                   "    Cache mode:       writeback\r\n"));
    kqmp_vm_quit(vm);
    unlink(raw);
}

/* The nodes of every driver, their children, and blockdev-del. */
static void test_blockdev_add(void)
{
    g_autofree char *raw = make_raw("ba-raw.img");
    g_autofree char *q = path_of("ba.qcow2");
    g_autofree char *conf = path_of("ba-blkdebug.conf");
    g_autofree char *args = g_strdup_printf("create -f qcow2 %s 1M", q);
    run_tool(args);
    g_assert_true(g_file_set_contents(conf, "[inject-error]\n"
                                      "event = \"read_aio\"\n"
                                      "sector = \"3\"\n", -1, NULL));
    KQmpVm vm = kqmp_vm_startf("-blockdev null-co,node-name=used "
                  "-device ide-hd,drive=used,bus=ide.0,unit=0 "
                  "-drive if=none,id=drv,file=%s,format=raw", raw);
    g_autofree char *cmd = NULL;

    /* QEMU's drive_del-test blockdev: raw on an inline null-co. */
    expect_ok(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
              "'raw', 'node-name': 'drive0', 'file': {'driver': 'null-co', "
              "'read-zeroes': true}}}");
    expect_hmp(vm, "qemu-io drive0 \"read -P 0 0 4096\"",
               "read 4096/4096 bytes at offset 0\r\n");
    expect_ok(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
              "'null-co', 'node-name': 'n1', 'size': 8192}}");
    expect_hmp(vm, "qemu-io n1 \"read 8192 512\"",
               "read failed: Input/output error\r\n");
    /* A file node, then a format on it by name: the file is taken. */
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'file', 'node-name': 'f1', "
                          "'filename': '%s', 'discard': 'unmap'}}", raw);
    expect_ok(vm, cmd);
    expect_ok(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
              "'raw', 'node-name': 'r1', 'file': 'f1', 'cache': "
              "{'direct': true}}}");
    expect_hmp(vm, "qemu-io r1 \"read -P 5 2560 512\"",
               "read 512/512 bytes at offset 2560\r\n");
    expect_hmp(vm, "qemu-io f1 \"read 0 512\"",
               "Error: Cannot find device='f1' nor node-name='f1'\r\n");
    expect_error(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
                 "'qcow2', 'node-name': 'q2', 'file': 'f1'}}",
                 "node 'f1' is already in use by node 'r1'");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'f1'}}", "Block device f1 is in use");
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'r1'}}");
    /* Free again: a format may take it, and it can go. */
    expect_error(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
                 "'qcow2', 'node-name': 'q2', 'file': 'f1'}}",
                 "Image is not in qcow2 format");
    expect_hmp(vm, "qemu-io f1 \"read -P 5 2560 512\"",
               "read 512/512 bytes at offset 2560\r\n");
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'f1'}}");
    /* qcow2 with a named inline file node, which goes with it. */
    g_free(cmd);
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'qcow2', 'node-name': 'q1', 'file': "
                          "{'driver': 'file', 'filename': '%s', "
                          "'node-name': 'q1file'}}}", q);
    expect_ok(vm, cmd);
    expect_hmp(vm, "qemu-io q1 \"write -P 7 0 512\"",
               "wrote 512/512 bytes at offset 0\r\n");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'q1file'}}", "Block device q1file is in use");
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'q1'}}");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'q1file'}}",
                 "Failed to find node with node-name='q1file'");
    /* blkdebug over a format, and a format over blkdebug. */
    g_free(cmd);
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'blkdebug', 'node-name': 'bd', "
                          "'config': '%s', 'image': {'driver': 'raw', "
                          "'file': {'driver': 'file', 'filename': '%s'}}}}",
                          conf, raw);
    expect_ok(vm, cmd);
    expect_hmp(vm, "qemu-io bd \"read -P 2 1024 512\"",
               "read 512/512 bytes at offset 1024\r\n");
    expect_hmp(vm, "qemu-io bd \"read 1536 512\"",
               "read failed: Input/output error\r\n");
    g_free(cmd);
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'qcow2', 'node-name': 'qbd', 'file': "
                          "{'driver': 'blkdebug', 'image': {'driver': "
                          "'file', 'filename': '%s'}}}}", q);
    expect_ok(vm, cmd);
    expect_hmp(vm, "qemu-io qbd \"read -P 7 0 512\"",
               "read 512/512 bytes at offset 0\r\n");
    expect_hmp(vm, "qemu-io qbd \"break read_aio A\"", "");
    expect_hmp(vm, "qemu-io qbd \"read 0 512\"", "read: the request is "
               "held at a breakpoint; it completes when resumed\r\n");
    /* What query-named-block-nodes lists now. */
    JsonNode *r = cmd_ok(vm, "{'execute': 'query-named-block-nodes'}");
    JsonArray *list = json_node_get_array(kqmp_return(r));
    JsonObject *n = find(list, "node-name", "qbd");
    g_assert_cmpstr(str(n, "drv"), ==, "qcow2");
    g_assert_cmpstr(str(obj(n, "image"), "format"), ==, "qcow2");
    n = find(list, "node-name", "n1");
    g_assert_cmpstr(str(n, "drv"), ==, "null-co");
    g_assert_cmpint(num(obj(n, "image"), "virtual-size"), ==, 8192);
    json_node_unref(r);
    /* A node's name is free again once it is gone. */
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'n1'}}");
    expect_ok(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
              "'null-co', 'node-name': 'n1'}}");

    /* Errors, QEMU's messages where it has them. */
    static const char *const errors[][2] = {
        { "{'driver': 'raw', 'node-name': 'drive0', 'file': {'driver': "
          "'null-co'}}", "Duplicate nodes with node-name='drive0'" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': {'driver': "
          "'null-co', 'node-name': 'x'}}",
          "Duplicate nodes with node-name='x'" },
        { "{'driver': 'null-co', 'node-name': 'drv'}",
          "node-name=drv is conflicting with a device id" },
        { "{'driver': 'raw', 'file': 'f1'}",
          "'node-name' must be specified for the root node" },
        { "{'node-name': 'x'}", "Parameter 'driver' is missing" },
        { "{'driver': 'bogus', 'node-name': 'x'}",
          "Parameter 'driver' does not accept value 'bogus'" },
        { "{'driver': 'file', 'node-name': 'x'}",
          "Parameter 'filename' is missing" },
        { "{'driver': 'file', 'node-name': 'x', 'filename': '/nonexistent'}",
          "Could not open '/nonexistent': No such file or directory" },
        { "{'driver': 'file', 'node-name': 'x', 'filename': 'f', "
          "'bogus': 1}", "Parameter 'bogus' is unexpected" },
        { "{'driver': 'file', 'node-name': 'x', 'filename': 3}",
          "Invalid parameter type for 'filename', expected: string" },
        { "{'driver': 'null-co', 'node-name': '1x'}",
          "Invalid node-name: '1x'" },
        { "{'driver': 'null-co', 'node-name': 'x', 'size': -1}",
          "Parameter 'size' expects a size in bytes" },
        { "{'driver': 'null-co', 'node-name': 'x', 'read-zeroes': 'on'}",
          "Invalid parameter type for 'read-zeroes', expected: boolean" },
        { "{'driver': 'null-co', 'node-name': 'x', 'cache': 1}",
          "Invalid parameter type for 'cache', expected: object" },
        { "{'driver': 'null-co', 'node-name': 'x', 'cache': {'direct': "
          "true, 'no-flush': true}}", "cache.no-flush=on is not supported" },
        { "{'driver': 'null-co', 'node-name': 'x', 'discard': 'maybe'}",
          "Parameter 'discard' does not accept value 'maybe'" },
        { "{'driver': 'raw', 'node-name': 'x'}",
          "Parameter 'file' is missing" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': 'nonode'}",
          "Cannot find device='nonode' nor node-name='nonode'" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': 'drv'}",
          "Cannot find device='drv' nor node-name='drv'" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': 'used'}",
          "node 'used' is already in use" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': 'drive0'}",
          "a raw node cannot go on a raw node" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': {'filename': 'f'}}",
          "Parameter 'file.driver' is missing" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': {'driver': "
          "'null-co', 'bogus': 'y'}}", "Parameter 'file.bogus' is unexpected" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': {'driver': "
          "'null-co', 'read-zeroes': 1}}",
          "Invalid parameter type for 'file.read-zeroes', expected: boolean" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': 7}",
          "Invalid parameter type for 'file', expected: string or object" },
        { "{'driver': 'raw', 'node-name': 'x', 'file': {'driver': "
          "'null-co', 'read-only': true}}",
          "file.read-only=on: the raw node needs read-only=on" },
        { "{'driver': 'qcow2', 'node-name': 'x', 'file': {'driver': "
          "'null-co'}}", "only format raw can be used on null-co" },
        { "{'driver': 'blkdebug', 'node-name': 'x', 'image': {'driver': "
          "'blkdebug', 'image': {'driver': 'null-co'}}}",
          "a blkdebug node cannot go on a blkdebug node" },
        { "{'driver': 'blkdebug', 'node-name': 'x', 'image': {'driver': "
          "'raw', 'file': {'driver': 'blkdebug', 'image': {'driver': "
          "'null-co'}}}}", "image: a blkdebug node cannot go on a raw node" },
        { "{'driver': 'blkdebug', 'node-name': 'x', 'config': '/nonexistent', "
          "'image': {'driver': 'null-co'}}",
          "Could not read blkdebug config file" },
        { "{'driver': 'blkdebug', 'node-name': 'x', 'image': {'driver': "
          "'null-co'}, 'align': 1000}", "Cannot meet constraints with align "
          "1000" },
        { "{'driver': 'blkdebug', 'node-name': 'x', 'image': {'driver': "
          "'null-co'}, 'align': '4k'}",
          "Invalid parameter type for 'align', expected: integer" },
        { "{'driver': 'qcow2', 'node-name': 'x', 'backing': 'nope', "
          "'file': {'driver': 'null-co'}}",
          "Could not open backing file: Cannot find device='nope' nor "
          "node-name='nope'" },
        { "{'driver': 'qcow2', 'node-name': 'x', 'backing': 5, "
          "'file': {'driver': 'null-co'}}",
          "Invalid parameter type for 'backing', expected: "
          "BlockdevRefOrNull" },
        { "{'driver': 'qcow2', 'node-name': 'x', 'backing': {'driver': "
          "'null-co'}, 'file': {'driver': 'null-co'}}",
          "kestrel takes backing as an existing node's name or null" },
        { "{'driver': 'raw', 'node-name': 'x', 'backing': 'used', "
          "'file': {'driver': 'null-co'}}", "Parameter 'backing' is "
          "unexpected" },
        { "{'driver': 'qcow2', 'node-name': 'x', 'backing': 'drv', "
          "'file': {'driver': 'null-co'}}",
          "a -drive cannot be a backing node in kestrel" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(errors); i++) {
        g_autofree char *c = g_strdup_printf("{'execute': 'blockdev-add', "
                                             "'arguments': %s}", errors[i][0]);
        expect_error(vm, c, errors[i][1]);
    }
    /* None of them left a node behind. */
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'x'}}", "Failed to find node with "
                 "node-name='x'");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'used'}}", "Node used is in use");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'drv'}}",
                 "Failed to find node with node-name='drv'");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': {}}",
                 "Parameter 'node-name' is missing");
    /* Deleting a node drains it: the held request goes on. */
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'qbd'}}");
    kqmp_vm_quit(vm);
    unlink(raw);
    unlink(q);
    unlink(conf);
}

/* A read of sector 0 by PIO on ide.0 unit 0: the status it ends with. */
static uint8_t read_sector0(QTS *s)
{
    uint8_t st;
    qts_outb(s, PRI + 6, 0xe0);
    qts_outb(s, PRI + 2, 1);
    qts_outb(s, PRI + 3, 0);
    qts_outb(s, PRI + 4, 0);
    qts_outb(s, PRI + 5, 0);
    qts_outb(s, PRI + 7, 0x20);
    while ((st = qts_inb(s, PRI_CTL)) & 0x80) {
        g_usleep(100);
    }
    if (st & 0x08) {
        for (int i = 0; i < 256; i++) {
            qts_inw(s, PRI);
        }
    }
    return st;
}

static void test_drive_add_del(void)
{
    /* QEMU's drive_del-test without-dev: the id can be used again. */
    KQmpVm vm = kqmp_vm_startf("-drive if=none,id=drive0");
    JsonNode *r = cmd_ok(vm, "{'execute': 'query-block'}");
    g_assert_cmpuint(json_array_get_length(json_node_get_array(
        kqmp_return(r))), ==, 1);
    json_node_unref(r);
    expect_hmp(vm, "drive_del drive0", "");
    r = cmd_ok(vm, "{'execute': 'query-block'}");
    g_assert_cmpuint(json_array_get_length(json_node_get_array(
        kqmp_return(r))), ==, 0);
    json_node_unref(r);
    expect_hmp(vm, "drive_add 0 if=none,id=drive0", "OK\r\n");
    expect_hmp(vm, "drive_add 0 if=none,id=drive0",
               "Duplicate ID 'drive0' for drive\r\n");
    expect_hmp(vm, "drive_add -n 0 if=none,id=d1,file=null-co://,"
               "file.read-zeroes=on,file.size=64k,format=raw", "OK\r\n");
    expect_hmp(vm, "qemu-io d1 \"read -P 0 0 65536\"",
               "read 65536/65536 bytes at offset 0\r\n");
    expect_hmp(vm, "drive_add 0 if=none", "OK\r\n");   /* named none0 */
    expect_hmp(vm, "drive_add 0 if=none,id=none0",
               "Duplicate ID 'none0' for drive\r\n");
    expect_hmp(vm, "drive_add 0 file=null-co://",
               "Can't hot-add drive to type ide (only if=none)\r\n");
    expect_hmp(vm, "drive_add 0 if=pflash,file=null-co://",
               "Can't hot-add drive to type pflash (only if=none)\r\n");
    expect_hmp(vm, "drive_add 0 if=none,id=x,file=/nonexistent",
               "Could not open '/nonexistent': No such file or directory"
               "\r\n");
    expect_hmp(vm, "drive_add 0 if=none,id=x,bogus=1",
               "Invalid parameter 'bogus' for -drive\r\n");
    expect_hmp(vm, "drive_add 0 if=none,id=1x",
               "invalid id '1x' (a letter, then letters, digits, '-', '.', "
               "'_')\r\n");
    expect_hmp(vm, "drive_add", "drive_add: string expected\r\n"
               "Try \"help drive_add\" for more information\r\n");
    expect_hmp(vm, "drive_add 0", "drive_add: string expected\r\n"
               "Try \"help drive_add\" for more information\r\n");
    expect_hmp(vm, "drive_add 0 if=none,id=y extra",
               "drive_add: extraneous characters at the end of line\r\n"
               "Try \"help drive_add\" for more information\r\n");
    expect_hmp(vm, "drive_del", "drive_del: block device name expected\r\n"
               "Try \"help drive_del\" for more information\r\n");
    expect_hmp(vm, "drive_del a b", "drive_del: extraneous characters at "
               "the end of line\r\nTry \"help drive_del\" for more "
               "information\r\n");
    expect_hmp(vm, "drive_del x", "Device 'x' not found\r\n");
    expect_hmp(vm, "drive_del d1", "");
    expect_hmp(vm, "qemu-io d1 \"read 0 512\"",
               "Error: Cannot find device='d1' nor node-name='d1'\r\n");
    kqmp_vm_quit(vm);

    /* A drive a device uses: the device keeps a backend without a medium
     * or a name, and the id stays taken while the device lives (QEMU). */
    g_autofree char *raw = make_raw("dd-raw.img");
    vm = kqmp_vm_startf("-drive if=none,id=d0,file=%s,format=raw "
               "-device ide-hd,drive=d0,id=hd,bus=ide.0,unit=0 "
               "-drive if=none,id=c0,file=%s,format=raw,media=cdrom "
               "-device ide-cd,drive=c0,id=cd,bus=ide.1,unit=0 "
               "-blockdev null-co,node-name=n "
               "-device ide-hd,drive=n,bus=ide.0,unit=1 "
               "-blockdev null-co,node-name=free", raw, raw);
    g_assert_cmphex(read_sector0(vm.qts), ==, 0x58);
    expect_hmp(vm, "drive_del d0", "");
    expect_hmp(vm, "drive_del c0", "");
    expect_hmp(vm, "drive_del n", "Node n is in use\r\n");
    expect_hmp(vm, "drive_del free", "");          /* as blockdev-del */
    r = cmd_ok(vm, "{'execute': 'query-block'}");
    JsonArray *list = json_node_get_array(kqmp_return(r));
    static const char *const gone_hd[] = {
        "device", "qdev", "type", "removable", "locked", NULL,
    };
    static const char *const gone_cd[] = {
        "device", "qdev", "type", "removable", "locked", "tray_open", NULL,
    };
    JsonObject *b = find(list, "qdev", "hd");
    assert_members(b, gone_hd);
    g_assert_cmpstr(str(b, "device"), ==, "");
    b = find(list, "qdev", "cd");
    assert_members(b, gone_cd);
    g_assert_false(flag(b, "tray_open"));
    json_node_unref(r);
    /* The guest's disk has no medium: the read fails. */
    g_assert_cmphex(read_sector0(vm.qts) & 0x01, ==, 0x01);
    expect_hmp(vm, "drive_add 0 if=none,id=d0",
               "Duplicate ID 'd0' for drive\r\n");
    expect_hmp(vm, "drive_del d0", "Device 'd0' not found\r\n");
    expect_hmp(vm, "drive_add 0 if=none,id=n",
               "Device name 'n' conflicts with an existing node name\r\n");
    kqmp_vm_quit(vm);
    unlink(raw);

    /* ... until the device goes (QEMU's drive_del_device_del). */
    vm = kqmp_vm_startf("-drive if=none,id=d,file=null-co://,format=raw "
               "-device virtio-scsi-pci -device scsi-hd,drive=d,id=dev0");
    expect_hmp(vm, "drive_del d", "");
    expect_hmp(vm, "drive_add 0 if=none,id=d",
               "Duplicate ID 'd' for drive\r\n");
    expect_ok(vm, "{'execute': 'device_del', 'arguments': {'id': 'dev0'}}");
    json_node_unref(kqmp_event(vm.qmp, "DEVICE_DELETED"));
    expect_hmp(vm, "drive_add 0 if=none,id=d", "OK\r\n");
    /* A blockdev-add node on a hot-plugged disk: in use until it goes. */
    expect_ok(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
              "'null-co', 'node-name': 'hot'}}");
    expect_ok(vm, "{'execute': 'device_add', 'arguments': {'driver': "
              "'scsi-hd', 'drive': 'hot', 'id': 'dev1'}}");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'hot'}}", "Node hot is in use");
    expect_ok(vm, "{'execute': 'device_del', 'arguments': {'id': 'dev1'}}");
    json_node_unref(kqmp_event(vm.qmp, "DEVICE_DELETED"));
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'hot'}}");
    kqmp_vm_quit(vm);
}

/*
 * qcow2 over an existing node (QEMU's qos-test iothread-attach-node):
 * backing=NODE shares the node's image, even one a device uses, and keeps
 * the node from going; backing=null opens none.
 */
static void test_backing_node(void)
{
    g_autofree char *raw = make_raw("bn-raw.img");
    g_autofree char *ov = path_of("bn-ov.qcow2");
    g_autofree char *ov2 = path_of("bn-ov2.qcow2");
    g_autofree char *chained = path_of("bn-chained.qcow2");
    g_autofree char *args = g_strdup_printf("create -f qcow2 %s 1M", ov);
    g_autofree char *cmd = NULL;

    run_tool(args);
    g_free(args);
    args = g_strdup_printf("create -f qcow2 %s 1M", ov2);
    run_tool(args);
    g_free(args);
    args = g_strdup_printf("create -f qcow2 -b %s -F raw %s", raw, chained);
    run_tool(args);
    KQmpVm vm = kqmp_vm_startf("-blockdev driver=raw,node-name=base,file.driver=file,"
                  "file.filename=%s "
                  "-blockdev driver=null-co,read-zeroes=on,node-name=null0 "
                  "-device ide-hd,drive=null0,bus=ide.0,unit=0", raw);

    /* The overlay reads what it has not written from the node. */
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'qcow2', 'node-name': 'overlay', "
                          "'backing': 'base', 'file': {'driver': 'file', "
                          "'filename': '%s'}}}", ov);
    expect_ok(vm, cmd);
    expect_hmp(vm, "qemu-io overlay \"read -P 5 2560 512\"",
               "read 512/512 bytes at offset 2560\r\n");
    expect_hmp(vm, "qemu-io overlay \"write -P 9 2560 512\"",
               "wrote 512/512 bytes at offset 2560\r\n");
    expect_hmp(vm, "qemu-io overlay \"read -P 9 2560 512\"",
               "read 512/512 bytes at offset 2560\r\n");
    expect_hmp(vm, "qemu-io base \"read -P 5 2560 512\"",
               "read 512/512 bytes at offset 2560\r\n");
    /* A device's node: the device keeps working. */
    g_free(cmd);
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'qcow2', 'node-name': 'ov2', "
                          "'backing': 'null0', 'file': {'driver': 'file', "
                          "'filename': '%s'}}}", ov2);
    expect_ok(vm, cmd);
    g_assert_cmphex(read_sector0(vm.qts), ==, 0x58);
    expect_hmp(vm, "qemu-io ov2 \"read -P 0 0 4096\"",
               "read 4096/4096 bytes at offset 0\r\n");
    /* backing=null: not the file the image names. */
    g_free(cmd);
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'qcow2', 'node-name': 'nob', "
                          "'backing': null, 'file': {'driver': 'file', "
                          "'filename': '%s'}}}", chained);
    expect_ok(vm, cmd);
    expect_hmp(vm, "qemu-io nob \"read -P 0 2560 512\"",
               "read 512/512 bytes at offset 2560\r\n");

    JsonNode *r = cmd_ok(vm, "{'execute': 'query-named-block-nodes'}");
    JsonArray *list = json_node_get_array(kqmp_return(r));
    JsonObject *n = find(list, "node-name", "overlay");
    g_assert_cmpstr(str(n, "backing_file"), ==, raw);
    g_assert_cmpint(num(n, "backing_file_depth"), ==, 1);
    g_assert_cmpstr(str(obj(obj(n, "image"), "backing-image"), "filename"),
                    ==, raw);
    n = find(list, "node-name", "ov2");
    g_assert_cmpstr(str(n, "backing_file"), ==, "null-co://");
    n = find(list, "node-name", "nob");
    g_assert_false(json_object_has_member(n, "backing_file"));
    g_assert_cmpint(num(n, "backing_file_depth"), ==, 0);
    json_node_unref(r);

    /* The node cannot go, nor be another node's file, while in use. */
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'base'}}", "Node 'base' is busy: node is "
                 "used as backing hd of 'overlay'");
    expect_hmp(vm, "drive_del base", "Node 'base' is busy: node is used as "
               "backing hd of 'overlay'\r\n");
    expect_error(vm, "{'execute': 'blockdev-add', 'arguments': {'driver': "
                 "'blkdebug', 'node-name': 'bd', 'image': 'base'}}",
                 "node 'base' is the backing node of 'overlay'");
    expect_error(vm, "{'execute': 'blockdev-del', 'arguments': "
                 "{'node-name': 'null0'}}", "Node null0 is in use");
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'overlay'}}");
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'base'}}");
    expect_ok(vm, "{'execute': 'blockdev-del', 'arguments': "
              "{'node-name': 'ov2'}}");
    g_assert_cmphex(read_sector0(vm.qts), ==, 0x58);
    kqmp_vm_quit(vm);
    unlink(raw);
    unlink(ov);
    unlink(ov2);
    unlink(chained);
}

/* blkdebug's align (-drive file.align=, blockdev-add align): unaligned
 * requests are padded and land where they should. */
static void test_blkdebug_align(void)
{
    g_autofree char *raw = make_raw("al-raw.img");
    g_autofree char *cmd = NULL;
    KQmpVm vm = kqmp_vm_startf("-drive if=none,id=d,format=raw,file=blkdebug::%s,"
                  "file.align=4k "
                  "-drive if=none,id=big,format=raw,file=blkdebug::null-co://,"
                  "file.align=64k,file.image.size=9223372036854774784", raw);

    expect_hmp(vm, "qemu-io d \"write -P 0xaa 4608 512\"",
               "wrote 512/512 bytes at offset 4608\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 8 4096 512\"",
               "read 512/512 bytes at offset 4096\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 0xaa 4608 512\"",
               "read 512/512 bytes at offset 4608\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 10 5120 512\"",
               "read 512/512 bytes at offset 5120\r\n");
    expect_hmp(vm, "qemu-io d \"write -z 1000 100\"",
               "wrote 100/100 bytes at offset 1000\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 1 512 488\"",
               "read 488/488 bytes at offset 512\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 0 1000 100\"",
               "read 100/100 bytes at offset 1000\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 2 1100 436\"",
               "read 436/436 bytes at offset 1100\r\n");
    cmd = g_strdup_printf("{'execute': 'blockdev-add', 'arguments': "
                          "{'driver': 'blkdebug', 'node-name': 'b', "
                          "'align': 65536, 'image': {'driver': 'file', "
                          "'filename': '%s'}}}", raw);
    expect_ok(vm, cmd);
    expect_hmp(vm, "qemu-io b \"read -P 0xaa 4608 512\"",
               "read 512/512 bytes at offset 4608\r\n");
    expect_hmp(vm, "qemu-io b \"write -P 0xbb 70000 10\"",
               "wrote 10/10 bytes at offset 70000\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 0xbb 70000 10\"",
               "read 10/10 bytes at offset 70000\r\n");
    expect_hmp(vm, "qemu-io d \"read -P 136 69632 368\"",
               "read 368/368 bytes at offset 69632\r\n");
    /* The last unit of a disk of almost 2^63 bytes: no overflow. */
    expect_hmp(vm, "qemu-io big \"write -P 1 9223372036854774000 100\"",
               "wrote 100/100 bytes at offset 9223372036854774000\r\n");
    expect_hmp(vm, "qemu-io big \"write -z 9223372036854774000 784\"",
               "wrote 784/784 bytes at offset 9223372036854774000\r\n");
    expect_hmp(vm, "qemu-io big \"read -P 0 9223372036854774780 4\"",
               "read 4/4 bytes at offset 9223372036854774780\r\n");
    kqmp_vm_quit(vm);
    unlink(raw);
}

/* -blockdev '{...}': QEMU's JSON form, the same options. */
static void test_blockdev_json(void)
{
    KQmpVm vm = kqmp_vm_startf("-blockdev {\"driver\":\"raw\",\"node-name\":\"j\","
                  "\"file\":{\"driver\":\"null-co\",\"size\":65536}} "
                  "-device ide-hd,drive=j,id=disk");
    JsonNode *r = cmd_ok(vm, "{'execute': 'query-block'}");
    JsonObject *b = find(json_node_get_array(kqmp_return(r)), "qdev", "disk");
    g_assert_cmpstr(str(obj(b, "inserted"), "node-name"), ==, "j");
    g_assert_cmpint(num(obj(obj(b, "inserted"), "image"), "virtual-size"), ==,
                    65536);
    json_node_unref(r);
    kqmp_vm_quit(vm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    dir = g_dir_make_tmp("kestrel-block-qmp-XXXXXX", NULL);
    g_test_add_func("/block-qmp/query-block", test_query_block);
    g_test_add_func("/block-qmp/info-block", test_info_block);
    g_test_add_func("/block-qmp/blockdev-add-del", test_blockdev_add);
    g_test_add_func("/block-qmp/drive-add-del", test_drive_add_del);
    g_test_add_func("/block-qmp/blockdev-json", test_blockdev_json);
    g_test_add_func("/block-qmp/backing-node", test_backing_node);
    g_test_add_func("/block-qmp/blkdebug-align", test_blkdebug_align);
    int ret = g_test_run();
    rmdir(dir);
    return ret;
}
