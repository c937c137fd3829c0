/*
 * Common 32-bit entry point for both boot flavours (multiboot v1, PVH).
 *
 * Both protocols enter here in 32-bit protected mode with paging off and
 * interrupts disabled.  Multiboot passes EAX=0x2badb002, EBX=multiboot
 * info; PVH passes EBX=hvm_start_info (EAX undefined).  Neither promises
 * a usable GDT or stack, so we install our own before touching memory.
 */
        .section .text.boot, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        lgdt    gdt_desc
        ljmp    $0x08, $1f              /* reload CS from our GDT */
1:      movw    $0x10, %cx
        movw    %cx, %ds
        movw    %cx, %es
        movw    %cx, %fs
        movw    %cx, %gs
        movw    %cx, %ss
        movl    $boot_stack_top, %esp
        movl    %eax, %esi              /* keep magic and info pointer */
        movl    %ebx, %ebp
        /* Zero .bss (the loader may not have). */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        pushl   %ebp                    /* boot_main(magic, info) */
        pushl   %esi
        call    boot_main
2:      cli
        hlt
        jmp     2b

/*
 * Flat GDT shared by the BSP and the APs (smp trampoline):
 * 0x08 = 32-bit code, 0x10 = 32-bit data, both base 0 limit 4 GiB.
 */
        .section .data
        .balign 16
        .globl gdt, gdt_desc
gdt:    .quad   0
        .quad   0x00cf9a000000ffff      /* code: P, DPL0, exec/read, G, D */
        .quad   0x00cf92000000ffff      /* data: P, DPL0, read/write, G, B */
gdt_end:
        .balign 4
        .word   0                       /* pad so the base is 4-aligned */
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

        .section .stack, "aw", @nobits
        .balign 16
        .space  16384
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
