/* zt_controller.h - the embedded network controller (decisions in node/).
 * (Being written; see node/controller.c.)
 */
#ifndef NETCON_ZT_CONTROLLER_H
#define NETCON_ZT_CONTROLLER_H

#include <stdint.h>
#include "zt_node.h"

struct zt_controller;

#endif
