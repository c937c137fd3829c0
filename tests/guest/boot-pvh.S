/*
 * PVH boot note.  A loader that understands the Xen/x86 HVM direct boot
 * ABI looks for an ELF note with name "Xen" and type
 * XEN_ELFNOTE_PHYS32_ENTRY (18) whose payload is the 32-bit physical
 * entry point.  It enters there in 32-bit protected mode, paging off,
 * with EBX = physical address of struct hvm_start_info.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

        .section .note.pvh, "a", @note
        .balign 4
        .long   2f - 1f                 /* namesz */
        .long   4f - 3f                 /* descsz */
        .long   XEN_ELFNOTE_PHYS32_ENTRY
1:      .asciz  "Xen"
2:      .balign 4
3:      .long   _start
4:      .balign 4

        .section .note.GNU-stack, "", @progbits
