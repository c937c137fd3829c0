/* kestrel-img: shared helpers of the subcommands. */
#ifndef TOOLS_IMG_H
#define TOOLS_IMG_H

#include "block/block_int.h"

NORETURN void img_die(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Open an image chain; exits with a message on failure. */
BlockDriverState *img_open(const char *file, const char *fmt, bool rw,
                           const char *cache, bool backing, bool check);
/* "64 MiB", "1.5 GiB" */
char *img_size_str(uint64_t v);
bool img_parse_size(const char *s, uint64_t *out);
/* -o key=value,... into create options (unknown keys fail). */
bool img_parse_create_opts(const char *s, BlockCreateOpts *o, Error **errp);
void img_progress(bool on, double pct);

void img_snapshot_table(BdrvSnapshot *sn, int n);

int img_info(int argc, char **argv);
int img_check(int argc, char **argv);
int img_map(int argc, char **argv);
int img_convert(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_bench(int argc, char **argv);

#endif
