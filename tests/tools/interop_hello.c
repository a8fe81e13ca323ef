/* interop_hello.c - our engine (libztnode.a, include/zt_node.h) on one UDP
 * socket, talking to one official ZeroTier One node.
 *
 * The host side here is minimal: state in files named after -I, a single
 * UDP socket, no networks. It checks what the official node does with the
 * engine's own packets and prints a decoded trace of every packet exchanged
 * with the peer, so a mismatch can be pinned to one field.
 *
 * Usage: interop_hello [-v] -I IDFILE [-g] [-b IP/PORT] [-m MOONFILE]...
 *                      [-s ADDR10@IP/PORT]... [-P PEER_IDENTITY] [-t SECONDS] [-e]
 *   -I IDFILE   our identity secret (created if missing; IDFILE.public written)
 *   -g          only make sure the identity exists, print the public one, exit
 *   -b          local UDP address to bind (default 0.0.0.0/0)
 *   -m          install this serialized moon (zt_node_add_moon)
 *   -s          static path (zt_node_add_static_path)
 *   -P          the official peer's identity (string or file): the one checked
 *               and decoded
 *   -t          run time limit (default 20 s)
 *   -e          also wait for the engine's keepalive ECHO and its OK (needs
 *               >= 15 s: the heartbeat fires after 14 s without sending)
 *   -W VERB     also wait until the peer has sent us a packet with this verb
 *               (a number, e.g. 0x0b); check "verb"
 *
 * Checks, each printed as "CHECK <name> ok|FAILED <why>":
 *   hello   the peer sent OK(HELLO) for a HELLO the engine sent, the engine
 *           accepted it, and zt_node_peers() shows the peer's version,
 *           latency and a direct path
 *   echo    (-e) the engine sent ECHO, the peer answered OK(ECHO) with the
 *           same in-re packet id, and the engine accepted it
 *   drops   no packet from the peer to us was dropped by the engine
 * Exit status 0 when every check is ok.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "zt_node.h"
#include "node/buf.h"
#include "node/crypto.h"
#include "node/identity.h"
#include "node/inaddr.h"

#define IH_MAX_PKT 16384
#define IH_MAX_MOONS 4
#define IH_MAX_STATIC 8
#define IH_MAX_PIDS 64

static const char *const ih_verbs[] = {
	"NOP", "HELLO", "ERROR", "OK", "WHOIS", "RENDEZVOUS", "FRAME", "EXT_FRAME",
	"ECHO", "MULTICAST_LIKE", "NETWORK_CREDENTIALS", "NETWORK_CONFIG_REQUEST",
	"NETWORK_CONFIG", "MULTICAST_GATHER", "MULTICAST_FRAME", "0x0f",
	"PUSH_DIRECT_PATHS", "0x11", "ACK", "QOS_MEASUREMENT", "USER_MESSAGE",
	"REMOTE_TRACE", "PATH_NEGOTIATION_REQUEST",
};

struct ih {
	const char *idfile;
	int fd;
	int verbose;
	struct zt_identity self, peer;
	int have_self, have_peer;
	uint8_t key[ZT_PEER_KEY_LEN];
	/* packet ids the engine sent to the peer, by verb */
	uint64_t hello_pids[IH_MAX_PIDS], echo_pids[IH_MAX_PIDS];
	unsigned n_hello, n_echo;
	int ok_hello, ok_echo, drops;
	int want_verb, got_verb;	/* -W */
	int64_t t0;	/* start, for the trace's relative times */
};

/* ih_now() - wall clock in ms */
static int64_t ih_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ih_verb_name() - printable verb */
static const char *ih_verb_name(unsigned v)
{
	return v < sizeof(ih_verbs) / sizeof(ih_verbs[0]) ? ih_verbs[v] : "?";
}

/* ih_hex() - labelled hex dump */
static void ih_hex(const char *label, const uint8_t *p, unsigned len)
{
	printf("%s (%u bytes):", label, len);
	for (unsigned i = 0; i < len; i++)
		printf("%s%02x", (i % 32) ? "" : "\n   ", p[i]);
	printf("\n");
}

/* ih_read_file() - whole small file, NUL-terminated, trailing space cut.
 * Return: length or -1. */
static int ih_read_file(const char *path, char *buf, unsigned cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return (int)n;
}

/* ih_write_file() - replace a file's content. Return 0 or -errno. */
static int ih_write_file(const char *path, const void *data, unsigned len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	fwrite(data, 1, len, f);
	return fclose(f) ? -errno : 0;
}

