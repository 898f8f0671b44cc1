#ifndef GEARBOX_CVIPSSHIM_H
#define GEARBOX_CVIPSSHIM_H
#include <vips/vips.h>
#endif
