/*
 * -cpu MODEL[,flag=on|off|+flag|-flag|prop=value...]: the CPU model and
 * the CPUID flags asked for, checked when the option is parsed and laid
 * onto each vCPU's CPUID (hw/i386/cpu-model.c).
 */
#ifndef HW_I386_CPU_MODEL_H
#define HW_I386_CPU_MODEL_H

#include "util/osdep.h"
#include <linux/kvm.h>

/* Parse a -cpu argument; *model gets the model's name.  Properties that
 * QEMU has and kestrel ignores are accepted with a warning. */
bool x86_cpu_parse(const char *arg, const char **model, Error **errp);
/* -cpu help: the models and the flags. */
void x86_cpu_print_help(void);

/* Once, before the vCPUs get their CPUID: the flags asked for that the
 * host cannot give (not in 'supported') are a warning, or with
 * enforce=on an error. */
bool x86_cpu_check_supported(const struct kvm_cpuid2 *supported,
                             Error **errp);
/* The model's baseline and the flags, on one CPUID entry of a vCPU. */
void x86_cpu_apply_cpuid(struct kvm_cpuid_entry2 *e);

#endif
