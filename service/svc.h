/* svc.h - the daemon's pieces as they see each other (service/, not main.c).
 *
 * One struct svc per daemon holds everything: the engine, the epoll loop,
 * the UDP sockets, the HTTP API, the joined networks and their ports. It is
 * owned by the single event-loop thread; nothing here is thread-safe except
 * where a comment says so.
 *
 * Modules:
 *   svc_loop.c        epoll loop, signals, timers, start-up and shutdown
 *   svc_engine.c      zt_node callbacks (state, wire, frames, configs, events)
 *   svc_home.c        home directory files: identity, authtoken, pid, port
 *   svc_conf.c        local.conf (JSON) and networks.d/NWID.local.conf
 *   svc_udp.c         the primary UDP sockets
 *   svc_http.c        HTTP/1.1 connections (http-parser), bounded, non-blocking
 *   svc_api.c         the JSON routes of the local API
 *   svc_metrics.c     /metrics (Prometheus text)
 *   svc_netdir.c      networks.d/ join markers and the inotify watcher
 *   svc_net.c         joined networks: join/leave, config application
 *   svc_port_netcon.c netcon port: an nc_stack + nc_rpcd per network
 *   svc_port_tap.c    tap port: /dev/net/tun device per network
 *   svc_netlink.c     rtnetlink helpers for the tap port (addresses, routes, MTU)
 *   svc_log.c         one-line logs to stderr or HOME/node.log
 */
#ifndef NETCON_SERVICE_SVC_H
#define NETCON_SERVICE_SVC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "zt_node.h"

#define SVC_MAX_NETS 64
#define SVC_MAX_HTTP 256
#define SVC_MAX_STATIC 64
#define SVC_MAX_MGMT 16
#define SVC_HTTP_MAX_HEADER (16 * 1024)
#define SVC_HTTP_MAX_BODY (1024 * 1024)
#define SVC_HTTP_IDLE_MS 30000
#define SVC_UDP_BATCH 32
#define SVC_UDP_MAX 16384	/* larger than any ZeroTier datagram */
#define SVC_UDP_GRO_MAX 65536	/* any coalesced (UDP_GRO) message */
#define SVC_UDP_RXBUF ((size_t)SVC_UDP_BATCH * SVC_UDP_MAX)	/* receive area, 512 kB */
#define SVC_UDP_TXB 64		/* datagrams per sendmmsg() batch */
#define SVC_UDP_TXMAX 1536	/* larger sends bypass the batch */
#define SVC_FRAME_MAX (10000 + 18)	/* largest ZeroTier MTU + Ethernet/VLAN header */
#define SVC_DEFAULT_HOME "/var/lib/zerotier-one"

/* ---- log (svc_log.c) ---- */
void svc_log_open(const char *path);	/* NULL: stderr */
void svc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void svc_log_close(void);

struct svc_port_ops;

/* ---- options from the command line (main.c) ---- */
struct svc_opts {
	const char *home;
	int port;		/* -1: from local.conf or default */
	int daemonize;
	int netcon;		/* 1: netcon ports, 0: tap ports */
	const struct svc_port_ops *port_ops;	/* set by main.c: only that port is linked */
	const char *progname;
};

/* ---- local.conf (svc_conf.c) ---- */
struct svc_static_path {
	uint64_t address;
	struct sockaddr_storage ep;
};

struct svc_cidr {
	struct sockaddr_storage net;
	unsigned bits;
};

struct svc_conf {
	int primary_port;	/* -1 if unset */
	int no_planet;
	int n_static;
	struct svc_static_path statics[SVC_MAX_STATIC];
	int n_mgmt;
	struct svc_cidr mgmt[SVC_MAX_MGMT];
	unsigned port_lo, port_hi;	/* netcon stacks' local ports (0, 0: default) */
};

int svc_conf_parse(const char *json, size_t len, struct svc_conf *c, char *err, size_t errlen);
int svc_conf_load(const char *home, struct svc_conf *c, char *err, size_t errlen);
int svc_parse_ipport(const char *s, struct sockaddr_storage *ss);
int svc_parse_cidr(const char *s, struct svc_cidr *c);
int svc_cidr_match(const struct svc_cidr *c, const struct sockaddr_storage *a);
int svc_addr_is_local_scope(const struct sockaddr_storage *a);
void svc_format_ipport(const struct sockaddr_storage *ss, char *out, size_t cap);
void svc_format_ip(const struct sockaddr_storage *ss, char *out, size_t cap);

/* Per-network local settings (networks.d/NWID.local.conf). */
struct svc_netset {
	int allow_managed, allow_global, allow_default, allow_dns;
};
void svc_netset_defaults(struct svc_netset *s);
int svc_netset_load(const char *home, uint64_t nwid, struct svc_netset *s);
int svc_netset_save(const char *home, uint64_t nwid, const struct svc_netset *s);

