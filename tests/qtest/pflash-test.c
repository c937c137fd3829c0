/*
 * -drive if=pflash on the pc: cfi.pflash01 chips below 4 GiB (unit 0 on
 * top, its end also at 0xe0000), read-array, identifier and CFI query
 * reads, the status register, byte program (bits only clear), block erase,
 * write-to-buffer, persistence in the image (raw and qcow2), readonly=on
 * and the read-array mode after a reset.
 */
#include "libkqtest.h"
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE        (128 * 1024)
#define BASE        (0x100000000ULL - SIZE)
#define SECTOR      4096

#define SR_READY    0x80
#define SR_ERASE    0x20
#define SR_PROG     0x10
#define SR_PROT     0x02

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 8)) ^ 0x5a;
}

static char *make_image(size_t size, uint8_t salt)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-pflash-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_autofree uint8_t *buf = g_malloc(size);
    for (size_t i = 0; i < size; i++) {
        buf[i] = pattern(i) ^ salt;
    }
    g_assert_cmpint(write(fd, buf, size), ==, size);
    close(fd);
    return path;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    gchar *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return (uint8_t *)data;
}

static QTS *start(const char *path, const char *extra)
{
    return qts_initf("-nodefaults -drive if=pflash,format=raw,file=%s%s",
                     path, extra);
}

/* The contents below 4 GiB and the last 128 KiB at 0xe0000. */
static void test_read_array(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    QTS *s = start(path, "");
    g_autofree uint8_t *buf = g_malloc(SIZE);

    qts_memread(s, BASE, buf, SIZE);
    for (size_t i = 0; i < SIZE; i++) {
        g_assert_cmphex(buf[i], ==, pattern(i));
    }
    qts_memread(s, 0xe0000, buf, 0x20000);
    for (size_t i = 0; i < 0x20000; i++) {
        g_assert_cmphex(buf[i], ==, pattern(SIZE - 0x20000 + i));
    }
    g_assert_cmphex(qts_readl(s, 0xfffffff0), ==,
                    pattern(SIZE - 16) | pattern(SIZE - 15) << 8 |
                    pattern(SIZE - 14) << 16 |
                    (uint32_t)pattern(SIZE - 13) << 24);
    /* The ISA alias is read-only: a write there is no command. */
    qts_writeb(s, 0xf0000, 0x90);
    g_assert_cmphex(qts_readb(s, BASE), ==, pattern(0));
    g_assert_cmphex(qts_readb(s, 0xf0000), ==, pattern(SIZE - 0x10000));
    qts_quit(s);
    unlink(path);
}

/* Unit 1 sits right below unit 0. */
static void test_two_units(void)
{
    g_autofree char *p0 = make_image(SIZE, 0);
    g_autofree char *p1 = make_image(2 * SECTOR, 0xff);
    QTS *s = qts_initf("-nodefaults -drive if=pflash,format=raw,unit=1,"
                       "file=%s -drive if=pflash,format=raw,unit=0,file=%s",
                       p1, p0);
    g_assert_cmphex(qts_readb(s, BASE), ==, pattern(0));
    g_assert_cmphex(qts_readb(s, BASE - 2 * SECTOR), ==, pattern(0) ^ 0xff);
    g_assert_cmphex(qts_readb(s, BASE - 1), ==,
                    pattern(2 * SECTOR - 1) ^ 0xff);
    /* Commands to one chip leave the other in read-array mode. */
    qts_writeb(s, BASE - 2 * SECTOR, 0x90);
    g_assert_cmphex(qts_readb(s, BASE - 2 * SECTOR), ==, 0x89);
    g_assert_cmphex(qts_readb(s, BASE), ==, pattern(0));
    qts_quit(s);
    unlink(p0);
    unlink(p1);
}

