/*
 * A client for the qtest protocol: starts kestrel-system-x86_64 (from
 * $QTEST_QEMU_BINARY) with the qtest accelerator, listens on a unix socket
 * that the emulator connects to, and turns commands and replies into C
 * calls.  Written for kestrel's tests from the protocol description; any
 * failure to talk to the emulator fails the test at once.
 */
#ifndef LIBKQTEST_H
#define LIBKQTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct QTS QTS;

/* Start the emulator with extra arguments (split at spaces). */
QTS *qts_init(const char *args);
QTS *qts_initf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* SIGTERM, then the process must exit with status 0. */
void qts_quit(QTS *s);
/* Wait for the process to end by itself; its wait status. */
int qts_wait_exit(QTS *s);

/* Send one command line; the reply line without '\n' (g_free it).
 * "IRQ ..." lines that arrive meanwhile are recorded, not returned. */
char *qts_cmd(QTS *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Everything received up to and including the reply, IRQ lines too. */
char *qts_cmd_raw(QTS *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Like qts_cmd, asserting the reply is "OK" or starts with "OK ". */
char *qts_ok(QTS *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

void qts_outb(QTS *s, uint16_t port, uint8_t v);
void qts_outw(QTS *s, uint16_t port, uint16_t v);
void qts_outl(QTS *s, uint16_t port, uint32_t v);
uint8_t qts_inb(QTS *s, uint16_t port);
uint16_t qts_inw(QTS *s, uint16_t port);
uint32_t qts_inl(QTS *s, uint16_t port);

void qts_writeb(QTS *s, uint64_t addr, uint8_t v);
void qts_writew(QTS *s, uint64_t addr, uint16_t v);
void qts_writel(QTS *s, uint64_t addr, uint32_t v);
void qts_writeq(QTS *s, uint64_t addr, uint64_t v);
uint8_t qts_readb(QTS *s, uint64_t addr);
uint16_t qts_readw(QTS *s, uint64_t addr);
uint32_t qts_readl(QTS *s, uint64_t addr);
uint64_t qts_readq(QTS *s, uint64_t addr);
/* "read"/"write" (hex) and "b64read"/"b64write" transfers. */
void qts_memread(QTS *s, uint64_t addr, void *buf, size_t len);
void qts_memwrite(QTS *s, uint64_t addr, const void *buf, size_t len);
void qts_bufread(QTS *s, uint64_t addr, void *buf, size_t len);
void qts_bufwrite(QTS *s, uint64_t addr, const void *buf, size_t len);
void qts_memset(QTS *s, uint64_t addr, uint8_t v, size_t len);

/* Virtual clock: step by ns (or to the next deadline with ns < 0), set. */
int64_t qts_clock_step(QTS *s, int64_t ns);
int64_t qts_clock_set(QTS *s, int64_t ns);

/* Interrupt lines of one device, reported as "IRQ raise/lower N". */
void qts_irq_intercept_in(QTS *s, const char *path);
void qts_irq_intercept_out(QTS *s, const char *path);
bool qts_get_irq(QTS *s, int n);
/* Rising edges seen on line n since the last qts_irq_reset_count(). */
unsigned qts_irq_raised(QTS *s, int n);
void qts_irq_reset_count(QTS *s);
void qts_set_irq_in(QTS *s, const char *path, const char *name, int n,
                    int level);

/* Common PC helpers */
uint8_t qts_cmos_read(QTS *s, uint8_t reg);
void qts_cmos_write(QTS *s, uint8_t reg, uint8_t v);
uint32_t qts_pci_cfg_read(QTS *s, int dev, int fn, int reg, int size);
void qts_pci_cfg_write(QTS *s, int dev, int fn, int reg, int size,
                       uint32_t v);

#endif
