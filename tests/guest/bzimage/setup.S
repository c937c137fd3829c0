/*
 * Tiny image following the Linux x86 boot protocol, version 2.15.
 *
 * File layout (see bzimage.ld):
 *   0x0000  boot sector; the setup header starts at 0x1f1
 *   0x0200  setup entry: 2-byte jump, then "HdrS" and the rest of the header
 *   0x026c  real-mode stub: renormalise CS so offsets equal file offsets
 *   0x1000  real-mode setup code (after the 4 KiB "zero page" area, whose
 *           E820 table at 0x2d0 it fills in place)
 *   0x1200  32-bit protected-mode code, linked and loaded at 0x100000
 * setup_sects = 8: the setup is (1 + 8) * 512 = 0x1200 bytes.
 *
 * 16-bit boot: the boot loader loads the setup at some segment S, fills
 * in header fields and jumps to S+0x20:0 with DS = ES = SS = S.
 * 32-bit boot: the loader builds boot_params itself and jumps to
 * code32_start with ESI = boot_params, CS = 0x10, DS = ES = SS = 0x18.
 */
#define SETUP_SECTS     8
#define LOADED_HIGH     0x01
#define CAN_USE_HEAP    0x80
#define BOOT_CS         0x10
#define BOOT_DS         0x18
#define SMAP            0x534d4150      /* "SMAP" */
#define E820_COUNT      0x1e8           /* boot_params.e820_entries */
#define E820_TABLE      0x2d0           /* boot_params.e820_table[128] */

        .section .setup, "ax"
        .code16
bootsect:                               /* not bootable from a disk */
        cli
1:      hlt
        jmp     1b

        .org    0x1f1
setup_sects:    .byte   SETUP_SECTS
root_flags:     .word   0
syssize:        .long   _syssize        /* 32-bit part in 16-byte units */
ram_size:       .word   0
vid_mode:       .word   0xffff          /* "normal" */
root_dev:       .word   0
boot_flag:      .word   0xaa55
        /* 0x200: the loader jumps here (S+0x20:0) */
                .byte   0xeb, start_of_setup - 1f   /* jmp short */
1:
header:         .ascii  "HdrS"
version:        .word   0x020f          /* 2.15 */
realmode_swtch: .long   0
start_sys_seg:  .word   0x1000          /* obsolete */
kernel_version: .word   version_str - 0x200
type_of_loader: .byte   0
loadflags:      .byte   LOADED_HIGH
setup_move_size: .word  0x8000
code32_start:   .long   0x100000
ramdisk_image:  .long   0
ramdisk_size:   .long   0
bootsect_kludge: .long  0
heap_end_ptr:   .word   0
ext_loader_ver: .byte   0
ext_loader_type: .byte  0
cmd_line_ptr:   .long   0
initrd_addr_max: .long  0x7fffffff
kernel_alignment: .long 0x1000
relocatable_kernel: .byte 0
min_alignment:  .byte   12
xloadflags:     .word   0
cmdline_size:   .long   2047
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset: .long   0
payload_length: .long   0
setup_data:     .quad   0
pref_address:   .quad   0x100000
init_size:      .long   _init_size      /* memory needed from 0x100000 */
handover_offset: .long  0
kernel_info_offset: .long _kernel_info_offset

        .org    0x26c                   /* header ends at 0x26c */
start_of_setup:
        /* Entered with CS = S+0x20: far-return to S:setup_main instead. */
        movw    %cs, %ax
        subw    $0x20, %ax
        pushw   %ax
        pushw   $setup_main
        lret

        .org    0x1000
setup_main:
        cli
        cld
        movw    %cs, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x9000, %sp            /* traditional stack if no heap info */
        testb   $CAN_USE_HEAP, loadflags
        jz      1f
        movw    heap_end_ptr, %sp       /* stack ends 0x200 above heap_end */
        addw    $0x200, %sp
1:
        /* BIOS E820 memory map straight into boot_params.e820_table. */
        movb    $0, E820_COUNT
        movw    $E820_TABLE, %di
        xorl    %ebx, %ebx
2:      movl    $0xe820, %eax
        movl    $SMAP, %edx
        movl    $20, %ecx
        int     $0x15
        jc      3f
        cmpl    $SMAP, %eax
        jne     3f
        incb    E820_COUNT
        addw    $20, %di
        cmpb    $128, E820_COUNT
        jae     3f
        testl   %ebx, %ebx
        jnz     2b
3:
        cli
        inb     $0x92, %al              /* fast A20 on, no reset */
        orb     $0x02, %al
        andb    $0xfe, %al
        outb    %al, $0x92

        xorl    %ebx, %ebx              /* EBX = linear address of S:0 */
        movw    %cs, %bx
        shll    $4, %ebx
        movl    %ebx, %eax
        addl    $gdt, %eax
        movl    %eax, gdt_desc + 2
        movl    code32_start, %eax      /* the loader may have changed it */
        movl    %eax, farptr
        lgdtl   gdt_desc
        movl    %cr0, %eax
        orb     $1, %al                 /* PE */
        movl    %eax, %cr0
        movw    $BOOT_DS, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        movl    %ebx, %esi              /* ESI = boot_params = S:0 */
        xorl    %ebx, %ebx              /* EBX, EBP, EDI = 0 per protocol */
        xorl    %ebp, %ebp
        xorl    %edi, %edi
        ljmpl   *%cs:farptr             /* CS still caches base S*16 */

        .balign 4
farptr: .long   0
        .word   BOOT_CS
        .balign 8
gdt:    .quad   0, 0                    /* Linux convention: CS 0x10, DS 0x18 */
        .quad   0x00cf9b000000ffff      /* 0x10: flat 32-bit code (accessed) */
        .quad   0x00cf93000000ffff      /* 0x18: flat 32-bit data (accessed) */
gdt_end:
        .word   0
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   0                       /* patched: linear address of gdt */
version_str:
        .asciz  "kestrel bzimage-test"
        .org    0x1200                  /* end of setup_sects */

/* ---- 32-bit entry, at code32_start = 0x100000 ---------------------------- */
        .section .text32.entry, "ax"
        .code32
        .globl  startup_32
startup_32:
        cli
        cld
        lgdt    gdt32_desc              /* own copy: the loader's may go away */
        ljmp    $BOOT_CS, $1f
1:      movl    $BOOT_DS, %eax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        movl    $bz_stack_top, %esp
        movl    $__bss_start, %edi      /* zero .bss, keep ESI */
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        pushl   %esi
        call    bz_main
2:      cli
        hlt
        jmp     2b

        .section .rodata
        .balign 8
gdt32:  .quad   0, 0, 0x00cf9b000000ffff, 0x00cf93000000ffff
        .word   0
gdt32_desc:
        .word   31
        .long   gdt32

/* kernel_info (protocol 2.15), found through kernel_info_offset. */
        .balign 4
        .globl  kernel_info
kernel_info:
        .ascii  "LToP"                  /* header */
        .long   kernel_info_end - kernel_info  /* size */
        .long   kernel_info_end - kernel_info  /* size_total */
        .long   0                       /* setup_type_max */
kernel_info_end:

        .section .stack, "aw", @nobits
        .balign 16
        .space  8192
bz_stack_top:

        .section .note.GNU-stack, "", @progbits
