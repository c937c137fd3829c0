/*
 * fw_cfg DMA from 16-bit option ROM code (GNU as, .code16, through cpp).
 *
 * The includer defines SCRATCH_SEG and SCRATCH_OFF: 32 bytes of RAM that
 * no loaded item overwrites, reachable as DS:SCRATCH_OFF while the
 * helpers run (DS = SCRATCH_SEG).  They hold the DMA descriptor and a
 * 4-byte read buffer.  Keys and bits: QEMU docs/specs/fw_cfg.rst.
 */
#ifndef FW_CFG_ROM_H
#define FW_CFG_ROM_H

#define FW_CFG_PORT_DMA_HIGH    0x514
#define FW_CFG_PORT_DMA_LOW     0x518

#define FW_CFG_KERNEL_ADDR      0x07
#define FW_CFG_KERNEL_SIZE      0x08
#define FW_CFG_INITRD_ADDR      0x0a
#define FW_CFG_INITRD_SIZE      0x0b
#define FW_CFG_KERNEL_ENTRY     0x10
#define FW_CFG_KERNEL_DATA      0x11
#define FW_CFG_INITRD_DATA      0x12
#define FW_CFG_CMDLINE_ADDR     0x13
#define FW_CFG_CMDLINE_SIZE     0x14
#define FW_CFG_CMDLINE_DATA     0x15
#define FW_CFG_SETUP_ADDR       0x16
#define FW_CFG_SETUP_SIZE       0x17
#define FW_CFG_SETUP_DATA       0x18

#define FW_CFG_DMA_CTL_ERROR    0x01
#define FW_CFG_DMA_CTL_READ     0x02
#define FW_CFG_DMA_CTL_SELECT   0x08

#define SCRATCH_PHYS            (SCRATCH_SEG * 16 + SCRATCH_OFF)

/*
 * Option ROM header and an init entry that hooks int 0x19, so SeaBIOS
 * enters the ROM's code at boot time rather than during its ROM scan.
 * Ends at the boot entry with interrupts off and DS = SCRATCH_SEG, as the
 * helpers below need; the includer's boot code follows the macro.
 */
.macro OPTION_ROM_BOOT_HOOK
        .code16
        .text
        .globl _start
_start:
        .byte   0x55, 0xaa
        .byte   0                       /* size in 512-byte blocks */
        jmp     init                    /* BIOS far-calls offset 3 */

        .org    0x18
        .word   0                       /* no PCI data structure */
        .word   0                       /* no PnP header */

init:
        push    %ds
        push    %ax
        xor     %ax, %ax
        mov     %ax, %ds
        movw    $boot, 0x19 * 4
        mov     %cs, 0x19 * 4 + 2
        pop     %ax
        pop     %ds
        lret

boot:
        cli
        cld
        mov     $SCRATCH_SEG, %ax
        mov     %ax, %ds
.endm

/* Copy item data_key to the address in item addr_key, size in size_key. */
.macro LOAD_ITEM addr_key, size_key, data_key
        mov     $\addr_key, %ax
        call    fw_cfg_read32
        mov     %eax, %edi
        mov     $\size_key, %ax
        call    fw_cfg_read32
        mov     %eax, %ecx
        mov     $\data_key, %ax
        call    fw_cfg_dma_read
.endm

.macro FW_CFG_DMA_FUNCTIONS
/*
 * Read %ecx bytes of item %ax to physical address %edi.  The device works
 * synchronously, so the control word is final when the OUT returns; an
 * error sends the BIOS on to its next boot device (int 0x18).
 * Clobbers %eax, %edx.
 */
fw_cfg_dma_read:
        movzwl  %ax, %eax
        shl     $16, %eax
        or      $(FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ), %eax
        bswap   %eax
        mov     %eax, SCRATCH_OFF
        mov     %ecx, %eax
        bswap   %eax
        mov     %eax, SCRATCH_OFF + 4
        movl    $0, SCRATCH_OFF + 8
        mov     %edi, %eax
        bswap   %eax
        mov     %eax, SCRATCH_OFF + 12
        xor     %eax, %eax
        mov     $FW_CFG_PORT_DMA_HIGH, %dx
        out     %eax, %dx
        mov     $SCRATCH_PHYS, %eax
        bswap   %eax
        mov     $FW_CFG_PORT_DMA_LOW, %dx
        out     %eax, %dx               /* writing the low half starts it */
1:      mov     SCRATCH_OFF, %eax
        bswap   %eax
        test    $~FW_CFG_DMA_CTL_ERROR, %eax
        jnz     1b
        test    %eax, %eax
        jnz     2f
        ret
2:      int     $0x18
        cli
3:      hlt
        jmp     3b

/* %eax = the 32-bit little-endian item %ax. */
fw_cfg_read32:
        push    %ecx
        push    %edi
        mov     $4, %ecx
        mov     $(SCRATCH_PHYS + 16), %edi
        call    fw_cfg_dma_read
        mov     SCRATCH_OFF + 16, %eax
        pop     %edi
        pop     %ecx
        ret
.endm

#endif
