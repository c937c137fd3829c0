/* MC146818 RTC/CMOS: the board stores its configuration bytes in the NVRAM. */
#ifndef HW_TIMER_MC146818RTC_H
#define HW_TIMER_MC146818RTC_H

#include "hw/qdev.h"

#define TYPE_MC146818_RTC "mc146818rtc"

/* Raw NVRAM access for addr 0-127; other addresses are ignored (read 0xff). */
void mc146818rtc_set_cmos_data(DeviceState *rtc, int addr, uint8_t val);
uint8_t mc146818rtc_get_cmos_data(DeviceState *rtc, int addr);

#endif
