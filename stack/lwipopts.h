/* lwipopts.h - netcon's options for the liblwip.so the Makefile builds from
 * Debian's lwip source package (scripts/lwip-src.sh). Used only for that
 * build: netcon's own code is compiled against the installed Debian headers
 * (/usr/include/lwip), and the stack must work with either library, because
 * a user's HOME/liblwip.so may be Debian's.
 *
 * So this file starts from Debian's own options (the port's lwipopts.h, the
 * one installed as /usr/include/lwip/lwipopts.h; scripts/lwip-src.sh checks
 * they are identical) and changes only options that change behaviour, never
 * a struct layout: timer periods, lifetimes, queue lengths within the same
 * field types. tests/integration/lwip_abi.sh proves it (sizeof/offsetof of
 * every structure the stack touches, compiled both ways, and the exported
 * symbols of both libraries). Options that would change a layout
 * (LWIP_TCP_TIMESTAMPS, LWIP_TCP_SACK_OUT, TCP_QUEUE_OOSEQ, LWIP_WND_SCALE,
 * LWIP_IPV6_NUM_ADDRESSES...) stay Debian's; see bench/PROFILE.md, "lwIP
 * built from source", for why none was worth it.
 *
 * Kept as Debian's on purpose: TCP_WND 0xFFFF, TCP_RCV_SCALE 1, TCP_SND_BUF
 * 0xFFFF and TCP_MSS 1460. stack/tcp_bridge.c already grows an established
 * connection's receive window to 128 kB and its send buffer to 192 kB at run
 * time with arithmetic on these header values (conn_grow_rcvwnd,
 * conn_disown's "all data read" window, conn_grow_sndbuf); a library whose
 * TCP_WND differed would make tcp_close() answer every close with a RST.
 * The MSS is bounded by the stack's interface MTU anyway (1394: one
 * ZeroTier datagram per segment, see the netcon port). With TCP_MSS and
 * TCP_SND_BUF unchanged, TCP_SND_QUEUELEN (derived from them) is Debian's
 * 180 pbufs, which stack/tcp_bridge.c (conn_pump_tx) counts on. (Do not pin
 * it here: in init.c, sockets.c, memp.c and if_api.c <netinet/tcp.h>, pulled
 * in by the port's posix/inet.h, redefines TCP_MSS as the socket option 512,
 * and lwIP's sanity check then fails; Debian's build has the same quirk.)
 */
#ifndef NETCON_LWIPOPTS_H
#define NETCON_LWIPOPTS_H

#include_next "lwipopts.h"	/* Debian's port/include/lwipopts.h */

/* Marks the build (stack/lwip_info.c is compiled only with this file). */
#define NETCON_LWIP_BUILD 1

/* TCP timer period. lwIP's default is 250 ms: the fast timer (delayed ACKs)
 * every 250 ms and the slow timer, the unit of every RTO, every 500 ms. Its
 * RTT estimator cannot go below 3 slow ticks (sv settles at 3 when every
 * sample is 0 ticks), so on a fast path the smallest retransmission timeout
 * is 1.5 s, doubled per retry. Under 5% loss the congestion window stays at
 * a few segments, too few for three duplicate ACKs after many losses, so
 * recovery is mostly by timeout and the connection mostly waits
 * (tests/tools/lwip_loss: 99% of the transfer time in stalls). At 25 ms the
 * RTO floor is 150 ms (Linux's minimum is 200 ms) and a delayed ACK waits at
 * most 25 ms. The prices: while the stack has a TCP connection (also in
 * TIME_WAIT) its tcpip thread wakes 40 times a second instead of 4 (about
 * 1 ms of CPU a second); and a connection to a peer that stopped answering
 * gives up (ETIMEDOUT) after TCP_MAXRTX = 12 doubling timeouts from that
 * base, ~2.3 min on a fast path instead of ~22 min (lwIP allows at most 12;
 * Linux gives up after ~15 min, Windows after ~30 s). bench/PROFILE.md, "lwIP built from source", has
 * the numbers for 250, 100, 50, 25 and 10 ms. NC_LWIP_TMR_MS overrides it
 * (make LWIP_OPTS=-DNC_LWIP_TMR_MS=...) for measurements. */
#ifndef NC_LWIP_TMR_MS
#define NC_LWIP_TMR_MS 25
#endif
#define TCP_TMR_INTERVAL NC_LWIP_TMR_MS


/* Maximum segment lifetime; TIME_WAIT lasts 2 * TCP_MSL. lwIP's 60 s (120 s
 * of TIME_WAIT) holds each closed connection's local port for two minutes,
 * and lwIP never reuses a local port still in TIME_WAIT: its 16,384
 * ephemeral ports then last ~136 new connections per second. 10 s (20 s of
 * TIME_WAIT, ~800 connections per second; Linux keeps TIME_WAIT 60 s but
 * reuses such ports per destination): a segment of a virtual network that
 * has not arrived within seconds (tens of milliseconds on a path, a few
 * retransmissions) is not coming. */
#ifndef NC_LWIP_MSL_MS
#define NC_LWIP_MSL_MS 10000
#endif
#define TCP_MSL NC_LWIP_MSL_MS

/* The Internet checksum: stack/lwip_chksum.c, 8 bytes per step instead of
 * lwIP's 2 (7-8% of a daemon's CPU in a bulk transfer, bench/PROFILE.md).
 * LWIP_CHKSUM_ALGORITHM stays Debian's 2, so lwip_standard_chksum is still
 * built and exported as in Debian's library, only no longer called. */
#include <stdint.h>
uint16_t netcon_lwip_chksum(const void *dataptr, int len);
#define LWIP_CHKSUM netcon_lwip_chksum
#define LWIP_CHKSUM_ALGORITHM 2

#endif
