/* lwip_info.h - what a liblwip.so built by netcon's Makefile says about
 * itself (stack/lwip_info.c, exported as netcon_lwip_info). A library
 * without the symbol (Debian's package) is taken to have the options of
 * the installed headers. */
#ifndef NETCON_LWIP_INFO_H
#define NETCON_LWIP_INFO_H

#include <stdint.h>

#define NC_LWIP_INFO_MAGIC 0x6e636c77u	/* "nclw" */

struct nc_lwip_info {
	uint32_t magic;			/* NC_LWIP_INFO_MAGIC */
	uint32_t size;			/* sizeof(struct nc_lwip_info) */
	char deb_version[48];		/* Debian version of the source package */
	/* options (lwipopts.h) */
	uint32_t tcp_mss, tcp_wnd, tcp_rcv_scale, tcp_snd_buf, tcp_snd_queuelen;
	uint32_t tcp_tmr_interval, tcp_msl;
	/* layouts the stack depends on, as this library was compiled */
	uint32_t sizeof_tcp_pcb, sizeof_pbuf, sizeof_netif, sizeof_ip_addr;
};

#endif
