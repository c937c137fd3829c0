/*
 * QMP around the machine's life: --preconfig (prelaunch with no board,
 * only the commands QEMU allows then, x-exit-preconfig builds and starts
 * it, -S, quit, the HMP side), qom-set's checks, and -cpu with properties
 * on -machine none (QEMU's machine-none-test).
 */
#include "libkqtest.h"
#include "libkqmp.h"
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *status(KQmpVm vm)
{
    static char buf[32];
    JsonNode *r = kqmp_cmd(vm.qmp, "{'execute': 'query-status'}");
    g_strlcpy(buf, kqmp_return_str(r, "status"), sizeof(buf));
    json_node_unref(r);
    return buf;
}

/* A GenericError whose description contains text. */
static void expect_error(JsonNode *reply, const char *cls, const char *text)
{
    const char *desc = NULL;
    g_assert_cmpstr(kqmp_error(reply, &desc), ==, cls);
    g_assert_nonnull(strstr(desc, text));
    json_node_unref(reply);
}

static void expect_return(JsonNode *reply)
{
    kqmp_return(reply);
    json_node_unref(reply);
}

/* fw_cfg's signature: "Q" once the board exists, nothing before. */
static uint8_t fw_cfg_signature(KQmpVm vm)
{
    qts_outw(vm.qts, 0x510, 0);
    return qts_inb(vm.qts, 0x511);
}

static void test_preconfig(void)
{
    KQmpVm vm = kqmp_vm_start("--preconfig");

    g_assert_cmpstr(status(vm), ==, "prelaunch");
    g_assert_cmphex(fw_cfg_signature(vm), ==, 0xff);
    /* What needs a machine waits for it; introspection does not. */
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'query-cpus-fast'}"),
                 "GenericError", "not available before the machine is built");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'cont'}"),
                 "GenericError", "x-exit-preconfig first");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'human-monitor-command', "
                          "'arguments': {'command-line': 'info status'}}"),
                 "GenericError", "not available");
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'query-commands'}"));
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'query-version'}"));
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'qom-list', "
                           "'arguments': {'path': '/machine'}}"));
    g_assert_null(kqmp_take_event(vm.qmp, "RESUME"));

    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'x-exit-preconfig'}"));
    json_node_unref(kqmp_event(vm.qmp, "RESUME"));
    g_assert_cmpstr(status(vm), ==, "running");
    g_assert_cmphex(fw_cfg_signature(vm), ==, 'Q');
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'query-cpus-fast'}"));
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'x-exit-preconfig'}"),
                 "GenericError", "only for --preconfig");
    kqmp_vm_quit(vm);
}

/* Without --preconfig the machine is built: x-exit-preconfig refuses. */
static void test_exit_preconfig_late(void)
{
    KQmpVm vm = kqmp_vm_start("");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'x-exit-preconfig'}"),
                 "GenericError", "built already");
    kqmp_vm_quit(vm);
}

/* With -S the built machine waits in prelaunch for cont. */
static void test_preconfig_paused(void)
{
    KQmpVm vm = kqmp_vm_start("-preconfig -S");
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'x-exit-preconfig'}"));
    g_assert_cmpstr(status(vm), ==, "prelaunch");
    g_assert_null(kqmp_take_event(vm.qmp, "RESUME"));
    g_assert_cmphex(fw_cfg_signature(vm), ==, 'Q');
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'cont'}"));
    json_node_unref(kqmp_event(vm.qmp, "RESUME"));
    g_assert_cmpstr(status(vm), ==, "running");
    kqmp_vm_quit(vm);
}

static void test_preconfig_quit(void)
{
    KQmpVm vm = kqmp_vm_start("--preconfig");
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'quit'}"));
    int st = qts_wait_exit(vm.qts);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    kqmp_free(vm.qmp);
}

/* ---- HMP over a socket ---- */

/* Send a line (or nothing) and read up to the next prompt. */
static char *hmp(int fd, const char *line)
{
    GString *out = g_string_new(NULL);
    if (line) {
        g_autofree char *l = g_strconcat(line, "\n", NULL);
        g_assert_cmpint(write(fd, l, strlen(l)), ==, (ssize_t)strlen(l));
    }
    while (!g_str_has_suffix(out->str, "(qemu) ")) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        g_assert_cmpint(poll(&p, 1, 60000), ==, 1);
        char buf[1024];
        ssize_t n = read(fd, buf, sizeof(buf));
        g_assert_cmpint(n, >, 0);
        g_string_append_len(out, buf, n);
    }
    return g_string_free(out, false);
}