static int ih_state_get(void *uptr, enum zt_state_type type, const uint64_t id[2], void *buf,
			unsigned cap)
{
	struct ih *h = uptr;
	if (type == ZT_STATE_IDENTITY_SECRET)
		return ih_read_file(h->idfile, buf, cap);
	if (type == ZT_STATE_PLANET)
		return 0;	/* no planet: nothing may leave for the public roots */
	return -1;
}

static void ih_state_put(void *uptr, enum zt_state_type type, const uint64_t id[2],
			 const void *data, int len)
{
	struct ih *h = uptr;
	char path[4096];
	if (len < 0)
		return;
	if (type == ZT_STATE_IDENTITY_SECRET) {
		ih_write_file(h->idfile, data, (unsigned)len);
	} else if (type == ZT_STATE_IDENTITY_PUBLIC) {
		snprintf(path, sizeof(path), "%s.public", h->idfile);
		ih_write_file(path, data, (unsigned)len);
	}
}

/* ih_decode() - dearmor a copy of a packet between us and the peer and print
 * its verb (and the in-re fields of OK/ERROR). dir: "OUT" or "IN".
 * Return: verb, or -1 if not decodable. in_re/in_re_pid set for OK/ERROR. */
static int ih_decode(struct ih *h, const char *dir, const uint8_t *data, unsigned len,
		     uint64_t *pid_out, int *in_re, uint64_t *in_re_pid)
{
	uint8_t pkt[IH_MAX_PKT], unz[IH_MAX_PKT];
	struct zt_rbuf r;
	unsigned verb, cipher;

	*in_re = -1;
	*in_re_pid = 0;
	if (len > sizeof(pkt) || len < ZT_FRAG_MIN)
		return -1;
	if (len >= ZT_FRAG_MIN && data[13] == ZT_FRAG_INDICATOR) {
		printf("%s fragment %u/%u len=%u\n", dir, data[14] & 15, data[14] >> 4, len);
		return -1;
	}
	if (len < ZT_PKT_MIN)
		return -1;
	memcpy(pkt, data, len);
	zt_rbuf_init(&r, pkt, len);
	uint64_t pid = zt_rbuf_u64(&r), dst = zt_rbuf_addr(&r), src = zt_rbuf_addr(&r);
	*pid_out = pid;
	cipher = zt_pkt_cipher(pkt);
	if (!h->have_peer || !(dst == h->peer.address || src == h->peer.address)) {
		printf("%s len=%u %010llx -> %010llx (not the checked peer)\n", dir, len,
		       (unsigned long long)src, (unsigned long long)dst);
		return -1;
	}
	if (pkt[ZT_PKT_IDX_FLAGS] & ZT_PKT_FLAG_FRAGMENTED) {
		printf("%s len=%u head of a fragmented packet\n", dir, len);
		return -1;
	}
	if (zt_dearmor(pkt, len, h->key) < 0) {
		printf("%s len=%u pid=%016llx flags=%02x cipher=%u: MAC check FAILED in the tool\n",
		       dir, len, (unsigned long long)pid, pkt[ZT_PKT_IDX_FLAGS], cipher);
		ih_hex("   raw", data, len);
		return -1;
	}
	verb = pkt[ZT_PKT_IDX_VERB];
	if (verb & ZT_VERB_FLAG_COMPRESSED) {
		int n = zt_lz4_decompress(pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD,
					  unz, sizeof(unz) - ZT_PKT_IDX_PAYLOAD);
		if (n < 0) {
			printf("%s len=%u: LZ4 failed\n", dir, len);
			return -1;
		}
		memcpy(pkt + ZT_PKT_IDX_PAYLOAD, unz, (unsigned)n);
		len = ZT_PKT_IDX_PAYLOAD + (unsigned)n;
	}
	verb &= 0x1f;
	printf("%6lld %s %s len=%u pid=%016llx cipher=%u hops=%u", (long long)(ih_now() - h->t0),
	       dir, ih_verb_name(verb), len,
	       (unsigned long long)pid, cipher, zt_pkt_hops(pkt));
	if (verb == 0x02 || verb == 0x03) {
		zt_rbuf_init(&r, pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD);
		*in_re = zt_rbuf_u8(&r) & 0x1f;
		*in_re_pid = zt_rbuf_u64(&r);
		printf(" in-re %s %016llx", ih_verb_name((unsigned)*in_re),
		       (unsigned long long)*in_re_pid);
		if (verb == 0x02)
			printf(" code 0x%02x", zt_rbuf_u8(&r));
	}
	printf("\n");
	if (h->verbose)
		ih_hex("   plaintext", pkt, len);
	return (int)verb;
}

