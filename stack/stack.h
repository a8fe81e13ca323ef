/* stack.h - one user-space TCP/IP stack (a private lwIP instance) per network.
 *
 * The daemon (service/) creates one nc_stack per joined netcon network and
 * moves Ethernet frames between it and the engine. The RPC server (rpc/)
 * creates sockets in it on behalf of intercepted programs; each socket's data
 * path is a socketpair whose far end the program holds, so the program's
 * read/write/poll/epoll work natively. The stack pumps bytes between its end
 * of every socketpair and lwIP on its own threads.
 *
 * Threading: nc_stack_frame_in() and every nc_stack_sock_*() may be called
 * from any thread. Frames leaving the stack are queued and announced on the
 * eventfd nc_stack_out_fd(); the owner calls nc_stack_out_drain() from its
 * loop, which invokes frame_out on the caller's thread. An owner that can
 * tell when its loop is idle may give out_ready, and drain from the stack's
 * thread itself then (the eventfd is not bumped). Nothing here blocks the
 * caller for longer than taking the lwIP core lock.
 *
 * Errors are returned as -errno.
 */
#ifndef NETCON_STACK_H
#define NETCON_STACK_H

#include <stdint.h>
#include <sys/socket.h>

struct nc_stack;

/* frame_out() - one Ethernet frame (14-byte header included) left the stack.
 * Called from nc_stack_out_drain() or nc_stack_frame_flush(), on the
 * drainer's thread; @frame lives until it returns. */
typedef void (*nc_stack_frame_out_fn)(void *user, const uint8_t *frame, unsigned len);

/* out_ready() - optional: frames were queued by a thread of the stack (the
 * bridge, an RPC call), which has just released the core lock. The owner
 * may drain them right there, on that thread, if it can do so without
 * waiting (nc_stack_out_drain()); return 1 if it did and needs no eventfd,
 * 0 to have the eventfd bumped as usual. Saves a thread hop per frame when
 * the owner's loop is idle. Never called on lwIP's tcpip thread. */
typedef int (*nc_stack_out_ready_fn)(void *user);

struct nc_stack_config {
	const char *lwip_path;	/* liblwip.so to copy+dlopen (HOME/liblwip.so, else the installed one) */
	const char *tmp_dir;	/* where the private copy of the library goes (e.g. HOME) */
	uint64_t nwid;
	uint64_t mac;		/* our MAC, low 48 bits */
	unsigned mtu;
	/* local ports for connect() and bind/listen on port 0: port_lo..port_hi
	 * (0, 0: 32768..65535); TIME_WAIT pcbs are recycled when all are taken */
	unsigned port_lo, port_hi;
	nc_stack_frame_out_fn frame_out;
	nc_stack_out_ready_fn out_ready;	/* may be NULL */
	void *user;
};

/* nc_stack_new() - load a private lwIP, start its threads, bring the netif up. */
int nc_stack_new(const struct nc_stack_config *cfg, struct nc_stack **out);
/* nc_stack_lwip_desc() - which liblwip.so the stack loaded, from where, and
 * its options, for the log. Lives as long as the stack. */
const char *nc_stack_lwip_desc(const struct nc_stack *st);
/* nc_stack_free() - abort every connection, stop threads, unload lwIP.
 * Applications see ECONNRESET on their fds; connects still in progress get
 * done(-ECONNABORTED), on the calling thread. */
void nc_stack_free(struct nc_stack *st);

/* nc_stack_set_addrs() - replace the netif's addresses (port = prefix length)
 * and MTU, e.g. after a config update. */
int nc_stack_set_addrs(struct nc_stack *st, const struct sockaddr_storage *addrs, int n,
		       unsigned mtu);

/* nc_stack_frame_in() - an Ethernet frame (header included) for the stack. Copies it. */
int nc_stack_frame_in(struct nc_stack *st, const uint8_t *frame, unsigned len);

/* Batched input, for the owner's thread only (the one that drains):
 * nc_stack_frame_put() builds a frame from its parts in an lwIP buffer and
 * queues it; nc_stack_frame_flush() feeds everything queued under one hold
 * of the lock, each connection writes to its application once per batch,
 * and the frames the stack sent meanwhile go to frame_out from inside
 * nc_stack_frame_flush() (so call it where frame_out may run). Put feeds by
 * itself once 64 frames are queued, then without calling frame_out. Frames
 * still queued at nc_stack_free() are dropped. */
int nc_stack_frame_put(struct nc_stack *st, uint64_t dst_mac, uint64_t src_mac,
		       unsigned ethertype, const void *payload, unsigned len);
