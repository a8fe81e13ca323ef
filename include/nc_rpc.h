/* nc_rpc.h - the netcon RPC: messages between libzerotierintercept.so and the
 * daemon's per-network server (rpc/nc_rpcd.c), over a SOCK_SEQPACKET Unix
 * socket (one datagram = one message, so boundaries are the kernel's).
 *
 * Wire format (all integers big-endian, written field by field):
 *
 *   header, NC_RPC_HDR_LEN = 16 bytes
 *     0  u16 magic      NC_RPC_MAGIC ("nc")
 *     2  u8  version    NC_RPC_VERSION
 *     3  u8  type       NC_RPC_* (request) or NC_RPC_* | NC_RPC_REPLY
 *     4  u16 flags      NC_RPC_F_FD: exactly one fd rides along (SCM_RIGHTS)
 *     6  u16 reserved   0
 *     8  u32 length     payload bytes that follow, <= NC_RPC_MAX_PAYLOAD
 *    12  u32 id         request id, echoed by the reply
 *
 *   address ("addr" below)
 *     u8 kind: 0 none, 4 IPv4, 6 IPv6
 *     IPv4: u16 port, 4 bytes address
 *     IPv6: u16 port, u32 flowinfo, 16 bytes address, u32 scope id
 *
 *   payloads                 request                     reply (err first)
 *     SOCKET       u8 kind, i32 type, i32 proto      u32 err, u64 sock id  + fd
 *     BIND       fd addr                             u32 err
 *     LISTEN     fd i32 backlog                      u32 err
 *     CONNECT    fd u32 cflags, addr                 u32 err
 *     GETSOCKNAME fd -                               u32 err, addr
 *     GETPEERNAME fd -                               u32 err, addr
 *     SETSOCKOPT fd i32 level, i32 name, u16 n, n B  u32 err
 *     GETSOCKOPT fd i32 level, i32 name, u16 max     u32 err, u16 n, n bytes
 *     QUERY      fd -                                u32 err, u8 kind, i32 state, u64 sock id
 *     SOCKERR    fd -                                u32 err, i32 so_error
 *
 * err is 0 or a positive errno (Linux numbering: both ends run on the same
 * host). When err != 0 a reply carries nothing after it. Option values are
 * opaque bytes in the host's ABI (an int, a struct linger of two ints),
 * handed unchanged to the stack's setsockopt/getsockopt.
 *
 * Requests that act on an existing socket carry that socket's application
 * fd: the server names the socket by fstat() st_ino (stack/stack.h) and the
 * caller proves it holds it. Replies to SOCKET carry the new application fd.
 *
 * Rules both sides apply: the header is checked (magic, version, flags,
 * reserved, length <= max) before anything else; a payload must be consumed
 * exactly; the fd flag must match the fds that arrived (more than one fd is
 * an error); anything unknown is rejected. The server answers an unknown
 * request type of a known version with err EOPNOTSUPP and closes a client
 * that sends anything malformed; the client drops the connection on a
 * malformed reply.
 *
 * Ownership: a received fd belongs to the struct nc_rpc_msg; take it with
 * nc_rpc_msg_take_fd(); nc_rpc_msg_release() closes whatever nobody took.
 */
#ifndef NETCON_NC_RPC_H
#define NETCON_NC_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NC_RPC_MAGIC		0x6e63u	/* "nc" */
#define NC_RPC_VERSION		1
#define NC_RPC_HDR_LEN		16
#define NC_RPC_MAX_PAYLOAD	256
#define NC_RPC_MAX_MSG		(NC_RPC_HDR_LEN + NC_RPC_MAX_PAYLOAD)
#define NC_RPC_OPT_MAX		64	/* largest option value carried */

#define NC_RPC_F_FD		0x0001u
#define NC_RPC_F_KNOWN		NC_RPC_F_FD

#define NC_RPC_REPLY		0x80u

enum nc_rpc_type {
	NC_RPC_SOCKET = 1,
	NC_RPC_BIND = 2,
	NC_RPC_LISTEN = 3,
	NC_RPC_CONNECT = 4,
	NC_RPC_GETSOCKNAME = 5,
	NC_RPC_GETPEERNAME = 6,
	NC_RPC_SETSOCKOPT = 7,
	NC_RPC_GETSOCKOPT = 8,
	NC_RPC_QUERY = 9,
	NC_RPC_SOCKERR = 10,
	NC_RPC_TYPE_MAX = 10,
};

