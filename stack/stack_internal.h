/* stack_internal.h - shared by the files of stack/ only.
 *
 * lwIP keeps all of its state in globals (netif_list, tcp_active_pcbs, the
 * timeout list, the core lock...). To have one independent TCP/IP stack per
 * network, every instance loads its own copy of liblwip.so (copied to a
 * unique file and dlopen'd RTLD_LOCAL, so the copy's internal references bind
 * to itself) and calls it only through the function table struct nc_lwip.
 * Nothing in this process links lwIP: a direct call would go to no copy at
 * all (the link would fail), which keeps us honest. Only lwIP's headers are
 * used, for types, struct layouts and field macros.
 *
 * Locking: one lock per instance, lwIP's own core lock (LOCK_TCPIP_CORE of
 * that copy). It protects lwIP and every field of struct nc_stack and
 * struct nc_conn marked (L) below. lwIP callbacks run with it held (on the
 * tcpip thread for timers, on the caller's thread for nc_stack_frame_in()).
 * The lock is not recursive: code running under it never calls back out.
 */
#ifndef NETCON_STACK_INTERNAL_H
#define NETCON_STACK_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lwip/opt.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"	/* tcp_update_rcv_ann_wnd, see conn_recved */
#include "lwip/tcpip.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "netif/ethernet.h"

#include "stack/stack.h"

/* Every lwIP function the stack uses, resolved with dlsym in the private copy. */
#define NC_LWIP_FUNCS(X)                                                            \
	X(tcpip_init) X(tcpip_callback) X(sys_lock_tcpip_core) X(sys_unlock_tcpip_core) \
	X(netif_add) X(netif_remove) X(netif_set_up) X(netif_set_down)                \
	X(netif_set_link_up) X(netif_set_addr) X(netif_add_ip6_address)               \
	X(netif_ip6_addr_set) X(netif_ip6_addr_set_state) X(netif_create_ip6_linklocal_address)             \
	X(ethernet_input) X(etharp_output) X(ethip6_output)                           \
	X(pbuf_alloc) X(pbuf_free) X(pbuf_copy_partial)                               \
	X(tcp_new_ip_type) X(tcp_arg) X(tcp_recv) X(tcp_sent) X(tcp_err)             \
	X(tcp_accept) X(tcp_recved) X(tcp_bind) X(tcp_connect)                        \
	X(tcp_listen_with_backlog_and_err) X(tcp_abort) X(tcp_close) X(tcp_shutdown) \
	X(tcp_write) X(tcp_output) X(tcp_update_rcv_ann_wnd)

/* struct nc_lwip - one loaded copy of liblwip.so and its entry points */
struct nc_lwip {
	void *dl;
	char desc[512];		/* which library, from where (lwip_api.c) */
#define NC_LWIP_MEMBER(name) __typeof__(name) *name;
	NC_LWIP_FUNCS(NC_LWIP_MEMBER)
#undef NC_LWIP_MEMBER
	/* lwIP's pcb lists and slow-timer clock, read by sock_port.c (NULL if
	 * the library does not export them: lwIP then picks ports itself) */
	struct tcp_pcb **const *pcb_lists;	/* tcp_pcb_lists[NUM_TCP_PCB_LISTS] */
	struct tcp_pcb **tw_pcbs;		/* &tcp_tw_pcbs */
	const u32_t *ticks;			/* &tcp_ticks */
	unsigned slow_ms;			/* its period: TCP_SLOW_INTERVAL of that build */
};

int nc_lwip_load(struct nc_lwip *l, const char *path, const char *tmp_dir);
void nc_lwip_unload(struct nc_lwip *l);

/* A frame waiting for nc_stack_out_drain() */
struct nc_frame {
	struct nc_frame *next;
	unsigned len;
	unsigned pooled;	/* NC_FRAME_CAP bytes of data, goes back to the pool */
	uint8_t data[];
};

/* Outgoing frames of up to NC_FRAME_CAP bytes (the netcon port's 1394-byte
 * MTU + header) come from a free list instead of malloc/free per frame; at
 * most NC_FRAME_POOL of them are kept on each of its two lists (see
 * stack_linkoutput) */
#define NC_FRAME_CAP 1536
#define NC_FRAME_POOL 128

/* frames queued by nc_stack_frame_put() before a flush feeds them to lwIP */
#define NC_STACK_INQ 64

/* A connection accepted by lwIP whose record could not be sent yet */
struct nc_pending_accept {
	struct nc_pending_accept *next;
	struct nc_conn *conn;
	int app_fd;
};

