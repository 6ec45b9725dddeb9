/* SPDX-License-Identifier: MIT */
/* altview/altview.h — all of libaltview (see libaltview(3)). */
#ifndef ALTVIEW_ALTVIEW_H
#define ALTVIEW_ALTVIEW_H

#include <altview/common.h>
#include <altview/domain.h>
#include <altview/view.h>
#include <altview/monitor.h>
#include <altview/evtchn.h>
#include <altview/grant.h>
#include <altview/guest.h>

#endif
