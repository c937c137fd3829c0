/*
 * IDE: ATA disks and ATAPI CD-ROMs on the two channels of the PIIX3 IDE
 * function (ATA/ATAPI-6, MMC, SFF-8038i bus-master DMA).
 *
 * A channel (IDEBus) has two device slots (IDEState), the taskfile ports,
 * the device control port, an IRQ line and a bus-master DMA engine.  Disk
 * I/O is asynchronous: a command sets BSY, the block layer's completion
 * (main loop, big lock held) moves the state machine on.  Every async step
 * is described by the drive's saved state (aio_op and the transfer
 * position), so a request in flight at migration time is issued again on
 * the destination when the VM starts, as QEMU does; a request that failed
 * with werror/rerror=stop waits the same way for the VM to run again.
 */
#ifndef HW_BLOCK_IDE_H
#define HW_BLOCK_IDE_H

#include "hw/qdev.h"
#include "hw/irq.h"
#include "hw/pci/pci.h"
#include "system/memory.h"
#include "block/block.h"

/* Taskfile register offsets from the command block base (0x1f0/0x170). */
#define ATA_REG_DATA            0
#define ATA_REG_ERROR           1       /* read */
#define ATA_REG_FEATURE         1       /* write */
#define ATA_REG_NSECTOR         2
#define ATA_REG_SECTOR          3       /* LBA 7:0 */
#define ATA_REG_LCYL            4       /* LBA 15:8, ATAPI byte count low */
#define ATA_REG_HCYL            5       /* LBA 23:16, byte count high */
#define ATA_REG_SELECT          6       /* device/head */
#define ATA_REG_STATUS          7       /* read */
#define ATA_REG_CMD             7       /* write */

#define ATA_PRIMARY_BASE        0x1f0
#define ATA_PRIMARY_CTRL        0x3f6
#define ATA_SECONDARY_BASE      0x170
#define ATA_SECONDARY_CTRL      0x376
#define ATA_PRIMARY_IRQ         14
#define ATA_SECONDARY_IRQ       15

/* Status register. */
#define ATA_BSY                 0x80
#define ATA_DRDY                0x40
#define ATA_DF                  0x20
#define ATA_DSC                 0x10
#define ATA_DRQ                 0x08
#define ATA_CORR                0x04
#define ATA_ERR                 0x01

/* Error register (ATA); ATAPI puts the sense key in bits 7:4. */
#define ATA_ICRC                0x80
#define ATA_UNC                 0x40
#define ATA_MC                  0x20
#define ATA_IDNF                0x10
#define ATA_MCR                 0x08
#define ATA_ABRT                0x04
#define ATA_NM                  0x02

/* Device/head register. */
#define ATA_DEV_LBA             0x40
#define ATA_DEV_DEV1            0x10

/* Device control register. */
#define ATA_CTL_HOB             0x80
#define ATA_CTL_SRST            0x04
#define ATA_CTL_NIEN            0x02

/* ATAPI interrupt reason (sector count register). */
#define ATAPI_IR_COD            0x01
#define ATAPI_IR_IO             0x02

/* Commands. */
#define WIN_NOP                 0x00
#define WIN_DSM                 0x06    /* DATA SET MANAGEMENT (TRIM) */
#define WIN_DEVICE_RESET        0x08
#define WIN_RECAL               0x10
#define WIN_READ                0x20
#define WIN_READ_ONCE           0x21
#define WIN_READ_EXT            0x24
#define WIN_READDMA_EXT         0x25
#define WIN_READ_NATIVE_MAX_EXT 0x27
#define WIN_MULTREAD_EXT        0x29
#define WIN_WRITE               0x30
#define WIN_WRITE_ONCE          0x31
#define WIN_WRITE_EXT           0x34
#define WIN_WRITEDMA_EXT        0x35
#define WIN_MULTWRITE_EXT       0x39
#define WIN_VERIFY              0x40
#define WIN_VERIFY_ONCE         0x41
#define WIN_VERIFY_EXT          0x42
#define WIN_SEEK                0x70
#define WIN_DIAGNOSE            0x90
#define WIN_SPECIFY             0x91    /* INITIALIZE DEVICE PARAMETERS */
#define WIN_PACKETCMD           0xa0
#define WIN_PIDENTIFY           0xa1
#define WIN_MULTREAD            0xc4
#define WIN_MULTWRITE           0xc5
#define WIN_SETMULT             0xc6
#define WIN_READDMA             0xc8
#define WIN_READDMA_ONCE        0xc9
#define WIN_WRITEDMA            0xca
#define WIN_WRITEDMA_ONCE       0xcb
#define WIN_STANDBYNOW1         0xe0
#define WIN_IDLEIMMEDIATE       0xe1
#define WIN_STANDBY             0xe2
#define WIN_SETIDLE1            0xe3
#define WIN_CHECKPOWERMODE1     0xe5
#define WIN_SLEEPNOW1           0xe6
#define WIN_FLUSH_CACHE         0xe7
#define WIN_FLUSH_CACHE_EXT     0xea
#define WIN_IDENTIFY            0xec
#define WIN_SETFEATURES         0xef
#define WIN_READ_NATIVE_MAX     0xf8