/* ---- home directory (svc_home.c) ---- */
int svc_home_prepare(const char *home, char *err, size_t errlen);
int svc_home_check_secret_mode(const char *path, char *err, size_t errlen);
int svc_home_authtoken(const char *home, char *tok, size_t cap, char *err, size_t errlen);
int svc_file_read(const char *path, void *buf, size_t cap);
char *svc_file_read_all(const char *path, size_t max, size_t *len);
int svc_file_write(const char *path, const void *data, size_t len, int mode);
int svc_state_path(const char *home, enum zt_state_type type, const uint64_t id[2], char *out,
		   size_t cap);
int svc_hex_u64(const char *s, int digits, uint64_t *out);

/* ---- ports ---- */
struct svc;
struct svc_net;
struct svc_port_stats;

struct svc_port_ops {
	const char *kind;
	/* up() - create the port for a network with its first config. */
	int (*up)(struct svc *s, struct svc_net *n, const struct zt_network_info *info);
	/* apply() - (re)apply addresses, MTU and routes. */
	int (*apply)(struct svc *s, struct svc_net *n, const struct zt_network_info *info);
	/* down() - remove the port and everything it made. */
	void (*down)(struct svc *s, struct svc_net *n);
	/* frame() - an Ethernet frame from the engine for the port. */
	void (*frame)(struct svc *s, struct svc_net *n, uint64_t src, uint64_t dst,
		      unsigned ethertype, const void *data, unsigned len);
	/* readable() - the port's fd (registered with svc_loop_add) is ready. */
	void (*readable)(struct svc *s, struct svc_net *n);
	/* flush() - frames given to frame() may be held back (n->port_pending
	 * set) until this runs: after each batch of datagrams and each round
	 * of events, outside engine callbacks (it may call the engine). NULL
	 * if the port holds nothing. */
	void (*flush)(struct svc *s, struct svc_net *n);
	/* stats() - counters for /metrics; return 0 if the port has none. */
	int (*stats)(struct svc *s, struct svc_net *n, struct svc_port_stats *st);
	/* tick() - periodic work outside engine callbacks (may call the engine);
	 * NULL if the port needs none. */
	void (*tick)(struct svc *s, struct svc_net *n, int64_t now);
};
#define SVC_PORT_TICK_MS 1000
#define SVC_MAX_MCAST 64
extern const struct svc_port_ops svc_port_netcon_ops;
extern const struct svc_port_ops svc_port_tap_ops;
void svc_tap_name(uint64_t nwid, char *out);

struct nc_stack;
struct nc_rpcd;

struct svc_port_stats {
	uint64_t frames_in, frames_out, frames_dropped;
	uint64_t conns_open, conns_total, listeners, time_wait;
	int has_rpc;	/* a netcon port: the RPC server's counters follow */
	uint64_t direct_drains;	/* netcon_out_ready sends by a stack thread */
	uint64_t rpc_clients, rpc_clients_total, rpc_refused, rpc_requests, rpc_malformed;
};

struct svc_net {
	uint64_t nwid;
	int slot;
	int port_up;
	int port_error;			/* errno of the last failed up(), 0 if none */
	int left;			/* leave in progress */
	char dev[600];			/* portDeviceName */
	struct svc_netset set;
	struct zt_network_info applied;	/* what the port currently has */
	/* netcon */
	struct nc_stack *stack;
	struct nc_rpcd *rpcd;
	struct svc_ackq *ackq;		/* a pure TCP ACK held for coalescing */
	uint64_t direct_drains;		/* (svc mu) sends by a stack thread */
	int port_pending;		/* frames held for port_ops->flush */
	/* tap */
	int tap_fd;
	int ifindex;
	int n_mcast;			/* kernel multicast groups we subscribed */
	uint64_t mcast[SVC_MAX_MCAST];
	struct svc *svc;
};

/* ---- HTTP (svc_http.c) ---- */
struct svc_http_req {
	char method[16];
	char *path;		/* without the query */
	char *query;		/* may be NULL */
	char *body;
	size_t body_len;
	const char *auth;	/* token from X-ZT1-Auth, Bearer or ?auth= (NULL if none) */
};

struct svc_http_conn;
int svc_http_listen(struct svc *s);
void svc_http_accept(struct svc *s, int idx);
int svc_http_adopt(struct svc *s, int fd, const struct sockaddr_storage *peer);
void svc_http_event(struct svc *s, int idx, uint32_t events);
void svc_http_close_all(struct svc *s);
int svc_http_reap(struct svc *s, int64_t now);

/* ---- API (svc_api.c) ---- */
/* svc_api_handle() - answer one request. *body gets a malloc'd response,
 * *ctype its content type. Return: HTTP status. */
int svc_api_handle(struct svc *s, const struct svc_http_req *rq, char **body, const char **ctype);
char *svc_metrics_text(struct svc *s);

/* ---- UDP (svc_udp.c) ---- */
int svc_udp_open(struct svc *s, int port);
void svc_udp_readable(struct svc *s, int idx);
int svc_udp_send(struct svc *s, int64_t local_socket, const struct sockaddr_storage *to,
		 const void *data, unsigned len, unsigned ttl);
