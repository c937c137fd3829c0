/*
 * pvpanic (QEMU's docs/specs/pvpanic.rst) and -action: the port's value,
 * what a panic does for each panic= action (events, run state, cont, exit
 * status), crash-loaded, the fw_cfg file SeaBIOS reads, reboot= and
 * shutdown=, and malformed -action and -device values.
 */
#include "libkqtest.h"
#include "libkqmp.h"
#include <sys/wait.h>

#define PORT 0x505

/* kestrel with a QMP client on it. */
/* Wait for GUEST_PANICKED (or another event) and check its action. */
static void expect_event(KQmpVm vm, const char *name, const char *action)
{
    JsonNode *ev = kqmp_event(vm.qmp, name);
    g_assert_cmpstr(kqmp_event_data_str(ev, "action"), ==, action);
    json_node_unref(ev);
}

static void expect_status(KQmpVm vm, const char *status)
{
    JsonNode *r = kqmp_cmd(vm.qmp, "{'execute': 'query-status'}");
    g_assert_cmpstr(kqmp_return_str(r, "status"), ==, status);
    json_node_unref(r);
}

/* No such event arrived before the reply to a query (a sync point). */
static void expect_no_event(KQmpVm vm, const char *name)
{
    json_node_unref(kqmp_cmd(vm.qmp, "{'execute': 'query-status'}"));
    JsonNode *ev = kqmp_take_event(vm.qmp, name);
    g_assert_null(ev);
}

static void test_read(void)
{
    KQmpVm vm = kqmp_vm_start("-device pvpanic");
    g_assert_cmphex(qts_inb(vm.qts, PORT), ==, 3);
    kqmp_vm_quit(vm);
    vm = kqmp_vm_start("-device pvpanic,ioport=0x600,events=1");
    g_assert_cmphex(qts_inb(vm.qts, 0x600), ==, 1);
    g_assert_cmphex(qts_inb(vm.qts, PORT), ==, 0xff);     /* nothing there */
    kqmp_vm_quit(vm);
}

/* pause: the VM stops in guest-panicked, and cont carries on. */
static void test_pause(void)
{
    KQmpVm vm = kqmp_vm_start("-device pvpanic -action panic=pause");
    qts_outb(vm.qts, PORT, 1);
    expect_event(vm, "GUEST_PANICKED", "pause");
    json_node_unref(kqmp_event(vm.qmp, "STOP"));
    expect_status(vm, "guest-panicked");
    json_node_unref(kqmp_return(kqmp_cmd(vm.qmp, "{'execute': 'cont'}")));
    json_node_unref(kqmp_event(vm.qmp, "RESUME"));
    expect_status(vm, "running");
    kqmp_vm_quit(vm);
}

/* A VM that is not running keeps its state (QEMU does the same). */
static void test_pause_prelaunch(void)
{
    KQmpVm vm = kqmp_vm_start("-device pvpanic -action panic=pause -S");
    qts_outb(vm.qts, PORT, 1);
    expect_event(vm, "GUEST_PANICKED", "pause");
    expect_status(vm, "prelaunch");
    expect_no_event(vm, "STOP");
    kqmp_vm_quit(vm);
}

/* none: only the event; the last -action value counts. */
static void test_none(void)
{
    KQmpVm vm = kqmp_vm_start("-device pvpanic -action panic=pause,panic=none");
    qts_outb(vm.qts, PORT, 1);
    expect_event(vm, "GUEST_PANICKED", "run");
    expect_status(vm, "running");
    expect_no_event(vm, "STOP");
    kqmp_vm_quit(vm);
}

/* shutdown (the default): SHUTDOWN and exit 0; exit-failure: status 1. */
static void check_poweroff(const char *args, int exit_status)
{
    KQmpVm vm = kqmp_vm_start(args);
    qts_outb(vm.qts, PORT, 1);
    expect_event(vm, "GUEST_PANICKED", "poweroff");
    JsonNode *ev = kqmp_event(vm.qmp, "SHUTDOWN");
    g_assert_cmpstr(kqmp_event_data_str(ev, "reason"), ==, "guest-panic");
    json_node_unref(ev);
    int status = qts_wait_exit(vm.qts);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, exit_status);
    kqmp_free(vm.qmp);
}

static void test_shutdown(void)
{
    check_poweroff("-device pvpanic", 0);
    check_poweroff("-device pvpanic -action panic=shutdown", 0);
}

static void test_exit_failure(void)
{
    check_poweroff("-device pvpanic -action panic=exit-failure", 1);
}

/* -no-shutdown (shutdown=pause) turns panic=shutdown into a pause. */
static void test_shutdown_paused(void)
{
    KQmpVm vm = kqmp_vm_start("-device pvpanic -no-shutdown");
    qts_outb(vm.qts, PORT, 1);
    expect_event(vm, "GUEST_PANICKED", "pause");
    expect_status(vm, "guest-panicked");
    kqmp_vm_quit(vm);
    vm = kqmp_vm_start("-device pvpanic -action shutdown=pause");
    qts_outb(vm.qts, PORT, 1);
    expect_event(vm, "GUEST_PANICKED", "pause");
    expect_status(vm, "guest-panicked");
    kqmp_vm_quit(vm);
}