/* SET FEATURES subcommands (feature register). */
#define SETFEATURES_WC_ON       0x02
#define SETFEATURES_XFER        0x03
#define SETFEATURES_DIS_DEFECT  0x04
#define SETFEATURES_EN_APM      0x05
#define SETFEATURES_DIS_RLA     0x55
#define SETFEATURES_DIS_DEFAULT 0x66
#define SETFEATURES_WC_OFF      0x82
#define SETFEATURES_EN_RLA      0xaa
#define SETFEATURES_EN_DEFAULT  0xcc

/* Bus-master IDE registers (SFF-8038i), per channel, 8 bytes apart. */
#define BM_CMD                  0
#define  BM_CMD_START           0x01
#define  BM_CMD_WRITE           0x08    /* 1: the controller writes memory */
#define BM_STATUS               2
#define  BM_STATUS_ACTIVE       0x01
#define  BM_STATUS_ERROR        0x02
#define  BM_STATUS_INTR         0x04
#define  BM_STATUS_DMA0CAP      0x20
#define  BM_STATUS_DMA1CAP      0x40
#define BM_PRD                  4
#define BM_PRD_EOT              0x80000000u

/* SCSI/MMC sense keys and the additional sense codes used here. */
#define SENSE_NONE              0x0
#define SENSE_NOT_READY         0x2
#define SENSE_MEDIUM_ERROR      0x3
#define SENSE_ILLEGAL_REQUEST   0x5
#define SENSE_UNIT_ATTENTION    0x6
#define ASC_INV_OPCODE          0x20
#define ASC_LBA_OUT_OF_RANGE    0x21
#define ASC_INV_FIELD_IN_CDB    0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED 0x28
#define ASC_POWER_ON_RESET      0x29
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT  0x3a
#define ASC_INCOMPATIBLE_FORMAT 0x30
#define ASC_MEDIUM_REMOVAL_PREVENTED 0x53

/* MMC commands. */
#define GPCMD_TEST_UNIT_READY   0x00
#define GPCMD_REQUEST_SENSE     0x03
#define GPCMD_INQUIRY           0x12
#define GPCMD_MODE_SELECT_6     0x15
#define GPCMD_MODE_SENSE_6      0x1a
#define GPCMD_START_STOP_UNIT   0x1b
#define GPCMD_PREVENT_ALLOW     0x1e
#define GPCMD_READ_CAPACITY     0x25
#define GPCMD_READ_10           0x28
#define GPCMD_SEEK_10           0x2b
#define GPCMD_READ_TOC_PMA_ATIP 0x43
#define GPCMD_GET_CONFIGURATION 0x46
#define GPCMD_GET_EVENT_STATUS  0x4a
#define GPCMD_READ_DISC_INFO    0x51
#define GPCMD_MODE_SELECT_10    0x55
#define GPCMD_MODE_SENSE_10     0x5a
#define GPCMD_READ_12           0xa8
#define GPCMD_SET_CD_SPEED      0xbb
#define GPCMD_MECHANISM_STATUS  0xbd

#define ATAPI_PACKET_SIZE       12
#define CD_SECTOR_SIZE          2048
#define IDE_SECTOR_SIZE         512
#define IDE_MAX_MULT            16      /* READ/WRITE MULTIPLE block limit */
/* The PIO buffer: one DRQ block of an ATA command (IDE_MAX_MULT sectors)
 * or a few CD sectors / one ATAPI reply. */
