/*
 * A device's interrupt lines by name, like QEMU's qdev GPIOs: the inputs it
 * handles and the outputs it drives.  Boards wire outputs to inputs; qtest
 * finds devices by path ("/machine/i440fx/ioapic", or just "ioapic") and
 * watches or drives their lines.  A NULL name is the unnamed list.
 */
#ifndef HW_GPIO_H
#define HW_GPIO_H

#include "hw/qdev.h"
#include "hw/irq.h"

/* n input lines calling handler(dev, index, level). */
void qdev_init_gpio_in_named(DeviceState *dev, IRQHandler handler,
                             const char *name, int n);
/* The input line, or NULL if there is no such list or index. */
qemu_irq qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n);
/* n output lines stored in pins[] (initially unconnected: NULL). */
void qdev_init_gpio_out_named(DeviceState *dev, qemu_irq *pins,
                              const char *name, int n);
void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n,
                                 qemu_irq target);

static inline qemu_irq qdev_get_gpio_in(DeviceState *dev, int n)
{
    return qdev_get_gpio_in_named(dev, NULL, n);
}

/* Where a device shows up for qtest; default /machine/unattached/<type>. */
void qdev_set_path(DeviceState *dev, const char *path);
const char *qdev_get_path(DeviceState *dev);
/* A full path, or a unique trailing part of one ("ioapic"), or a -device
 * id.  NULL when nothing or more than one device matches. */
DeviceState *qdev_resolve_path(const char *path);

/* For qtest: every unnamed input (resp. output) line of dev now also calls
 * fn(opaque, index, level), after (resp. before) passing the level on. */
void qdev_intercept_gpio_in(DeviceState *dev, IRQHandler fn, void *opaque);
void qdev_intercept_gpio_out(DeviceState *dev, IRQHandler fn, void *opaque);

#endif