/* CONNECT cflags */
#define NC_RPC_CONNECT_NONBLOCK	0x1u	/* reply at once (EINPROGRESS) */
#define NC_RPC_CONNECT_KNOWN	NC_RPC_CONNECT_NONBLOCK

/* address kinds on the wire */
#define NC_RPC_ADDR_NONE	0
#define NC_RPC_ADDR_IPV4	4
#define NC_RPC_ADDR_IPV6	6

struct nc_rpc_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t len;
	uint32_t id;
};

/* One decoded message. Which fields mean something depends on type (see the
 * table above); the rest are zero after nc_rpc_decode(). */
struct nc_rpc_msg {
	uint8_t type;			/* NC_RPC_* [| NC_RPC_REPLY] */
	uint16_t flags;			/* NC_RPC_F_* (set by nc_rpc_send) */
	uint32_t id;
	uint32_t err;			/* replies: 0 or errno */
	int family;			/* SOCKET req, QUERY reply: AF_INET/AF_INET6 */
	int32_t socktype, protocol;	/* SOCKET req */
	int32_t backlog;		/* LISTEN req */
	uint32_t cflags;		/* CONNECT req */
	int32_t level, optname;		/* SOCKOPT reqs */
	uint32_t optlen;		/* SETSOCKOPT req, GETSOCKOPT req (max) + reply */
	uint8_t optval[NC_RPC_OPT_MAX];
	struct sockaddr_storage addr;	/* BIND/CONNECT req, GET*NAME reply */
	socklen_t addrlen;		/* 0: no address */
	int32_t state;			/* QUERY reply: NC_SOCK_* */
	int32_t so_error;		/* SOCKERR reply */
	uint64_t sock_id;		/* SOCKET, QUERY replies */
	int fd;				/* received fd owned by the message, or -1 */
};

/* nc_rpc_msg_init() - zero a message for filling in (fd = -1) */
void nc_rpc_msg_init(struct nc_rpc_msg *m, uint8_t type, uint32_t id);

/* nc_rpc_hdr_decode() - check and decode a header from the first n bytes.
 * Return: 0; -EBADMSG if n < NC_RPC_HDR_LEN, bad magic, unknown flags or
 * reserved bits; -EPROTONOSUPPORT for another version; -EMSGSIZE if the
 * length exceeds NC_RPC_MAX_PAYLOAD. */
int nc_rpc_hdr_decode(const uint8_t *b, size_t n, struct nc_rpc_hdr *h);

/* nc_rpc_encode() - write m (header + payload) into b. Uses m->flags as is.
 * Return: total length, or -EINVAL (unencodable field) / -EMSGSIZE (cap). */
int nc_rpc_encode(const struct nc_rpc_msg *m, uint8_t *b, size_t cap);

/* nc_rpc_decode() - parse exactly n bytes into m (m->fd = -1). Rejects
 * truncation, trailing bytes and out-of-range fields (-EBADMSG) and unknown
 * types (-EOPNOTSUPP; m->type and m->id are then kept so a server can
 * answer). Header errors as for nc_rpc_hdr_decode. Return: 0 or -errno. */
int nc_rpc_decode(const uint8_t *b, size_t n, struct nc_rpc_msg *m);

/* nc_rpc_send() - encode m and send it as one datagram on sock, with fd
 * attached by SCM_RIGHTS when fd >= 0 (the caller keeps its fd). Sets
 * m->flags. flags: extra send flags (MSG_DONTWAIT). Return: 0 or -errno. */
int nc_rpc_send(int sock, struct nc_rpc_msg *m, int fd, int flags);

/* nc_rpc_recv() - receive one datagram from sock and decode it into m.
 * flags: MSG_DONTWAIT and/or MSG_CMSG_CLOEXEC (for the received fd).
 * Return: 0; -EAGAIN; -ECONNRESET at end of stream; -EBADMSG (and other
 * decode errors) for a malformed message, whose fds are closed. */
int nc_rpc_recv(int sock, struct nc_rpc_msg *m, int flags);

/* nc_rpc_msg_take_fd() - take ownership of the attached fd (-1 if none) */
int nc_rpc_msg_take_fd(struct nc_rpc_msg *m);

/* nc_rpc_msg_release() - close an attached fd nobody took */
void nc_rpc_msg_release(struct nc_rpc_msg *m);

/* nc_rpc_type_name() - "SOCKET", ... for diagnostics ("?" if unknown) */
const char *nc_rpc_type_name(uint8_t type);

#endif
