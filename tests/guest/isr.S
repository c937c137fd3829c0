/*
 * Interrupt entry stubs, one per vector, 16 bytes apart so that cpu.c can
 * compute stub addresses as isr_stubs + 16 * vector.  The CPU pushes an
 * error code only for exceptions 8, 10-14, 17, 21, 29 and 30; the other
 * stubs push a dummy 0 so that every frame has the same layout:
 *   [edi esi ebp esp ebx edx ecx eax] vector error eip cs eflags
 * (see struct irq_frame in guest.h).  Only same-privilege interrupts
 * occur: everything runs at CPL0.
 */
        .section .text
        .code32
        .balign 16
        .globl isr_stubs
isr_stubs:
        .set    vec, 0
        .rept   256
        .balign 16
        .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        pushl   $vec                    /* CPU already pushed the error */
        .else
        pushl   $0                      /* dummy error code */
        pushl   $vec
        .endif
        jmp     isr_common
        .set    vec, vec + 1
        .endr

isr_common:
        pushal
        cld
        pushl   %esp                    /* struct irq_frame * */
        call    isr_dispatch
        addl    $4, %esp
        popal
        addl    $8, %esp                /* drop vector and error code */
        /*
         * Return without IRET.  Same-privilege IRET just pops EIP, CS and
         * EFLAGS, but KVM's instruction emulator cannot execute a
         * protected-mode IRET, and on hosts where it emulates all CPL0
         * code (nested "PVM" KVM) that kills the reference VM.  So: pop
         * EFLAGS with IF clear, then far-return; if IF was set, STI first,
         * whose one-instruction shadow keeps interrupts off until the LRET
         * has completed, so no interrupt can nest on this frame.
         * Stack here: EIP, CS, EFLAGS.
         */
        pushl   8(%esp)                 /* copy of EFLAGS on top */
        btrl    $9, (%esp)              /* clear IF in the copy; CF = old IF */
        jc      1f
        popfl
        lret    $4                      /* pop EIP, CS; drop old EFLAGS */
1:      popfl
        sti
        lret    $4

        .section .note.GNU-stack, "", @progbits