#define IDE_BUF_SIZE            (8 * CD_SECTOR_SIZE)

typedef enum IDEDriveKind {
    IDE_NONE,
    IDE_HD,
    IDE_CD,
} IDEDriveKind;

/* What ends the PIO data transfer in progress (saved: keep the values). */
typedef enum IDEXfer {
    IDE_XFER_NONE,
    IDE_XFER_DATA_IN,       /* one block of reply data, then done */
    IDE_XFER_READ,          /* ATA PIO read: next block or done */
    IDE_XFER_WRITE,         /* ATA PIO write: write the block out */
    IDE_XFER_PACKET,        /* ATAPI: the 12-byte command packet */
    IDE_XFER_ATAPI_IN,      /* ATAPI data-in: next chunk or done */
    IDE_XFER_MAX,
} IDEXfer;

/* The asynchronous step a drive waits for (saved: keep the values). */
typedef enum IDEAioOp {
    IDE_AIO_NONE,
    IDE_AIO_PIO_READ,       /* fill the PIO buffer from the disk */
    IDE_AIO_PIO_WRITE,      /* write the PIO buffer to the disk */
    IDE_AIO_FLUSH,
    IDE_AIO_VERIFY,         /* READ VERIFY: read and drop */
    IDE_AIO_DMA,            /* one chunk of a bus-master transfer */
    IDE_AIO_ATAPI_READ,     /* fill the PIO buffer with CD sectors */
    IDE_AIO_TRIM,           /* zero the TRIM range at data_ptr */
    IDE_AIO_MAX,
} IDEAioOp;

/* Where a DMA transfer takes its data (saved: keep the values). */
typedef enum IDEDmaKind {
    IDE_DMA_NONE,
    IDE_DMA_ATA_READ,       /* disk -> memory */
    IDE_DMA_ATA_WRITE,      /* memory -> disk */
    IDE_DMA_ATAPI_READ,     /* CD sectors -> memory */
    IDE_DMA_ATAPI_BUF,      /* reply in io_buffer -> memory */
    IDE_DMA_ATA_TRIM,       /* TRIM range list: memory -> io_buffer */
    IDE_DMA_MAX,
} IDEDmaKind;

typedef struct IDEBus IDEBus;

/* How a BIOS translates a disk's CHS geometry (CMOS 0x39: value - 1). */
typedef enum {
    IDE_CHS_TRANS_AUTO,             /* from the geometry */
    IDE_CHS_TRANS_NONE,
    IDE_CHS_TRANS_LBA,
    IDE_CHS_TRANS_LARGE,
    IDE_CHS_TRANS_RECHS,
} IDEChsTrans;

typedef struct IDEState {
    /* ---- configuration, set when a drive attaches (not saved) ---- */
    IDEBus *bus;
    int unit;
    IDEDriveKind kind;
    BlockBackend *blk;
    DeviceState *qdev;              /* the ide-hd / ide-cd device */
    uint64_t nb_sectors;            /* disk: 512-byte sectors */
    uint32_t cylinders, heads, sectors;   /* default CHS geometry */
    IDEChsTrans chs_trans;          /* the BIOS' translation (CMOS 0x39) */
    char serial[21], model[41], version[9];
    bool wce_default;               /* write cache on at power-on */

    /* ---- taskfile ---- */
    uint8_t feature, hob_feature;
    uint8_t nsector, hob_nsector;
    uint8_t sector, hob_sector;
    uint8_t lcyl, hob_lcyl;
    uint8_t hcyl, hob_hcyl;
    uint8_t select;
    uint8_t status;
    uint8_t error;
    bool irq_pending;               /* INTRQ, while this device is selected */

    /* ---- device settings ---- */
    uint8_t mult_sectors;           /* 0: READ/WRITE MULTIPLE disabled */
    uint16_t cur_heads, cur_sectors;      /* INITIALIZE DEVICE PARAMETERS */
    bool write_cache;               /* off: the block layer flushes writes */
    uint8_t pio_mode, mwdma_mode, udma_mode;   /* SET FEATURES; 0xff none */

    /* ---- the command in progress ---- */
    uint8_t cmd;
    bool lba48;
    uint64_t lba;                   /* next sector (512 B, or 2 KiB on CD) */
    uint32_t remaining;             /* sectors still to transfer */
    uint32_t block_sectors;         /* sectors in the current PIO block */
    uint8_t xfer;                   /* IDEXfer */
    uint8_t aio_op;                 /* IDEAioOp */
    uint8_t dma_kind;               /* IDEDmaKind; != NONE: DMA command */
    uint32_t dma_done;              /* bytes of it already transferred */
    uint32_t dma_total;             /* bytes it transfers in all */
    uint8_t io_buffer[IDE_BUF_SIZE];
    uint32_t data_ptr, data_end;    /* PIO window in io_buffer */
    uint32_t buf_end;               /* valid bytes in io_buffer (ATAPI) */

    /* ---- ATAPI ---- */
    uint8_t sense_key, asc, ascq;
    bool unit_attention;            /* medium changed since last report */
    bool tray_open, tray_locked;
    uint8_t media_event;            /* GET EVENT STATUS: pending event code */
    uint16_t byte_limit;            /* PACKET byte count limit */
    bool atapi_dma;                 /* PACKET with the DMA feature bit */

    /* ---- run time only ---- */
    unsigned gen;                   /* bumped to disown requests in flight */
    bool aio_inflight;
} IDEState;

