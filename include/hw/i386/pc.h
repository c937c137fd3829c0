/* The i440fx PC board. */
#ifndef HW_I386_PC_H
#define HW_I386_PC_H

#include "system/system.h"

typedef struct PCBoardOptions {
    /* chardev per COM port given with -serial (NULL: none) */
    const char *serial_chardev[4];
    const char *debugcon_chardev;
    /* fw_cfg items from -nographic, -uuid and -boot */
    bool nographic;
    uint8_t uuid[16];
    bool boot_menu;
    bool no_fd_bootchk;         /* -no-fd-bootchk (CMOS 0x38 bit 0) */
    int splash_time;            /* ms, -1: not given */
    int64_t reboot_timeout;     /* ms, -1: never, -2: not given */
} PCBoardOptions;

/* Build the machine: RAM, firmware, chipset, ISA devices, fw_cfg, boot. */
bool pc_init(MachineState *ms, const PCBoardOptions *opts, Error **errp);
/* After -device: finish fw_cfg tables and load the kernel. */
bool pc_machine_done(MachineState *ms, Error **errp);

#endif
