/*
 * linuxboot_dma.bin: boots the -kernel Linux image through SeaBIOS.
 *
 * SeaBIOS runs the ROM's init entry during its option ROM scan; we hook
 * int 0x19 there.  When SeaBIOS starts the boot, our handler copies the
 * setup code, kernel, command line and initrd to the addresses kestrel
 * chose (fw_cfg *_ADDR/*_SIZE items) with fw_cfg DMA, which reaches above
 * 1 MiB from real mode, then enters the kernel's real-mode setup code
 * per the Linux boot protocol: DS = ES = FS = GS = SS = setup segment,
 * jump to setup segment + 0x20 : 0, interrupts off.
 */
/* DMA scratch at 0x1ff00: in the setup area's stack, unused until entry */
#define SCRATCH_SEG 0x1000
#define SCRATCH_OFF 0xff00
#include "fw_cfg_rom.h"

        OPTION_ROM_BOOT_HOOK

        LOAD_ITEM FW_CFG_SETUP_ADDR, FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA
        LOAD_ITEM FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA
        LOAD_ITEM FW_CFG_CMDLINE_ADDR, FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA
        LOAD_ITEM FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA

        /* The setup segment: SETUP_ADDR / 16. */
        mov     $FW_CFG_SETUP_ADDR, %ax
        call    fw_cfg_read32
        shr     $4, %eax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     $0xfff0, %sp            /* top of the 64 KiB setup area */
        add     $0x20, %ax
        push    %ax                     /* far return into seg+0x20:0 */
        push    $0
        lret

        FW_CFG_DMA_FUNCTIONS