static void test_preconfig_hmp(void)
{
    g_autofree char *dir = g_dir_make_tmp("kqmp-hmp-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "hmp.sock", NULL);
    g_autofree char *args = g_strdup_printf("--preconfig -monitor "
                                            "unix:%s,server,nowait", path);
    QTS *s = qts_initf("-nodefaults %s", args);
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    g_strlcpy(un.sun_path, path, sizeof(un.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&un, sizeof(un)), ==, 0);

    g_free(hmp(fd, NULL));                          /* the banner */
    g_autofree char *reset = hmp(fd, "system_reset");
    g_assert_nonnull(strstr(reset, "'system_reset' is not available"));
    g_autofree char *kvm = hmp(fd, "info kvm");
    g_assert_nonnull(strstr(kvm, "'info kvm' is not available"));
    g_autofree char *before = hmp(fd, "info status");
    g_assert_nonnull(strstr(before, "VM status: paused (prelaunch)"));
    g_free(hmp(fd, "exit_preconfig"));
    g_autofree char *after = hmp(fd, "info status");
    g_assert_nonnull(strstr(after, "VM status: running"));
    g_autofree char *again = hmp(fd, "exit_preconfig");
    g_assert_nonnull(strstr(again, "Error: The machine is built already"));
    close(fd);
    qts_quit(s);
    unlink(path);
    rmdir(dir);
}

/* The process would wait for ever: refused, status 1. */
static void test_preconfig_needs_monitor(void)
{
    g_autofree char *cmd = g_strdup_printf(
        "%s -machine none,accel=qtest -display none --preconfig",
        g_getenv("QTEST_QEMU_BINARY"));
    g_auto(GStrv) argv = g_strsplit(cmd, " ", 0);
    g_autofree char *err = NULL;
    int st;
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &err, &st, NULL));
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 1);
    g_assert_nonnull(strstr(err, "--preconfig: no monitor"));
}

/* ---- qom-set ---- */

static void test_qom_set(void)
{
    KQmpVm vm = kqmp_vm_start("-machine none");
    /* QEMU's qmp-test missing-any-arg: 'value' is required */
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'qom-set', 'arguments': "
                          "{'path': '/machine', 'property': 'rtc-time'}}"),
                 "GenericError", "Parameter 'value' is missing");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'qom-set', 'arguments': "
                          "{'path': '/machine', 'property': 'kernel', "
                          "'value': null}}"),
                 "GenericError", "read-only");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'qom-set', 'arguments': "
                          "{'path': '/machine', 'property': 'nope', "
                          "'value': 1}}"),
                 "GenericError", "'none-machine.nope' not found");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'qom-set', 'arguments': "
                          "{'path': '/nope', 'property': 'x', 'value': 1}}"),
                 "DeviceNotFound", "Device '/nope' not found");
    expect_error(kqmp_cmd(vm.qmp, "{'execute': 'qom-set', 'arguments': "
                          "{'path': 1, 'property': 'x', 'value': 1}}"),
                 "GenericError", "Invalid parameter type for 'path'");
    kqmp_vm_quit(vm);
}

/* ---- -cpu ---- */

/* QEMU's machine-none-test: a CPU property on the empty machine. */
static void test_cpu_option(void)
{
    KQmpVm vm = kqmp_vm_start("-machine none -cpu qemu64,apic-id=0,+sse4.2,-avx");
    expect_return(kqmp_cmd(vm.qmp, "{'execute': 'quit'}"));
    int st = qts_wait_exit(vm.qts);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    kqmp_free(vm.qmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/preconfig/commands", test_preconfig);
    g_test_add_func("/preconfig/late", test_exit_preconfig_late);
    g_test_add_func("/preconfig/paused", test_preconfig_paused);
    g_test_add_func("/preconfig/quit", test_preconfig_quit);
    g_test_add_func("/preconfig/hmp", test_preconfig_hmp);
    g_test_add_func("/preconfig/needs-monitor", test_preconfig_needs_monitor);
    g_test_add_func("/qom-set/checks", test_qom_set);
    g_test_add_func("/cpu/machine-none", test_cpu_option);
    return g_test_run();
}