/* A connect completion to report, outside the lock, from the bridge thread */
struct nc_done {
	struct nc_done *next;
	nc_stack_connect_done_fn fn;
	void *arg;
	uint64_t id;
	int result;
};

#define NC_STACK_MAX_ADDRS 16
#define NC_STACK_TOMBS 1024
#define NC_STACK_IOBUF 65536
/* send buffer of an established connection (lwIP's TCP_SND_BUF is 64 kB,
 * its queue TCP_SND_QUEUELEN = 180 pbufs; see conn_grow_sndbuf) */
#define NC_SND_TOTAL (3 * TCP_SND_BUF)
/* receive window when the peer takes window scaling: the most a 16-bit
 * window field scaled by Debian's TCP_RCV_SCALE can say (lwIP's TCP_WND is
 * 64 kB; see conn_grow_rcvwnd) */
#define NC_RCV_TOTAL ((u32_t)0xFFFF << TCP_RCV_SCALE)

/* struct nc_conn - one socket: our end of its socketpair plus its pcb */
struct nc_conn {
	struct nc_stack *st;
	uint64_t id;			/* inode of the application's end */
	struct nc_conn *hnext;		/* (L) hash chain */
	struct nc_conn *gnext;		/* (L) graveyard */
	int fd;				/* our end, non-blocking */
	int family;			/* AF_INET or AF_INET6 */
	int state;			/* (L) NC_SOCK_* */
	int dead;			/* (L) freed; waiting in the graveyard */
	struct tcp_pcb *pcb;		/* (L) owned pcb, NULL once lwIP has it */
	unsigned hold;			/* (L) bytes at the head of our receive queue
					 * already dealt with (junk or sent) */
	/* readiness hints from the edge-triggered epoll, and protocol progress (L) */
	unsigned can_read : 1, can_write : 1;
	unsigned out_armed : 1;		/* EPOLLOUT is in our end's epoll events */
	unsigned app_eof : 1;		/* app will write no more (RDHUP) */
	unsigned app_noread : 1;	/* app will read no more (HUP / EPIPE) */
	unsigned tx_fin : 1;		/* app EOF passed to lwIP */
	unsigned remote_fin : 1;	/* FIN received */
	unsigned fin_delivered : 1;	/* shutdown(fd, SHUT_WR) done */
	unsigned in_cb : 1;		/* inside an lwIP callback for pcb */
	unsigned abort_req : 1;		/* reset wanted (done by whoever owns the moment) */
	unsigned disown_req : 1;	/* tcp_close wanted at the end of the callback */
	unsigned rx_sched : 1;		/* on st->rx_dirty */
	struct nc_conn *dnext;		/* (L) rx_dirty chain */
	/* net -> app data not yet written to fd (L) */
	struct pbuf *rxq, *rxq_tail;
	unsigned rxq_off;
	uint32_t rxq_bytes;
	uint32_t unrecved;		/* (L) received from lwIP, window not yet given back */
	int rx_big;			/* (L) window managed by us beyond TCP_WND */
	int pending_err;		/* (L) for SO_ERROR, positive errno */
	nc_stack_connect_done_fn done;	/* (L) while NC_SOCK_CONNECTING */
	void *done_arg;
	/* names, in lwIP form, kept for when the pcb is gone (L) */
	ip_addr_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	int has_remote;
	/* options (L) */
	int v6only, reuseaddr, nodelay, keepalive, keepidle, keepintvl, keepcnt;
	int rcvbuf, sndbuf;
	struct linger linger;
	/* listener (L) */
	int backlog;
	struct nc_pending_accept *acc_head, *acc_tail;
	unsigned acc_n;
	int counted_open;		/* counted in stats.conns_open */
	struct nc_conn *acc_owner;	/* (L) listener whose queue holds us */
};

struct nc_tomb {
	uint64_t id;
	int err;
};

/* struct nc_stack - one network's TCP/IP stack */
struct nc_stack {
	struct nc_lwip L;
	uint64_t nwid;
	uint64_t mac;
	unsigned mtu;
	nc_stack_frame_out_fn frame_out;
	nc_stack_out_ready_fn out_ready;
	void *user;

	struct netif netif;		/* (L) */
	int netif_added;
	pthread_t tcpip_thread;
	int tcpip_running;
	pthread_mutex_t init_mu;
	pthread_cond_t init_cv;
	int init_done;

