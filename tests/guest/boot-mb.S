/*
 * Multiboot v1 header.  It must lie 4-byte aligned within the first
 * 8 KiB of the file; the linker script puts .multiboot first.
 * Flags: bit 0 = page-align modules, bit 1 = provide memory info/map.
 * Bit 16 (a.out kludge) is clear, so the loader uses the ELF headers
 * and jumps to the ELF entry point (_start in start.S).
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003

        .section .multiboot, "a"
        .balign 4
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)  /* checksum: the three sum to 0 */

        .section .note.GNU-stack, "", @progbits