typedef struct IDEDmaCursor {
    uint32_t prd;                   /* address of the current PRD entry */
    uint32_t off;                   /* bytes used of that entry */
    bool end;                       /* passed the EOT entry */
} IDEDmaCursor;

struct IDEBus {
    const char *name;               /* "ide.0", "ide.1" */
    int index;
    IDEState ifs[2];
    uint8_t unit;                   /* selected device */
    uint8_t devctl;                 /* device control register */
    qemu_irq irq;
    bool irq_level;
    PCIDevice *pci;                 /* for bus-master DMA */

    /* bus-master IDE */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;                /* PRD table pointer register */
    IDEDmaCursor dma;               /* position after the last whole chunk */
    uint8_t dma_unit;               /* device of the DMA in progress */

    /* run time only */
    IDEDmaCursor dma_next;          /* after the chunk in flight */
    MemoryRegion cmd_io, ctl_io;
};

/* The PIIX3 IDE function 00:01.1. */
typedef struct PCIIDEState {
    PCIDevice parent_obj;
    IDEBus bus[2];
    MemoryRegion bmdma_io;
} PCIIDEState;

#define PIIX_IDETIM             0x40    /* primary; secondary at 0x42 */
#define  PIIX_IDETIM_IDE        0x8000  /* decode the legacy ports */
#define PIIX_SIDETIM            0x44

typedef struct IDEDriveConf {
    const char *serial, *model, *version;   /* NULL: QEMU's defaults */
    uint32_t cyls, heads, secs;     /* 0: guessed (ide_drive_attach) */
    IDEChsTrans chs_trans;
    DeviceState *qdev;              /* the ide-hd / ide-cd device, if any */
} IDEDriveConf;

/* Put a drive in slot unit (-1: the first free) of bus; a disk needs a
 * medium, a CD-ROM may have an empty backend. */
IDEState *ide_drive_attach(IDEBus *bus, int unit, IDEDriveKind kind,
                           BlockBackend *blk, const IDEDriveConf *conf,
                           Error **errp);

/* Board: create 00:01.1 on bus; drives attach from the drive table. */
PCIIDEState *piix3_ide_init(PCIBus *bus);
/* Attach if=ide drives (index 0-3) to the controller's free slots. */
bool ide_attach_drive_table(PCIIDEState *d, Error **errp);
/* Disk types, geometry and translation in CMOS (once all drives exist). */
void ide_cmos_init(DeviceState *rtc);

/* The drive with this device id or -drive id, or NULL. */
IDEState *ide_find_drive(const char *name);
/* Open the tray (refused while locked unless force), take the medium out. */
bool ide_cd_eject(IDEState *s, bool force, Error **errp);
/* Insert a new medium, tray closed: the guest sees UNIT ATTENTION. */
bool ide_cd_change(IDEState *s, const BlockOpenOptions *opts, Error **errp);

#endif
