/* lwip_info.c - compiled into the liblwip.so that the Makefile builds from
 * Debian's lwip source package (with stack/lwipopts.h), never into netcon's
 * own objects (the Makefile leaves it out of libztstack.a). The stack reads
 * netcon_lwip_info after dlopen: to log which build it loaded, and to refuse
 * one whose options or layouts differ from the headers it was compiled
 * against (stack/lwip_api.c). */
#include "lwip/opt.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"

#include "stack/lwip_info.h"

#if !defined(NETCON_LWIP_BUILD)
#error "stack/lwip_info.c belongs to the lwIP built with stack/lwipopts.h"
#endif
#ifndef NC_LWIP_DEB_VERSION
#define NC_LWIP_DEB_VERSION "unknown"
#endif

__attribute__((visibility("default"))) const struct nc_lwip_info netcon_lwip_info = {
	.magic = NC_LWIP_INFO_MAGIC,
	.size = sizeof(struct nc_lwip_info),
	.deb_version = NC_LWIP_DEB_VERSION,
	.tcp_mss = TCP_MSS,
	.tcp_wnd = TCP_WND,
	.tcp_rcv_scale = TCP_RCV_SCALE,
	.tcp_snd_buf = TCP_SND_BUF,
	.tcp_snd_queuelen = TCP_SND_QUEUELEN,
	.tcp_tmr_interval = TCP_TMR_INTERVAL,
	.tcp_msl = TCP_MSL,
	.sizeof_tcp_pcb = sizeof(struct tcp_pcb),
	.sizeof_pbuf = sizeof(struct pbuf),
	.sizeof_netif = sizeof(struct netif),
	.sizeof_ip_addr = sizeof(ip_addr_t),
};