static int ih_wire_send(void *uptr, int64_t local_socket, const struct sockaddr_storage *to,
			const void *data, unsigned len, unsigned ttl)
{
	struct ih *h = uptr;
	uint64_t pid, irp;
	int ir;
	socklen_t sl = to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (to->ss_family != AF_INET && to->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	char dir[80], a[64];
	snprintf(dir, sizeof(dir), "OUT(%s)", zt_inaddr_format(to, a, sizeof(a)));
	int verb = ih_decode(h, dir, data, len, &pid, &ir, &irp);
	if (verb == 0x01 && h->n_hello < IH_MAX_PIDS)
		h->hello_pids[h->n_hello++] = pid;
	if (verb == 0x08 && h->n_echo < IH_MAX_PIDS)
		h->echo_pids[h->n_echo++] = pid;
	if (sendto(h->fd, data, len, 0, (const struct sockaddr *)to, sl) < 0)
		return -errno;
	return 0;
}

static void ih_frame_out(void *uptr, uint64_t nwid, void **nuptr, uint64_t src_mac,
			 uint64_t dst_mac, unsigned ethertype, unsigned vlan, const void *data,
			 unsigned len)
{
}

static int ih_network_config(void *uptr, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
			     const struct zt_network_info *info)
{
	return 0;
}

static void ih_event(void *uptr, enum zt_event ev, const void *meta)
{
	if (ev == ZT_EVENT_TRACE)
		printf("TRACE %s\n", (const char *)meta);
	else if (ev == ZT_EVENT_PEER_REACHED)
		printf("EVENT peer reached %010llx\n", (unsigned long long)*(const uint64_t *)meta);
}

static const struct zt_node_callbacks ih_callbacks = {
	.version = ZT_NODE_CALLBACKS_VERSION,
	.state_get = ih_state_get,
	.state_put = ih_state_put,
	.wire_send = ih_wire_send,
	.frame_out = ih_frame_out,
	.network_config = ih_network_config,
	.event = ih_event,
};

/* ih_drop_total() - sum of the engine's drop counters */
static uint64_t ih_drop_total(zt_node *n)
{
	struct zt_node_counters c;
	uint64_t t = 0;
	zt_node_counters(n, &c);
	for (int i = 0; i < ZT_DROP_REASONS; i++)
		t += c.drops[i];
	return t;
}

/* ih_print_drops() - which drop counters moved */
static void ih_print_drops(const struct zt_node_counters *a, const struct zt_node_counters *b)
{
	static const char *const names[ZT_DROP_REASONS] = {
		"malformed", "mac", "unknown_peer", "invalid_identity", "rate_limit",
		"not_member", "no_network", "rules", "queue_full", "relay", "duplicate",
	};
	for (int i = 0; i < ZT_DROP_REASONS; i++)
		if (a->drops[i] != b->drops[i])
			printf("   engine drop counter %s +%llu\n", names[i],
			       (unsigned long long)(b->drops[i] - a->drops[i]));
}

/* ih_on_datagram() - decode, feed the engine, note results */
static void ih_on_datagram(struct ih *h, zt_node *n, const uint8_t *data, unsigned len,
			   const struct sockaddr_storage *from, int64_t *deadline)
{
	struct zt_node_counters before, after;
	uint64_t pid = 0, irp = 0;
	int ir, verb, rc, is_peer = 0;

	if (len >= ZT_PKT_MIN && h->have_peer && data[13] != ZT_FRAG_INDICATOR) {
		struct zt_rbuf r;
		zt_rbuf_init(&r, data + 8, 10);
		uint64_t dst = zt_rbuf_addr(&r);
		/* only packets for us: an official node also routes packets for
		 * its other roots through a moon root */
		is_peer = zt_rbuf_addr(&r) == h->peer.address && dst == h->self.address;
	}
	verb = ih_decode(h, "IN ", data, len, &pid, &ir, &irp);
	zt_node_counters(n, &before);
	rc = zt_node_wire_in(n, ih_now(), 0, from, data, len, deadline);
	zt_node_counters(n, &after);
	if (rc != ZT_OK) {
		printf("   engine: wire_in returned %d\n", rc);
		ih_print_drops(&before, &after);
		if (is_peer) {
			h->drops++;
			ih_hex("   dropped packet", data, len);
		}
		return;
	}
	if (h->want_verb >= 0 && verb == h->want_verb && is_peer)
		h->got_verb = 1;
	if (verb == 0x03 && ir == 0x01)
		for (unsigned i = 0; i < h->n_hello; i++)
			if (h->hello_pids[i] == irp)
				h->ok_hello = 1;
	if (verb == 0x03 && ir == 0x08)
		for (unsigned i = 0; i < h->n_echo; i++)
			if (h->echo_pids[i] == irp)
				h->ok_echo = 1;
}

/* ih_check_peer() - the engine's view of the peer; prints it. Return 1 if it
 * shows version, latency and a path. */
static int ih_check_peer(struct ih *h, zt_node *n)
{
	struct zt_peer_info *pi = calloc(64, sizeof(*pi));
	int np, ok = 0;
	char a[96];

	if (!pi)
		return 0;
	np = zt_node_peers(n, ih_now(), pi, 64);
	for (int i = 0; i < np && i < 64; i++) {
		printf("PEER %010llx version %d.%d.%d proto %d latency %d role %d paths %u",
		       (unsigned long long)pi[i].address, pi[i].version_major, pi[i].version_minor,
		       pi[i].version_rev, pi[i].proto_version, pi[i].latency, pi[i].role,
		       pi[i].n_paths);
		for (unsigned k = 0; k < pi[i].n_paths; k++)
			printf(" %s%s", zt_inaddr_format(&pi[i].paths[k].address, a, sizeof(a)),
			       pi[i].paths[k].expired ? "(expired)" : "");
		printf("\n");
		if (h->have_peer && pi[i].address == h->peer.address && pi[i].version_major == 1 &&
		    pi[i].version_minor >= 0 && pi[i].proto_version >= 4 && pi[i].latency >= 0 &&
		    pi[i].n_paths > 0)
			ok = 1;
	}
	free(pi);
	return ok;
}

/* ih_load_identity() - string form, from the argument or the file it names */
static int ih_load_identity(struct zt_identity *id, const char *arg)
{
	char buf[ZT_IDENTITY_STRING_MAX + 2];
	if (!strchr(arg, ':')) {
		if (ih_read_file(arg, buf, sizeof(buf)) < 0)
			return -1;
		arg = buf;
	}
	return zt_identity_from_string(id, arg);
}

int main(int argc, char **argv)
{
	struct ih h;
	const char *moons[IH_MAX_MOONS], *statics[IH_MAX_STATIC], *bind_s = "0.0.0.0/0";
	const char *peer_s = NULL;
	int n_moons = 0, n_statics = 0, opt, gen_only = 0, want_echo = 0, limit_s = 20;
	zt_node *n = NULL;
	int64_t deadline = 0;

	memset(&h, 0, sizeof(h));
	h.t0 = ih_now();
	h.want_verb = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "vI:gb:m:s:P:t:eW:")) != -1) {
		switch (opt) {
		case 'v': h.verbose = 1; break;
		case 'I': h.idfile = optarg; break;
		case 'g': gen_only = 1; break;
		case 'b': bind_s = optarg; break;
		case 'm': if (n_moons < IH_MAX_MOONS) moons[n_moons++] = optarg; break;
		case 's': if (n_statics < IH_MAX_STATIC) statics[n_statics++] = optarg; break;
		case 'P': peer_s = optarg; break;
		case 't': limit_s = atoi(optarg); break;
		case 'e': want_echo = 1; break;
		case 'W': h.want_verb = (int)strtol(optarg, NULL, 0) & 0x1f; break;
		default: goto usage;
		}
	}
	if (!h.idfile || optind != argc)
		goto usage;
	if (zt_node_new(&n, &h, &ih_callbacks, ih_now()) != ZT_OK) {
		fprintf(stderr, "interop_hello: zt_node_new failed\n");
		return 2;
	}
	struct zt_node_status st;
	zt_node_status(n, ih_now(), &st);
	printf("IDENTITY %s\n", st.public_identity);
	if (gen_only) {
		zt_node_delete(n);
		return 0;
	}
	{
		char sec[ZT_IDENTITY_STRING_MAX + 2];
		if (ih_read_file(h.idfile, sec, sizeof(sec)) > 0 &&
		    zt_identity_from_string(&h.self, sec) == 0 && h.self.has_private)
			h.have_self = 1;
	}
	if (peer_s) {
		if (ih_load_identity(&h.peer, peer_s) < 0 || !h.have_self ||
		    zt_identity_agree(&h.self, &h.peer, h.key) < 0) {
			fprintf(stderr, "interop_hello: bad -P identity\n");
			return 2;
		}
		h.have_peer = 1;
	}

	struct sockaddr_storage bs;
	if (zt_inaddr_parse(&bs, bind_s) < 0) {
		fprintf(stderr, "interop_hello: bad -b\n");
		return 2;
	}
	h.fd = socket(bs.ss_family, SOCK_DGRAM, 0);
	if (h.fd < 0 || bind(h.fd, (struct sockaddr *)&bs, bs.ss_family == AF_INET6 ?
			     sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
		perror("interop_hello: bind");
		return 2;
	}
	for (int i = 0; i < n_moons; i++) {
		static uint8_t w[IH_MAX_PKT];
		FILE *f = fopen(moons[i], "rb");
		size_t l = f ? fread(w, 1, sizeof(w), f) : 0;
		if (f)
			fclose(f);
		int rc = l ? zt_node_add_moon(n, ih_now(), w, (unsigned)l) : -1;
		printf("add_moon %s: %d\n", moons[i], rc);
		if (rc != ZT_OK)
			return 2;
	}
	for (int i = 0; i < n_statics; i++) {
		char buf[128];
		struct sockaddr_storage ep;
		snprintf(buf, sizeof(buf), "%s", statics[i]);
		char *at = strchr(buf, '@');
		if (!at || zt_inaddr_parse(&ep, at + 1) < 0)
			goto usage;
		*at = 0;
		uint64_t addr = strtoull(buf, NULL, 16);
		int rc = zt_node_add_static_path(n, ih_now(), addr, &ep);
		printf("add_static_path %s: %d\n", statics[i], rc);
	}

	int64_t start = ih_now(), end = start + (int64_t)limit_s * 1000;
	int peer_ok = 0;
	zt_node_background(n, ih_now(), &deadline);
	while (ih_now() < end) {
		int64_t now = ih_now();
		if (deadline <= now)
			zt_node_background(n, now, &deadline);
		int wait = (int)((deadline > now ? deadline : now + 1) - now);
		if (wait > 250)
			wait = 250;
		struct pollfd pfd = { .fd = h.fd, .events = POLLIN };
		if (poll(&pfd, 1, wait) > 0) {
			uint8_t buf[IH_MAX_PKT];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t l = recvfrom(h.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (l > 0)
				ih_on_datagram(&h, n, buf, (unsigned)l, &from, &deadline);
		}
		if (h.ok_hello && !peer_ok) {
			peer_ok = ih_check_peer(&h, n);
			if (!peer_ok)
				h.ok_hello = 0;	/* look again after the next OK */
		}
		if (peer_ok && (!want_echo || h.ok_echo) && (h.want_verb < 0 || h.got_verb))
			break;
	}
	if (!peer_ok)
		ih_check_peer(&h, n);
	printf("drop counters total %llu\n", (unsigned long long)ih_drop_total(n));
	printf("CHECK hello %s\n", peer_ok ? "ok" : "FAILED no accepted OK(HELLO) / peer incomplete");
	if (want_echo)
		printf("CHECK echo %s\n", h.ok_echo ? "ok" :
		       h.n_echo ? "FAILED engine sent ECHO, no accepted OK(ECHO)" :
				  "FAILED engine sent no ECHO");
	if (h.want_verb >= 0)
		printf("CHECK verb %s\n", h.got_verb ? "ok" : "FAILED the peer never sent the awaited verb");
	printf("CHECK drops %s\n", h.drops ? "FAILED engine dropped packets from the peer" : "ok");
	zt_node_delete(n);
	close(h.fd);
	return peer_ok && (!want_echo || h.ok_echo) && (h.want_verb < 0 || h.got_verb) && !h.drops ? 0 : 1;
usage:
	fprintf(stderr, "usage: interop_hello [-v] -I IDFILE [-g] [-b IP/PORT] [-m MOON]... "
			"[-s ADDR@IP/PORT]... [-P PEER_IDENTITY] [-t S] [-e] [-W VERB]\n");
	return 2;
}
