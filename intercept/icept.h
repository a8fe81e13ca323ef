/* icept.h - internals of libzerotierintercept.so (siblings in intercept/ only).
 *
 * The library is compiled with -fvisibility=hidden: everything declared here
 * stays private; only the libc functions it hooks are exported (ICEPT_EXPORT).
 *
 * Process-global state: an LD_PRELOAD library has no context to hang state
 * on, so the few globals (real libc entry points, the one RPC connection, the
 * per-fd cache) live in icept_rpc.c and icept_fd.c, each behind its own lock
 * or atomics.
 */
#ifndef NETCON_INTERCEPT_ICEPT_H
#define NETCON_INTERCEPT_ICEPT_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nc_rpc.h"

#define ICEPT_EXPORT __attribute__((visibility("default")))

/* the real libc functions, resolved with dlsym(RTLD_NEXT) */
struct icept_real {
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*shutdown)(int, int);
	int (*close)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	long (*syscall)(long, ...);
};

/* icept_real() - the real entry points (resolved on first use) */
const struct icept_real *icept_real(void);

/* icept_enabled() - is ZT_NC_NETWORK set for this process (re-read after fork) */
int icept_enabled(void);

/* icept_debug() - one diagnostic line on stderr when ZT_NC_DEBUG is set */
void icept_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* icept_rpc_call() - one request/reply on the process's RPC connection
 * (opened lazily, re-opened after fork). fd: the socket the request is
 * about (attached by SCM_RIGHTS) or -1. rflags: MSG_CMSG_CLOEXEC for a
 * reply fd. The reply's fd, if any, belongs to *rep.
 * Return: 0, -errno from the reply's err, or -ECONNREFUSED / -ENETUNREACH /
 * -EPROTO when the daemon cannot be reached or misbehaves. */
int icept_rpc_call(struct nc_rpc_msg *req, int fd, struct nc_rpc_msg *rep, int rflags);

/* icept_rpc_call_alone() - the same on a connection of its own (a spare
 * kept from an earlier call, or opened for this one): for a blocking
 * CONNECT, whose reply comes only when the connection completes, so other
 * threads' calls are not held up. Waits at
 * most timeout_ms (-1: no limit) for the reply: -EINPROGRESS after that,
 * -EINTR if a signal arrives first. */
int icept_rpc_call_alone(struct nc_rpc_msg *req, int fd, struct nc_rpc_msg *rep, int timeout_ms);

/* icept_rpc_fd_closed() - the application closed or replaced fd: if it was
 * our RPC connection, forget it (the next call opens a new one) */
void icept_rpc_fd_closed(int fd);

/* icept_rpc_range_closed() - the same for every fd in [first, last]
 * (close_range) */
void icept_rpc_range_closed(unsigned first, unsigned last);

/* ---- the per-fd cache (icept_fd.c) ---- */

#define ICEPT_FD_LISTEN	0x1	/* known to be listening */

/* icept_fd_classify() - is fd one of our network sockets? Cheap for native
 * fds (fstat, then the cache or getsockname); asks the server only about an
 * AF_UNIX stream socket with unnamed ends that it has not seen.
 * Return: 1 (ours; *family = AF_INET/AF_INET6, *flags = ICEPT_FD_*), 0 (not). */
int icept_fd_classify(int fd, int *family, unsigned *flags);

/* icept_fd_remember() - record fd as ours (just created or accepted) */
void icept_fd_remember(int fd, int family, unsigned flags);

/* icept_fd_set_flags() - add ICEPT_FD_* flags to a known fd */
void icept_fd_set_flags(int fd, unsigned flags);

/* icept_fd_forget() - fd was closed or is about to be replaced */
void icept_fd_forget(int fd);

/* icept_fd_copy() - fd "to" is now a duplicate of "from" */
void icept_fd_copy(int from, int to);

/* (after fork the child keeps the cache: entries are keyed by inode, and
 * the child holds the same sockets) */

/* ---- the hooks, callable from the syscall() hook (icept_hooks.c) ----
 * Each returns like the libc function (-1 and errno). */
int icept_socket(int domain, int type, int protocol);
int icept_bind(int fd, const struct sockaddr *sa, socklen_t len);
int icept_listen(int fd, int backlog);
int icept_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int icept_connect(int fd, const struct sockaddr *sa, socklen_t len);
int icept_getsockname(int fd, struct sockaddr *sa, socklen_t *len);
int icept_getpeername(int fd, struct sockaddr *sa, socklen_t *len);
int icept_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int icept_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int icept_shutdown(int fd, int how);
int icept_close(int fd);
int icept_close_range(unsigned first, unsigned last, int flags);

#endif