static void test_identify_and_cfi(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    QTS *s = start(path, "");

    qts_writeb(s, BASE, 0x90);
    g_assert_cmphex(qts_readb(s, BASE), ==, 0x89);          /* Intel */
    g_assert_cmphex(qts_readb(s, BASE + 1), ==, 0x18);
    g_assert_cmphex(qts_readb(s, BASE + SECTOR + 2), ==, 0);  /* unlocked */
    qts_writeb(s, BASE, 0xff);
    g_assert_cmphex(qts_readb(s, BASE + 1), ==, pattern(1));

    qts_writeb(s, BASE + 0x55, 0x98);
    g_assert_cmphex(qts_readb(s, BASE + 0x10), ==, 'Q');
    g_assert_cmphex(qts_readb(s, BASE + 0x11), ==, 'R');
    g_assert_cmphex(qts_readb(s, BASE + 0x12), ==, 'Y');
    g_assert_cmphex(qts_readw(s, BASE + 0x13), ==, 0x0001);  /* Intel set */
    g_assert_cmphex(qts_readb(s, BASE + 0x27), ==, 17);      /* 2^17 bytes */
    g_assert_cmphex(qts_readb(s, BASE + 0x2a), ==, 5);       /* 32-B buffer */
    g_assert_cmphex(qts_readb(s, BASE + 0x2c), ==, 1);       /* one region */
    g_assert_cmphex(qts_readw(s, BASE + 0x2d), ==, SIZE / SECTOR - 1);
    g_assert_cmphex(qts_readw(s, BASE + 0x2f), ==, SECTOR / 256);
    g_assert_cmphex(qts_readb(s, BASE + 0x31), ==, 'P');
    /* Read array again; 0x00 is a read-array command too. */
    qts_writeb(s, BASE, 0x00);
    g_assert_cmphex(qts_readb(s, BASE + 0x10), ==, pattern(0x10));
    qts_quit(s);
    unlink(path);
}

static void test_program_erase(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    QTS *s = start(path, "");
    uint64_t a = BASE + 0x1234;

    qts_writeb(s, BASE, 0x70);
    g_assert_cmphex(qts_readb(s, BASE + 99), ==, SR_READY);
    qts_writeb(s, BASE, 0x50);              /* clear status, read array */
    g_assert_cmphex(qts_readb(s, a), ==, pattern(0x1234));
    qts_writeb(s, BASE, 0x70);
    g_assert_cmphex(qts_readb(s, BASE), ==, 0);

    /* Programming only clears bits. */
    uint8_t old = pattern(0x1234);
    qts_writeb(s, a, 0x40);
    qts_writeb(s, a, 0x3c);
    g_assert_cmphex(qts_readb(s, a), ==, SR_READY);     /* status mode */
    qts_writeb(s, a, 0xff);
    g_assert_cmphex(qts_readb(s, a), ==, old & 0x3c);
    qts_writeb(s, a, 0x10);
    qts_writeb(s, a, 0xff);                 /* sets nothing */
    qts_writeb(s, a, 0xff);
    g_assert_cmphex(qts_readb(s, a), ==, old & 0x3c);
    g_assert_cmphex(qts_readb(s, a + 1), ==, pattern(0x1235));

    /* Block erase: the whole 4 KiB block, nothing around it. */
    qts_writeb(s, a, 0x20);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY);
    qts_writeb(s, a, 0xd0);
    g_assert_cmphex(qts_readb(s, a), ==, SR_READY);
    qts_writeb(s, a, 0xff);
    g_autofree uint8_t *buf = g_malloc(3 * SECTOR);
    qts_memread(s, BASE, buf, 3 * SECTOR);
    for (size_t i = 0; i < 3 * SECTOR; i++) {
        g_assert_cmphex(buf[i], ==, i >= SECTOR && i < 2 * SECTOR ?
                        0xff : pattern(i));
    }
    /* Erase without 0xd0: a command sequence error, nothing erased. */
    qts_writeb(s, BASE, 0x20);
    qts_writeb(s, BASE, 0x55);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY | SR_ERASE | SR_PROG);
    qts_writeb(s, BASE, 0x50);
    g_assert_cmphex(qts_readb(s, BASE), ==, pattern(0));
    /* Lock and unlock are accepted. */
    qts_writeb(s, BASE, 0x60);
    qts_writeb(s, BASE, 0x01);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY);
    qts_writeb(s, BASE, 0x60);
    qts_writeb(s, BASE, 0xd0);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY);
    qts_quit(s);
    unlink(path);
}

