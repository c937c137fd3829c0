/*
 * Application-processor start-up code.
 *
 * A SIPI with vector 0x08 starts an AP in real mode at 0x0800:0000
 * (physical 0x8000).  smp.c copies ap_tramp_start..ap_tramp_end there.
 * The real-mode part only loads the GDT (through a pseudo-descriptor kept
 * inside the trampoline so that it is reachable below 1 MiB), sets CR0.PE
 * and far-jumps to ap_entry32 in the main image.
 */
#define MAX_APS 31                      /* must match smp.c */
#define AP_STACK 4096

        .section .text
        .code16
        .globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
        cli
        cld
        movw    %cs, %ax                /* CS = 0x0800 */
        movw    %ax, %ds
        lgdtl   tramp_gdt_desc - ap_tramp_start
        movl    %cr0, %eax
        orl     $1, %eax                /* PE */
        movl    %eax, %cr0
        ljmpl   $0x08, $ap_entry32      /* 32-bit far jump into flat CS */
        .balign 4
        .word   0
tramp_gdt_desc:
        .word   23                      /* three descriptors */
        .long   gdt                     /* start.S */
ap_tramp_end:

        .code32
ap_entry32:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        /* Claim a stack slot: index = ap_next_slot++ (atomically). */
        movl    $1, %eax
        lock xaddl %eax, ap_next_slot
        cmpl    $MAX_APS, %eax
        jae     2f                      /* out of stacks: just halt */
        movl    %eax, %ecx
        incl    %eax
        shll    $12, %eax               /* * AP_STACK */
        addl    $ap_stacks, %eax
        movl    %eax, %esp
        pushl   %ecx                    /* ap_main(slot) */
        call    ap_main
2:      cli
        hlt
        jmp     2b

        .section .data
        .balign 4
ap_next_slot:
        .long   0

        .section .stack, "aw", @nobits
        .balign 16
        .globl ap_stacks
ap_stacks:
        .space  MAX_APS * AP_STACK

        .section .note.GNU-stack, "", @progbits