void svc_udp_flush(struct svc *s);
void svc_udp_close(struct svc *s);

/* ---- networks (svc_net.c, svc_netdir.c) ---- */
int svc_net_join(struct svc *s, uint64_t nwid, int from_api);
int svc_net_leave(struct svc *s, uint64_t nwid, int remove_marker);
struct svc_net *svc_net_find(struct svc *s, uint64_t nwid);
int svc_net_config(struct svc *s, struct svc_net *n, enum zt_netconf_op op,
		   const struct zt_network_info *info);
void svc_net_leave_all(struct svc *s);
int svc_net_reapply(struct svc *s, struct svc_net *n);
int svc_netdir_start(struct svc *s);
void svc_netdir_event(struct svc *s);
int svc_netdir_scan(struct svc *s);
int svc_netdir_marker(struct svc *s, uint64_t nwid, int create);
int svc_moons_scan(struct svc *s);
int svc_peers_scan(struct svc *s);

/* ---- engine glue (svc_engine.c) ---- */
extern const struct zt_node_callbacks svc_engine_callbacks;
int64_t svc_now(void);
void svc_deadline(struct svc *s, int64_t nd);

/* ---- event loop (svc_loop.c) ---- */
enum svc_ev {
	SVC_EV_NONE = 0,
	SVC_EV_UDP,
	SVC_EV_HTTP_LISTEN,
	SVC_EV_HTTP_CONN,
	SVC_EV_SIGNAL,
	SVC_EV_INOTIFY,
	SVC_EV_PORT,
	SVC_EV_COUNT
};
int svc_loop_add(struct svc *s, int fd, enum svc_ev type, uint32_t idx, uint32_t events);
int svc_loop_mod(struct svc *s, int fd, enum svc_ev type, uint32_t idx, uint32_t events);
void svc_loop_del(struct svc *s, int fd);
int svc_run(const struct svc_opts *o);
void svc_port_flush(struct svc *s);

struct svc_ctl_ref;
struct nc_ctl;

struct svc_udp_sock {
	int fd;
	int family;
	int no_gso;	/* the kernel refused UDP_SEGMENT here (or NC_NO_GSO): one datagram per message */
	unsigned gso_einval;	/* runs refused with EMSGSIZE/EINVAL (segment over a path's MTU) */
	int gro;	/* UDP_GRO on: a message may be several datagrams */
};
#define SVC_UDP_GSO_EINVAL_MAX 64	/* then no_gso */

struct svc {
	struct svc_opts opts;
	char home[512];
	char token[64];
	struct svc_conf conf;
	zt_node *node;
	struct nc_ctl *ctl;
	const struct svc_port_ops *port_ops;
	int epfd;
	int sigfd;
	int inofd, inowd, inowd_moons;
	int stop;
	/* the loop's lock: held by the loop thread except while it waits in
	 * epoll_wait, so a stack thread that takes it (trylock) may run the
	 * engine and the UDP sends in its place (netcon_out_ready) */
	pthread_mutex_t mu;
	int64_t sleep_until;	/* (mu) when the waiting loop wakes by itself */
	int64_t deadline;
	int port;
	int n_udp;
	struct svc_udp_sock udp[4];
	uint8_t *udp_rxbuf;		/* SVC_UDP_RXBUF: the receive slots */
	struct svc_udp_txq *udp_txq;	/* sends batched until svc_udp_flush() */
	int n_listen;
	int listen_fd[4];
	struct svc_http_conn *http[SVC_MAX_HTTP];
	struct svc_net *nets[SVC_MAX_NETS];
	uint64_t udp_dropped_scope;	/* sends refused: noPlanet guard */
	uint64_t udp_datagrams_out;	/* datagrams the kernel took */
	uint64_t udp_gro_datagrams;	/* datagrams received coalesced by the kernel (UDP_GRO) */
	uint64_t udp_rx_truncated;	/* messages larger than a receive slot (dropped) */
	uint64_t udp_gso_sends;		/* of them, sent as segments of one UDP_SEGMENT message */
	uint64_t udp_gso_sends_msgs;	/* such messages */
	uint64_t udp_send_errors;	/* datagrams the kernel refused (dropped) */
	uint64_t udp_gso_refused;	/* UDP_SEGMENT messages refused, sent again one by one */
	uint64_t http_requests, http_errors;
	int was_online;
	int trace;			/* NC_TRACE set: log the engine's trace events */
	int rtnl_fd;			/* tap mode: rtnetlink socket, -1 if none */
	int wrote_files;		/* pid/port files are ours to remove */
	int ready_fd;			/* -d: pipe to the waiting parent, else -1 */
	uint16_t http_gen;
	int64_t http_next_reap;		/* 0: no clients to watch */
	int64_t port_next_tick;
	int port_pending;		/* some net has port_pending set */
};

#endif