unsigned nc_stack_frame_flush(struct nc_stack *st);

/* nc_stack_out_fd() - eventfd readable when frames are queued for frame_out */
int nc_stack_out_fd(struct nc_stack *st);
void nc_stack_out_drain(struct nc_stack *st);

/* ---- sockets (used by the RPC server) ----
 * A socket is identified by the inode number of the application's end of its
 * socketpair (fstat st_ino), so any process holding that fd, across dup,
 * fork and exec, can name it. */

/* nc_stack_sock_new() - a new TCP socket. *app_fd is the application's end
 * (SOCK_STREAM AF_UNIX, blocking, close-on-exec); the caller passes it on and
 * closes its copy. *id is its inode.
 * Until it connects (or listens) the app end is kept full, so it does not
 * poll writable: a write() to it before connect() would block, so the
 * intercept should answer such writes itself (ENOTCONN/EPIPE). */
int nc_stack_sock_new(struct nc_stack *st, int family, int *app_fd, uint64_t *id);

int nc_stack_sock_bind(struct nc_stack *st, uint64_t id, const struct sockaddr *sa, socklen_t len);
int nc_stack_sock_listen(struct nc_stack *st, uint64_t id, int backlog);

/* Accepted connections are delivered on the listener's socketpair itself: for
 * each one the stack sends a struct nc_accept_rec (below) with the new
 * connection's application fd attached (SCM_RIGHTS), so the listener polls
 * readable natively and accept() is a recvmsg() of one record. */
struct nc_accept_rec {
	uint32_t magic;		/* NC_ACCEPT_MAGIC */
	uint32_t addrlen;
	struct sockaddr_storage peer;
};
#define NC_ACCEPT_MAGIC 0x6e636163u	/* "ncac" */

/* nc_stack_sock_connect() - start a connection. Completion (0 or -errno:
 * -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH) is reported by done(), called once
 * from a stack thread. Until completion the application's end does not poll
 * writable; afterwards it does, so a non-blocking connect behaves natively.
 * Return: 0 if started (done() will follow), or -errno (done() will not). */
typedef void (*nc_stack_connect_done_fn)(void *arg, uint64_t id, int result);
int nc_stack_sock_connect(struct nc_stack *st, uint64_t id, const struct sockaddr *sa,
			  socklen_t len, nc_stack_connect_done_fn done, void *arg);

/* nc_stack_sock_error() - pending error for SO_ERROR (0 when none); clears it.
 * The value is a positive errno (ECONNREFUSED, ETIMEDOUT, ECONNRESET), as
 * SO_ERROR reports it; -ENOENT for an unknown socket. */
int nc_stack_sock_error(struct nc_stack *st, uint64_t id);
/* nc_stack_sock_state() - NC_SOCK_* below, or -ENOENT. A connection that
 * ended (reset, or closed both ways) while the application still holds its
 * fd reads NC_SOCK_CLOSED for a while (the last 1024 such sockets). */
int nc_stack_sock_state(struct nc_stack *st, uint64_t id);
enum { NC_SOCK_NEW = 0, NC_SOCK_BOUND, NC_SOCK_LISTENING, NC_SOCK_CONNECTING,
       NC_SOCK_CONNECTED, NC_SOCK_CLOSED };

int nc_stack_sock_name(struct nc_stack *st, uint64_t id, int peer, struct sockaddr_storage *sa,
		       socklen_t *len);

/* Options the stack honours: SOL_SOCKET SO_KEEPALIVE, SO_REUSEADDR, SO_RCVBUF,
 * SO_SNDBUF, SO_LINGER; IPPROTO_TCP TCP_NODELAY, TCP_KEEPIDLE/INTVL/CNT;
 * IPPROTO_IPV6 IPV6_V6ONLY. Others: -ENOPROTOOPT. */
int nc_stack_sock_setopt(struct nc_stack *st, uint64_t id, int level, int name,
			 const void *val, socklen_t len);
int nc_stack_sock_getopt(struct nc_stack *st, uint64_t id, int level, int name,
			 void *val, socklen_t *len);

/* Closing: the stack notices by itself when every copy of the application's
 * end is closed (EOF on its own end) and closes the connection. */

/* Counters for /metrics */
struct nc_stack_stats {
	uint64_t frames_in, frames_out, frames_dropped;
	uint64_t conns_open, conns_total, listeners;
	uint64_t time_wait;	/* lwIP's TCP pcbs in TIME_WAIT (takes the lock) */
};
void nc_stack_stats(struct nc_stack *st, struct nc_stack_stats *s);

#endif
