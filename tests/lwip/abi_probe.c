/* abi_probe.c - print the layouts netcon's stack shares with liblwip.so.
 *
 * The Makefile compiles this twice: against Debian's installed headers
 * (/usr/include/lwip, what stack/ is compiled with) and against the
 * unpacked source package with stack/lwipopts.h (what the Makefile's
 * liblwip.so is compiled with). tests/integration/lwip_abi.sh compares the
 * two outputs: every "layout" line must be identical; "option" lines may
 * differ only for the options stack/lwipopts.h is meant to change.
 */
#include <stddef.h>
#include <stdio.h>

#include "lwip/opt.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcpip.h"
#include "lwip/timeouts.h"
#include "lwip/etharp.h"
#include "netif/ethernet.h"

#define SIZE(t) printf("layout sizeof(%s) %zu\n", #t, sizeof(t))
#define OFF(t, f) printf("layout offsetof(%s, %s) %zu size %zu\n", #t, #f, offsetof(t, f), \
			 sizeof(((t *)0)->f))
#define OPT(m) printf("option %s %lu\n", #m, (unsigned long)(m))

int main(void)
{
	SIZE(err_t); SIZE(ip4_addr_t); SIZE(ip6_addr_t); SIZE(ip_addr_t); SIZE(tcpwnd_size_t);
	SIZE(tcpflags_t); SIZE(struct eth_addr); SIZE(struct eth_hdr);
	OFF(ip_addr_t, type);

	SIZE(struct pbuf);
	OFF(struct pbuf, next); OFF(struct pbuf, payload); OFF(struct pbuf, tot_len);
	OFF(struct pbuf, len); OFF(struct pbuf, type_internal); OFF(struct pbuf, flags);
	OFF(struct pbuf, ref); OFF(struct pbuf, if_idx);

	SIZE(struct netif);
	OFF(struct netif, next); OFF(struct netif, ip_addr); OFF(struct netif, netmask);
	OFF(struct netif, gw); OFF(struct netif, ip6_addr); OFF(struct netif, ip6_addr_state);
	OFF(struct netif, ip6_addr_valid_life); OFF(struct netif, ip6_addr_pref_life);
	OFF(struct netif, input); OFF(struct netif, output); OFF(struct netif, linkoutput);
	OFF(struct netif, output_ip6); OFF(struct netif, state); OFF(struct netif, client_data);
	OFF(struct netif, mtu); OFF(struct netif, mtu6); OFF(struct netif, hwaddr);
	OFF(struct netif, hwaddr_len); OFF(struct netif, flags); OFF(struct netif, name);
	OFF(struct netif, num); OFF(struct netif, ip6_autoconfig_enabled);
	OFF(struct netif, rs_count); OFF(struct netif, igmp_mac_filter);
	OFF(struct netif, mld_mac_filter); OFF(struct netif, loop_first);

	SIZE(struct tcp_pcb);
	OFF(struct tcp_pcb, local_ip); OFF(struct tcp_pcb, remote_ip); OFF(struct tcp_pcb, netif_idx);
	OFF(struct tcp_pcb, so_options); OFF(struct tcp_pcb, tos); OFF(struct tcp_pcb, ttl);
	OFF(struct tcp_pcb, next); OFF(struct tcp_pcb, callback_arg); OFF(struct tcp_pcb, state);
	OFF(struct tcp_pcb, prio); OFF(struct tcp_pcb, local_port); OFF(struct tcp_pcb, remote_port);
	OFF(struct tcp_pcb, flags); OFF(struct tcp_pcb, polltmr); OFF(struct tcp_pcb, last_timer);
	OFF(struct tcp_pcb, tmr); OFF(struct tcp_pcb, rcv_nxt); OFF(struct tcp_pcb, rcv_wnd);
	OFF(struct tcp_pcb, rcv_ann_wnd); OFF(struct tcp_pcb, rcv_ann_right_edge);
	OFF(struct tcp_pcb, rtime); OFF(struct tcp_pcb, mss); OFF(struct tcp_pcb, rttest);
	OFF(struct tcp_pcb, rtseq); OFF(struct tcp_pcb, sa); OFF(struct tcp_pcb, sv);
	OFF(struct tcp_pcb, rto); OFF(struct tcp_pcb, nrtx); OFF(struct tcp_pcb, dupacks);
	OFF(struct tcp_pcb, lastack); OFF(struct tcp_pcb, cwnd); OFF(struct tcp_pcb, ssthresh);
	OFF(struct tcp_pcb, rto_end); OFF(struct tcp_pcb, snd_nxt); OFF(struct tcp_pcb, snd_wl1);
	OFF(struct tcp_pcb, snd_wl2); OFF(struct tcp_pcb, snd_lbb); OFF(struct tcp_pcb, snd_wnd);
	OFF(struct tcp_pcb, snd_wnd_max); OFF(struct tcp_pcb, snd_buf);
	OFF(struct tcp_pcb, snd_queuelen); OFF(struct tcp_pcb, unsent_oversize);
	OFF(struct tcp_pcb, bytes_acked); OFF(struct tcp_pcb, unsent); OFF(struct tcp_pcb, unacked);
	OFF(struct tcp_pcb, ooseq); OFF(struct tcp_pcb, refused_data); OFF(struct tcp_pcb, listener);
	OFF(struct tcp_pcb, sent); OFF(struct tcp_pcb, recv); OFF(struct tcp_pcb, connected);
	OFF(struct tcp_pcb, poll); OFF(struct tcp_pcb, errf); OFF(struct tcp_pcb, keep_idle);
	OFF(struct tcp_pcb, keep_intvl); OFF(struct tcp_pcb, keep_cnt);
	OFF(struct tcp_pcb, persist_cnt); OFF(struct tcp_pcb, persist_backoff);
	OFF(struct tcp_pcb, persist_probe); OFF(struct tcp_pcb, keep_cnt_sent);
	OFF(struct tcp_pcb, snd_scale); OFF(struct tcp_pcb, rcv_scale);

	SIZE(struct tcp_pcb_listen);
	OFF(struct tcp_pcb_listen, state); OFF(struct tcp_pcb_listen, local_port);
	OFF(struct tcp_pcb_listen, accept);

	SIZE(struct tcp_seg); SIZE(struct tcp_hdr);
	SIZE(struct lwip_cyclic_timer);
	OFF(struct lwip_cyclic_timer, interval_ms); OFF(struct lwip_cyclic_timer, handler);

	/* flag and state values the stack tests */
	OPT(TF_ACK_DELAY); OPT(TF_ACK_NOW); OPT(TF_WND_SCALE); OPT(TF_NODELAY);
	OPT(ESTABLISHED); OPT(TIME_WAIT); OPT(NETIF_FLAG_UP); OPT(NETIF_FLAG_ETHARP);
	OPT(NETIF_MAX_HWADDR_LEN); OPT(LWIP_IPV6_NUM_ADDRESSES); OPT(IPADDR_TYPE_ANY);

	/* options the stack computes with, and those stack/lwipopts.h changes */
	OPT(TCP_MSS); OPT(TCP_WND); OPT(TCP_RCV_SCALE); OPT(TCP_SND_BUF); OPT(TCP_SND_QUEUELEN);
	OPT(TCP_WND_UPDATE_THRESHOLD); OPT(TCP_TMR_INTERVAL); OPT(TCP_MSL);
	OPT(TCP_FIN_WAIT_TIMEOUT); OPT(TCP_MAXRTX); OPT(TCP_SYNMAXRTX);
	OPT(LWIP_WND_SCALE); OPT(TCP_QUEUE_OOSEQ); OPT(LWIP_TCP_SACK_OUT); OPT(LWIP_TCP_TIMESTAMPS);
	OPT(LWIP_TCP_KEEPALIVE); OPT(TCP_OVERSIZE); OPT(LWIP_TCPIP_CORE_LOCKING);
	OPT(LWIP_CHECKSUM_ON_COPY); OPT(MEM_LIBC_MALLOC); OPT(MEMP_MEM_MALLOC);
	return 0;
}