	struct sockaddr_storage addrs[NC_STACK_MAX_ADDRS];	/* (L) */
	int naddrs;

	/* out queue: its own small mutex, so draining never waits for lwIP */
	pthread_mutex_t outq_mu;
	struct nc_frame *outq_head, *outq_tail;
	unsigned outq_len;
	int out_efd;
	/* frame buffer pool: linkoutput takes from fpool (L); the drainer gives
	 * back to fpool_ret (outq_mu), which linkoutput takes whole when fpool
	 * is empty: one mutex operation per refill, not per frame */
	struct nc_frame *fpool;		/* (L) */
	struct nc_frame *fpool_ret;	/* (outq_mu) */
	unsigned fpool_ret_n;		/* (outq_mu) */

	/* input batch (nc_stack_frame_put/flush): the owner's thread only */
	struct pbuf *inq[NC_STACK_INQ];
	unsigned inq_n;
	/* (L) while a batch is fed: connections write to their apps at its
	 * end (rx_dirty), and with direct_out the frames lwIP sends are left
	 * unannounced (out_unsignalled) for the flusher to drain itself */
	int batching, direct_out, out_unsignalled;

	/* bridge thread */
	int epfd;
	int wake_efd;
	int sig_out, sig_wake;		/* (L) eventfd bumps due at unlock */
	pthread_t bridge_thread;
	int bridge_running;
	int bridge_stop;		/* atomic: set by nc_stack_free() */

	/* sockets (L) */
	struct nc_conn **tab;
	unsigned tab_size, nconns;
	struct nc_conn *graveyard;
	struct nc_conn *rx_dirty;	/* (L) to service outside callbacks (conn_defer) */
	struct nc_done *done_head, *done_tail;
	struct nc_tomb tombs[NC_STACK_TOMBS];
	unsigned tomb_next;
	uint8_t iobuf[NC_STACK_IOBUF + 1];	/* (L) scratch for app -> net */

	/* local ports (sock_port.c), (L) */
	unsigned port_lo, port_hi, port_next;
	uint64_t port_held[65536 / 64], port_tw[65536 / 64];	/* scratch bitmaps */

	/* counters (atomics) */
	uint64_t frames_in, frames_out, frames_dropped;
	uint64_t conns_open, conns_total, listeners;
};

/* stack.c */
void nc_stack_lock(struct nc_stack *st);
void nc_stack_unlock(struct nc_stack *st);
void nc_stack_wake(struct nc_stack *st);

/* tcp_bridge.c */
void nc_bridge_event(struct nc_stack *st, struct nc_conn *c, uint32_t events);
void nc_bridge_reap(struct nc_stack *st);
void nc_bridge_batch_end(struct nc_stack *st);
void nc_bridge_abort_all(struct nc_stack *st);
int nc_bridge_pair(int *app, int *ours, uint64_t *id);
struct nc_conn *nc_conn_new(struct nc_stack *st, int fd, int family, uint64_t id);
int nc_conn_register(struct nc_stack *st, struct nc_conn *c);
void nc_conn_set_callbacks(struct nc_conn *c);
err_t nc_conn_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err);
err_t nc_conn_accept_cb(void *arg, struct tcp_pcb *newpcb, err_t err);
void nc_conn_drain_all(struct nc_conn *c);

/* sock_addr.c */
int nc_addr_from_sa(struct nc_stack *st, int family, const struct sockaddr *sa, socklen_t len,
		    ip_addr_t *ip, u16_t *port);
void nc_addr_to_sa(int family, const ip_addr_t *ip, u16_t port, struct sockaddr_storage *ss,
		   socklen_t *len);
int nc_addr_onlink(struct nc_stack *st, const ip_addr_t *ip);
int nc_addr_is_local(struct nc_stack *st, const ip_addr_t *ip);
int nc_addr_errno(err_t e);
void nc_addr_any(const struct nc_conn *c, ip_addr_t *ip);

/* sock_opts.c */
void nc_opts_apply(struct nc_stack *st, struct nc_conn *c);

/* sock_port.c */
#define NC_PORT_LO 32768
#define NC_PORT_HI 65535
void nc_tw_trim(struct nc_stack *st);
int nc_port_bind(struct nc_stack *st, struct tcp_pcb *pcb, const ip_addr_t *ip, const ip_addr_t *rip,
		 u16_t rport);

/* helpers shared by tcp_bridge.c and sock_opts.c */
struct nc_conn *nc_conn_find(struct nc_stack *st, uint64_t id);

#endif