/* Bit 1: an event, the guest runs on; bits the device lacks: nothing. */
static void test_crashloaded(void)
{
    KQmpVm vm = kqmp_vm_start("-device pvpanic -action panic=pause");
    qts_outb(vm.qts, PORT, 2);
    expect_event(vm, "GUEST_CRASHLOADED", "run");
    expect_status(vm, "running");
    qts_outb(vm.qts, PORT, 4);
    expect_no_event(vm, "GUEST_PANICKED");
    expect_no_event(vm, "GUEST_CRASHLOADED");
    kqmp_vm_quit(vm);
    vm = kqmp_vm_start("-device pvpanic,events=1 -action panic=pause");
    qts_outb(vm.qts, PORT, 2);
    expect_no_event(vm, "GUEST_CRASHLOADED");
    expect_status(vm, "running");
    kqmp_vm_quit(vm);
}

/* fw_cfg "etc/pvpanic-port": the port, 16-bit little-endian. */
static int fw_cfg_pvpanic_port(QTS *s)
{
    uint8_t buf[64];

    qts_outw(s, 0x510, 0x19);               /* the file directory */
    uint32_t count = 0;
    for (int i = 0; i < 4; i++) {
        count = count << 8 | qts_inb(s, 0x511);
    }
    for (uint32_t f = 0; f < count; f++) {
        for (int i = 0; i < 64; i++) {
            buf[i] = qts_inb(s, 0x511);
        }
        if (!strcmp((char *)buf + 8, "etc/pvpanic-port")) {
            g_assert_cmpuint(buf[3], ==, 2);     /* size, big-endian */
            qts_outw(s, 0x510, buf[4] << 8 | buf[5]);
            int lo = qts_inb(s, 0x511);
            return lo | qts_inb(s, 0x511) << 8;
        }
    }
    return -1;
}

static void test_fw_cfg(void)
{
    KQmpVm vm = kqmp_vm_start("");
    g_assert_cmpint(fw_cfg_pvpanic_port(vm.qts), ==, -1);
    kqmp_vm_quit(vm);
    vm = kqmp_vm_start("-device pvpanic");
    g_assert_cmpint(fw_cfg_pvpanic_port(vm.qts), ==, PORT);
    kqmp_vm_quit(vm);
    vm = kqmp_vm_start("-device pvpanic,ioport=0x600");
    g_assert_cmpint(fw_cfg_pvpanic_port(vm.qts), ==, 0x600);
    kqmp_vm_quit(vm);
}

/* reboot=shutdown is -no-reboot: a guest reset (port 0x92) ends the VM;
 * with shutdown=pause as well it stops in "shutdown". */
static void test_reboot_shutdown(void)
{
    KQmpVm vm = kqmp_vm_start("-action reboot=shutdown");
    qts_outb(vm.qts, 0x92, 1);
    JsonNode *ev = kqmp_event(vm.qmp, "SHUTDOWN");
    g_assert_cmpstr(kqmp_event_data_str(ev, "reason"), ==, "guest-reset");
    json_node_unref(ev);
    int status = qts_wait_exit(vm.qts);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    kqmp_free(vm.qmp);

    vm = kqmp_vm_start("-action reboot=shutdown,shutdown=pause");
    qts_outb(vm.qts, 0x92, 1);
    json_node_unref(kqmp_event(vm.qmp, "SHUTDOWN"));
    expect_status(vm, "shutdown");
    kqmp_vm_quit(vm);

    vm = kqmp_vm_start("-no-reboot -action reboot=reset");
    qts_outb(vm.qts, 0x92, 1);
    json_node_unref(kqmp_event(vm.qmp, "RESET"));
    expect_status(vm, "running");
    kqmp_vm_quit(vm);
}

/* Malformed: one error line naming the problem, status 1. */
static void test_bad_options(void)
{
    static const struct {
        const char *args, *error;
    } cases[] = {
        { "-action panic=foo", "-action panic=foo: expected one of "
          "shutdown, pause, exit-failure, none" },
        { "-action reboot=halt", "expected one of reset, shutdown" },
        { "-action shutdown=x", "expected one of poweroff, pause" },
        { "-action watchdog=bark", "expected one of reset, shutdown, "
          "poweroff, pause, debug, none, inject-nmi" },
        { "-action panic", "-action panic=on: expected one of" },
        { "-action colour=red", "Invalid parameter 'colour'" },
        { "-action panic=pause,", "Invalid parameter ''" },
        { "-device pvpanic,events=4", "only bits 0 (panicked) and 1" },
        { "-device pvpanic,ioport=0x10000", "ioport" },
    };
    const char *binary = g_getenv("QTEST_QEMU_BINARY");

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *cmd = g_strdup_printf("%s -machine accel=qtest "
                                               "-display none %s", binary,
                                               cases[i].args);
        g_auto(GStrv) argv = g_strsplit(cmd, " ", 0);
        g_autofree char *out = NULL, *err = NULL;
        int status;
        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL,
                                   NULL, &out, &err, &status, NULL));
        g_test_message("%s: %s", cases[i].args, err);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        g_assert_nonnull(strstr(err, cases[i].error));
        g_assert_cmpstr(out, ==, "");
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pvpanic/read", test_read);
    g_test_add_func("/pvpanic/pause", test_pause);
    g_test_add_func("/pvpanic/pause-prelaunch", test_pause_prelaunch);
    g_test_add_func("/pvpanic/none", test_none);
    g_test_add_func("/pvpanic/shutdown", test_shutdown);
    g_test_add_func("/pvpanic/exit-failure", test_exit_failure);
    g_test_add_func("/pvpanic/shutdown-paused", test_shutdown_paused);
    g_test_add_func("/pvpanic/crashloaded", test_crashloaded);
    g_test_add_func("/pvpanic/fw-cfg", test_fw_cfg);
    g_test_add_func("/action/reboot", test_reboot_shutdown);
    g_test_add_func("/action/bad", test_bad_options);
    return g_test_run();
}