static void test_write_buffer(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    QTS *s = start(path, "");
    uint64_t blk = BASE + 5 * SECTOR;

    /* Erase the block, then write 20 bytes at offset 0x100 in one go. */
    qts_writeb(s, blk, 0x20);
    qts_writeb(s, blk, 0xd0);
    qts_writeb(s, blk, 0xe8);
    g_assert_cmphex(qts_readb(s, blk), ==, SR_READY);   /* buffer free */
    qts_writeb(s, blk, 19);
    for (int i = 0; i < 20; i++) {
        qts_writeb(s, blk + 0x100 + i, 0xa0 + i);
    }
    /* Nothing is programmed before the confirm. */
    qts_writeb(s, blk, 0xd0);
    g_assert_cmphex(qts_readb(s, blk), ==, SR_READY);
    qts_writeb(s, blk, 0xff);
    for (int i = 0; i < 20; i++) {
        g_assert_cmphex(qts_readb(s, blk + 0x100 + i), ==, 0xa0 + i);
    }
    g_assert_cmphex(qts_readb(s, blk + 0x100 + 20), ==, 0xff);
    g_assert_cmphex(qts_readb(s, blk + 0xff), ==, 0xff);

    /* A buffer not confirmed with 0xd0 programs nothing. */
    qts_writeb(s, blk, 0xe8);
    qts_writeb(s, blk, 0);
    qts_writeb(s, blk + 0x200, 0x00);
    qts_writeb(s, blk, 0x70);
    g_assert_cmphex(qts_readb(s, blk), ==, SR_READY | SR_ERASE | SR_PROG);
    qts_writeb(s, blk, 0x50);
    g_assert_cmphex(qts_readb(s, blk + 0x200), ==, 0xff);
    /* A count beyond the buffer is refused. */
    qts_writeb(s, blk, 0xe8);
    qts_writeb(s, blk, 32);
    g_assert_cmphex(qts_readb(s, blk), ==, SR_READY | SR_ERASE | SR_PROG);
    qts_quit(s);
    unlink(path);
}

static void program_and_erase(QTS *s)
{
    qts_writeb(s, BASE + 0x2345, 0x10);
    qts_writeb(s, BASE + 0x2345, 0x00);
    qts_writeb(s, BASE + 7 * SECTOR, 0x20);
    qts_writeb(s, BASE + 7 * SECTOR + 17, 0xd0);
    qts_writeb(s, BASE, 0xff);
}

static void check_persisted(const uint8_t *img, size_t len)
{
    g_assert_cmpuint(len, ==, SIZE);
    for (size_t i = 0; i < SIZE; i++) {
        uint8_t want = i == 0x2345 ? 0 :
                       i / SECTOR == 7 ? 0xff : pattern(i);
        g_assert_cmphex(img[i], ==, want);
    }
}

/* Programs and erases reach the image; a new run reads them back. */
static void test_persistence(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    QTS *s = start(path, "");
    program_and_erase(s);
    qts_quit(s);

    size_t len;
    g_autofree uint8_t *img = read_file(path, &len);
    check_persisted(img, len);

    s = start(path, "");
    g_autofree uint8_t *buf = g_malloc(SIZE);
    qts_memread(s, BASE, buf, SIZE);
    check_persisted(buf, SIZE);
    qts_quit(s);
    unlink(path);
}

static char *img_tool(void)
{
    g_autofree char *dir = g_path_get_dirname(g_getenv("QTEST_QEMU_BINARY"));
    return g_build_filename(dir, "kestrel-img", NULL);
}

