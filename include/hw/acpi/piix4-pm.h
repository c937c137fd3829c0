/*
 * Intel 82371AB PIIX4 function 3, power management, as QEMU's PIIX4_PM at
 * 00:01.3: the ACPI fixed hardware (PM1 event and control registers, PM
 * timer) at PMBA, the GPE0 block at 0xafe0, the APM ports 0xb2/0xb3, a
 * SMBus host with no devices behind it, and the SCI on ISA IRQ 9.
 */
#ifndef HW_ACPI_PIIX4_PM_H
#define HW_ACPI_PIIX4_PM_H

#include "hw/pci/pci.h"

/* PCI configuration registers. */
#define PIIX4_PM_PMBA           0x40    /* bits 15:6 I/O base, bit 0 = 1 */
#define PIIX4_PM_DEVACTB        0x58
#define  PIIX4_PM_APMC_EN        (1u << 25)  /* 0xb2 writes raise SMI */
#define PIIX4_PM_PMREGMISC      0x80
#define  PIIX4_PM_PMIOSE         0x01   /* PMBA decode enable */
#define PIIX4_PM_SMBBA          0x90    /* bits 15:4 I/O base, bit 0 = 1 */
#define PIIX4_PM_SMBHSTCFG      0xd2
#define  PIIX4_PM_SMB_HST_EN     0x01
#define  PIIX4_PM_SMB_INTRSEL    0x0e
#define  PIIX4_PM_SMB_INTR_IRQ9  0x08   /* INTRSEL value: IRQ 9, not SMI */

#define PIIX4_PM_IO_SIZE        64
#define PIIX4_SMB_IO_SIZE       16

/* PM I/O block, offsets from PMBA (ACPI PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR). */
#define ACPI_PM1_STS            0x00
#define  ACPI_TMR_STS            (1u << 0)
#define  ACPI_BM_STS             (1u << 4)
#define  ACPI_GBL_STS            (1u << 5)
#define  ACPI_PWRBTN_STS         (1u << 8)
#define  ACPI_RTC_STS            (1u << 10)
#define  ACPI_PWRBTNOR_STS       (1u << 11)
#define  ACPI_WAK_STS            (1u << 15)
#define ACPI_PM1_EN             0x02
#define  ACPI_TMR_EN             (1u << 0)
#define  ACPI_GBL_EN             (1u << 5)
#define  ACPI_PWRBTN_EN          (1u << 8)
#define  ACPI_RTC_EN             (1u << 10)
#define ACPI_PM1_CNT            0x04
#define  ACPI_SCI_EN             (1u << 0)
#define  ACPI_BM_RLD             (1u << 1)
#define  ACPI_GBL_RLS            (1u << 2)   /* write-only: SMI to the BIOS */
#define  ACPI_SLP_TYP_SHIFT      10
#define  ACPI_SLP_TYP            (7u << 10)
#define  ACPI_SLP_EN             (1u << 13)  /* write-only */
#define ACPI_PM_TMR             0x08
#define  ACPI_PM_TMR_FREQ        3579545     /* Hz; 24-bit counter */

/* SLP_TYP values of QEMU's DSDT for PIIX4 (_S4 only when enabled). */
#define PIIX4_SLP_TYP_S5        0
#define PIIX4_SLP_TYP_S3        1
#define PIIX4_SLP_TYP_S4        2

#define ACPI_GPE0_BASE          0xafe0  /* 2 bytes status, 2 bytes enable */
#define ACPI_GPE0_LEN           4

#define APM_CNT_PORT            0xb2    /* FADT SMI_CMD */
#define APM_STS_PORT            0xb3
#define  ACPI_ENABLE_CMD         0xf1
#define  ACPI_DISABLE_CMD        0xf0

#define PIIX4_SCI_IRQ           9

/* SMBus host registers, offsets from SMBBA. */
#define SMB_HST_STS             0x00
#define  SMB_HOST_BUSY           0x01
#define  SMB_INTR                0x02
#define  SMB_DEV_ERR             0x04
#define  SMB_BUS_ERR             0x08
#define  SMB_FAILED              0x10
#define SMB_HST_CNT             0x02
#define  SMB_INTEREN             0x01
#define  SMB_KILL                0x02
#define  SMB_START               0x40   /* write-only */
#define SMB_HST_CMD             0x03
#define SMB_HST_ADD             0x04
#define SMB_HST_DAT0            0x05
#define SMB_HST_DAT1            0x06
#define SMB_BLK_DAT             0x07

/* Create 00:01.3 on bus (board code; exits on failure). */
DeviceState *piix4_pm_init(PCIBus *bus);
/* Latch GPE0 status bit (0-15), for hotplug controllers; SCI if enabled. */
void piix4_pm_gpe_raise(DeviceState *dev, unsigned bit);

#endif
