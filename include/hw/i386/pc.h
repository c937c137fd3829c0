/* The i440fx PC board. */
#ifndef HW_I386_PC_H
#define HW_I386_PC_H

#include "system/system.h"

typedef struct PCBoardOptions {
    /* chardev per COM port given with -serial (NULL: none) */
    const char *serial_chardev[4];
    const char *debugcon_chardev;
} PCBoardOptions;

/* Build the machine: RAM, firmware, chipset, ISA devices, fw_cfg, boot. */
bool pc_init(MachineState *ms, const PCBoardOptions *opts, Error **errp);
/* After -device: finish fw_cfg tables and load the kernel. */
bool pc_machine_done(MachineState *ms, Error **errp);

#endif