static void run(const char *cmd)
{
    int status;
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The same through a qcow2 image. */
static void test_persistence_qcow2(void)
{
    g_autofree char *tool = img_tool();
    g_autofree char *raw = make_image(SIZE, 0);
    g_autofree char *qcow2 = g_strconcat(raw, ".qcow2", NULL);
    g_autofree char *cmd = g_strdup_printf("%s convert -f raw -O qcow2 %s %s",
                                           tool, raw, qcow2);
    run(cmd);

    QTS *s = qts_initf("-nodefaults -drive if=pflash,format=qcow2,file=%s",
                       qcow2);
    g_assert_cmphex(qts_readb(s, BASE + 3), ==, pattern(3));
    program_and_erase(s);
    qts_quit(s);

    g_free(cmd);
    cmd = g_strdup_printf("%s convert -f qcow2 -O raw %s %s", tool, qcow2, raw);
    run(cmd);
    size_t len;
    g_autofree uint8_t *img = read_file(raw, &len);
    check_persisted(img, len);
    unlink(raw);
    unlink(qcow2);
}

/* readonly=on: programs and erases fail in the status register only. */
static void test_readonly(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    size_t len0, len1;
    g_autofree uint8_t *before = read_file(path, &len0);
    QTS *s = start(path, ",readonly=on");

    qts_writeb(s, BASE, 0x50);
    qts_writeb(s, BASE + 0x10, 0x10);
    qts_writeb(s, BASE + 0x10, 0x00);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY | SR_PROG | SR_PROT);
    qts_writeb(s, BASE, 0x50);
    qts_writeb(s, BASE, 0x20);
    qts_writeb(s, BASE, 0xd0);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY | SR_ERASE | SR_PROT);
    qts_writeb(s, BASE, 0x50);
    qts_writeb(s, BASE, 0xe8);
    qts_writeb(s, BASE, 0);
    qts_writeb(s, BASE + 1, 0);
    qts_writeb(s, BASE, 0xd0);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY | SR_PROG | SR_PROT);
    qts_writeb(s, BASE, 0xff);
    g_assert_cmphex(qts_readb(s, BASE + 0x10), ==, pattern(0x10));
    g_assert_cmphex(qts_readb(s, BASE + 1), ==, pattern(1));
    qts_quit(s);

    g_autofree uint8_t *after = read_file(path, &len1);
    g_assert_cmpmem(before, len0, after, len1);
    unlink(path);
}

/* A reset (port 0x92 bit 0) puts the chip back in read-array mode. */
static void test_reset(void)
{
    g_autofree char *path = make_image(SIZE, 0);
    QTS *s = start(path, "");

    qts_writeb(s, BASE, 0x90);
    g_assert_cmphex(qts_readb(s, BASE), ==, 0x89);
    qts_outb(s, 0x92, 0x01);
    /* The reset runs in the emulator's main loop, after this command. */
    int tries = 0;
    while (qts_readb(s, BASE) != pattern(0) && tries++ < 200) {
        g_usleep(10 * 1000);
    }
    g_assert_cmphex(qts_readb(s, BASE), ==, pattern(0));
    g_assert_cmphex(qts_readb(s, BASE + 1), ==, pattern(1));
    qts_writeb(s, BASE, 0x70);
    g_assert_cmphex(qts_readb(s, BASE), ==, SR_READY);
    qts_quit(s);
    unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pflash/read-array", test_read_array);
    g_test_add_func("/pflash/two-units", test_two_units);
    g_test_add_func("/pflash/identify-cfi", test_identify_and_cfi);
    g_test_add_func("/pflash/program-erase", test_program_erase);
    g_test_add_func("/pflash/write-buffer", test_write_buffer);
    g_test_add_func("/pflash/persistence", test_persistence);
    g_test_add_func("/pflash/persistence-qcow2", test_persistence_qcow2);
    g_test_add_func("/pflash/readonly", test_readonly);
    g_test_add_func("/pflash/reset", test_reset);
    return g_test_run();
}
