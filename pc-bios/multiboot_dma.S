/*
 * multiboot_dma.bin: boots the -kernel multiboot image through SeaBIOS.
 *
 * Like linuxboot_dma.bin it hooks int 0x19.  At boot it copies the kernel
 * with its modules (fw_cfg KERNEL_*) and the multiboot information kestrel
 * prepared (INITRD_*) with fw_cfg DMA, fills in mem_lower (int 0x12),
 * mem_upper (int 0x15 e801) and the memory map (int 0x15 e820) as the
 * BIOS reports them, and enters the kernel as the Multiboot Specification
 * asks: 32-bit protected mode, flat CS/DS, paging and interrupts off,
 * EAX = 0x2BADB002, EBX = the information structure.
 */
/* scratch at 0x7ff00: the loader keeps 0x7f000-0x7ffff free */
#define SCRATCH_SEG 0x7000
#define SCRATCH_OFF 0xff00
#include "fw_cfg_rom.h"

#define MBI_MEM_LOWER       4
#define MBI_MEM_UPPER       8
#define MBI_MMAP_LENGTH     44
#define MBI_MMAP_ADDR       48
#define MMAP_MAX_BYTES      (128 * 24)
#define SMAP                0x534d4150

/* scratch layout after the DMA descriptor and buffer (0..19) */
#define S_ENTRY     (SCRATCH_OFF + 20)
#define S_MBI       (SCRATCH_OFF + 24)
#define S_GDTR      (SCRATCH_OFF + 32)      /* limit, base */
#define S_JUMP      (SCRATCH_OFF + 40)      /* offset, selector */

        OPTION_ROM_BOOT_HOOK

        LOAD_ITEM FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA
        LOAD_ITEM FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA
        mov     $FW_CFG_KERNEL_ENTRY, %ax
        call    fw_cfg_read32
        mov     %eax, S_ENTRY
        mov     $FW_CFG_INITRD_ADDR, %ax
        call    fw_cfg_read32
        mov     %eax, S_MBI

        /* FS:BX = the information structure (below 1 MiB) */
        call    mbi_ptr
        int     $0x12                   /* base memory in KiB */
        movzwl  %ax, %eax
        mov     %eax, %fs:MBI_MEM_LOWER(%bx)

        mov     $0xe801, %ax            /* KiB 1-16 MiB, 64 KiB units above */
        int     $0x15
        jc      1f
        movzwl  %ax, %eax
        cmp     $0x3c00, %eax           /* a hole below 16 MiB ends it */
        jb      2f
        movzwl  %bx, %edx
        shl     $6, %edx
        add     %edx, %eax
2:      call    mbi_ptr
        mov     %eax, %fs:MBI_MEM_UPPER(%bx)
1:
        /* ES:DI = first map entry's base field (its size field before it) */
        call    mbi_ptr
        mov     %fs:MBI_MMAP_ADDR(%bx), %eax
        mov     %eax, %edi
        shr     $4, %eax
        mov     %ax, %es
        and     $0xf, %di
        add     $4, %di
        xor     %ebx, %ebx              /* continuation */
        xor     %esi, %esi              /* bytes of map written */
3:      mov     $0xe820, %eax
        mov     $20, %ecx
        mov     $SMAP, %edx
        int     $0x15
        jc      4f
        cmp     $SMAP, %eax
        jne     4f
        movl    $20, %es:-4(%di)
        add     $24, %di
        add     $24, %si
        cmp     $MMAP_MAX_BYTES, %si
        jae     4f
        test    %ebx, %ebx
        jnz     3b
4:      call    mbi_ptr
        mov     %esi, %fs:MBI_MMAP_LENGTH(%bx)

        /* A20 on (port 0x92 bit 1, never bit 0: that resets) */
        in      $0x92, %al
        or      $2, %al
        and     $0xfe, %al
        out     %al, $0x92

        /* GDT and the 32-bit entry are in this ROM: linear = CS * 16 + x */
        xor     %edx, %edx
        mov     %cs, %dx
        shl     $4, %edx
        movw    $(gdt_end - gdt - 1), S_GDTR
        lea     gdt(%edx), %eax
        mov     %eax, S_GDTR + 2
        lea     pm_entry(%edx), %eax
        mov     %eax, S_JUMP
        movw    $0x08, S_JUMP + 4
        lgdtl   S_GDTR
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   *S_JUMP

/* FS:BX = S_MBI as segment:offset; keeps other registers */
mbi_ptr:
        push    %eax
        mov     S_MBI, %eax
        mov     %ax, %bx
        and     $0xf, %bx
        shr     $4, %eax
        mov     %ax, %fs
        pop     %eax
        ret

        .code32
pm_entry:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     (SCRATCH_PHYS + 20), %ecx       /* S_ENTRY */
        mov     (SCRATCH_PHYS + 24), %ebx       /* S_MBI */
        mov     $0x2badb002, %eax
        jmp     *%ecx

        .code16
        .balign 8
gdt:    .quad   0
        .quad   0x00cf9b000000ffff      /* 0x08: flat 32-bit code */
        .quad   0x00cf93000000ffff      /* 0x10: flat data */
gdt_end:

        FW_CFG_DMA_FUNCTIONS
