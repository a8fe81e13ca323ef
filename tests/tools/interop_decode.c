/* interop_decode.c - decode ZeroTier traffic captured with tcpdump.
 *
 * Given the identity secret of at least one side of each conversation and
 * the public identities of the others, it reassembles fragments, dearmors
 * (cipher 0/1), decompresses and prints each packet's verb and main fields,
 * for pinning an interop mismatch to one field.
 *
 * Usage: interop_decode [-v] -k IDENTITY[.secret] [-k ...] [-p IDENTITY.public ...] CAPTURE.pcap
 *   -k  an identity with its secret (string or file)
 *   -p  a public identity (string or file)
 *   -v  hex dump of every decoded plaintext
 * The capture: classic pcap (tcpdump -w), Ethernet or Linux cooked (SLL,
 * SLL2) link type, IPv4/IPv6 UDP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/identity.h"

#define DEC_MAX_IDS 16
#define DEC_MAX_FRAG 64
#define DEC_MAX_PKT 16384

static const char *const dec_verbs[] = {
	"NOP", "HELLO", "ERROR", "OK", "WHOIS", "RENDEZVOUS", "FRAME", "EXT_FRAME",
	"ECHO", "MULTICAST_LIKE", "NETWORK_CREDENTIALS", "NETWORK_CONFIG_REQUEST",
	"NETWORK_CONFIG", "MULTICAST_GATHER", "MULTICAST_FRAME", "0x0f",
	"PUSH_DIRECT_PATHS", "0x11", "ACK", "QOS_MEASUREMENT", "USER_MESSAGE",
	"REMOTE_TRACE", "PATH_NEGOTIATION_REQUEST",
};

struct dec_frag {
	uint64_t pid;
	int used;
	unsigned total;		/* 0 until a fragment told us */
	uint8_t have[8];
	uint8_t *part[8];
	unsigned len[8];
};

struct dec {
	struct zt_identity ids[DEC_MAX_IDS];
	unsigned n_ids;
	int verbose;
	struct dec_frag frags[DEC_MAX_FRAG];
	char where[160];	/* "time src -> dst" of the current datagram */
};

static const char *dec_verb_name(unsigned v)
{
	return v < sizeof(dec_verbs) / sizeof(dec_verbs[0]) ? dec_verbs[v] : "?";
}

static void dec_hex(const char *label, const uint8_t *p, unsigned len)
{
	printf("%s (%u bytes):", label, len);
	for (unsigned i = 0; i < len; i++)
		printf("%s%02x", (i % 32) ? "" : "\n   ", p[i]);
	printf("\n");
}

/* dec_find() - identity by address, or NULL */
static const struct zt_identity *dec_find(const struct dec *d, uint64_t a)
{
	for (unsigned i = 0; i < d->n_ids; i++)
		if (d->ids[i].address == a)
			return &d->ids[i];
	return NULL;
}

/* dec_key() - the pair's key if we hold a secret of one side. Return 0 or -1. */
static int dec_key(const struct dec *d, uint64_t a, uint64_t b, uint8_t key[ZT_PEER_KEY_LEN])
{
	const struct zt_identity *x = dec_find(d, a), *y = dec_find(d, b);
	if (!x || !y)
		return -1;
	if (x->has_private)
		return zt_identity_agree(x, y, key);
	if (y->has_private)
		return zt_identity_agree(y, x, key);
	return -1;
}

/* dec_mcast_frame() - MULTICAST_FRAME fields (§5.14) */
static void dec_mcast_frame(struct zt_rbuf *r)
{
	uint64_t nwid = zt_rbuf_u64(r);
	unsigned flags = zt_rbuf_u8(r);
	printf("      nwid %016llx flags 0x%02x", (unsigned long long)nwid, flags);
	if (flags & 0x01) {
		printf(" (COM attached: not parsed further)\n");
		return;
	}
	if (flags & 0x02)
		printf(" gather-limit %u", zt_rbuf_u32(r));
	if (flags & 0x04)
		printf(" src-mac %012llx", (unsigned long long)zt_rbuf_mac(r));
	uint64_t mac = zt_rbuf_mac(r);
	uint32_t adi = zt_rbuf_u32(r);
	unsigned et = zt_rbuf_u16(r);
	printf(" group %012llx/%08x ethertype 0x%04x payload %zu%s\n", (unsigned long long)mac,
	       adi, et, zt_rbuf_left(r), r->err ? " (truncated)" : "");
}

/* dec_config_chunk() - one chunk of a network config (§5.11), from nwid on */
static void dec_config_chunk(struct zt_rbuf *r)
{
	uint64_t nwid = zt_rbuf_u64(r);
	unsigned clen = zt_rbuf_u16(r);
	zt_rbuf_take(r, clen);
	if (zt_rbuf_left(r) == 0) {
		printf(" nwid %016llx legacy unsigned config, %u bytes\n", (unsigned long long)nwid, clen);
		return;
	}
	unsigned flags = zt_rbuf_u8(r);
	uint64_t upd = zt_rbuf_u64(r);
	uint32_t total = zt_rbuf_u32(r), off = zt_rbuf_u32(r);
	unsigned st = zt_rbuf_u8(r), sl = zt_rbuf_u16(r);
	printf(" nwid %016llx chunk %u bytes at %u of %u, flags 0x%02x update %016llx sig type %u len %u%s\n",
	       (unsigned long long)nwid, clen, off, total, flags, (unsigned long long)upd, st, sl,
	       r->err ? " (truncated)" : "");
}

/* dec_fields() - a few verbs' fields */
static void dec_fields(unsigned verb, const uint8_t *p, unsigned len)
{
	struct zt_rbuf r;
	zt_rbuf_init(&r, p, len);
	switch (verb) {
	case 0x02:
	case 0x03: {
		unsigned v = zt_rbuf_u8(&r) & 0x1f;
		uint64_t inre = zt_rbuf_u64(&r);
		printf("      in-re %s %016llx", dec_verb_name(v), (unsigned long long)inre);
		if (verb == 0x02)
			printf(" code 0x%02x", zt_rbuf_u8(&r));
		if (verb == 0x03 && v == 0x0b) {
			dec_config_chunk(&r);
			break;
		}
		if (verb == 0x03 && v == 0x0d) {	/* OK(GATHER) */
			uint64_t nwid = zt_rbuf_u64(&r), mac = zt_rbuf_mac(&r);
			uint32_t adi = zt_rbuf_u32(&r), total = zt_rbuf_u32(&r);
			unsigned n = zt_rbuf_u16(&r);
			printf(" nwid %016llx group %012llx/%08x total %u:", (unsigned long long)nwid,
			       (unsigned long long)mac, adi, total);
			for (unsigned i = 0; i < n && !r.err; i++)
				printf(" %010llx", (unsigned long long)zt_rbuf_addr(&r));
		}
		printf("\n");
		break;
	}
	case 0x06: {
		uint64_t nwid = zt_rbuf_u64(&r);
		unsigned et = zt_rbuf_u16(&r);
		printf("      nwid %016llx ethertype 0x%04x payload %zu\n", (unsigned long long)nwid,
		       et, zt_rbuf_left(&r));
		break;
	}
	case 0x07: {
		uint64_t nwid = zt_rbuf_u64(&r);
		unsigned fl = zt_rbuf_u8(&r);
		if (fl & 1) {
			printf("      nwid %016llx flags 0x%02x (COM)\n", (unsigned long long)nwid, fl);
			break;
		}
		uint64_t dm = zt_rbuf_mac(&r), sm = zt_rbuf_mac(&r);
		unsigned et = zt_rbuf_u16(&r);
		printf("      nwid %016llx flags 0x%02x dst %012llx src %012llx ethertype 0x%04x payload %zu\n",
		       (unsigned long long)nwid, fl, (unsigned long long)dm, (unsigned long long)sm, et,
		       zt_rbuf_left(&r));
		break;
	}
	case 0x09:
		while (zt_rbuf_left(&r) >= 18) {
			uint64_t nwid = zt_rbuf_u64(&r), mac = zt_rbuf_mac(&r);
			uint32_t adi = zt_rbuf_u32(&r);
			printf("      like %016llx %012llx/%08x\n", (unsigned long long)nwid,
			       (unsigned long long)mac, adi);
		}
		break;
	case 0x0d: {
		uint64_t nwid = zt_rbuf_u64(&r);
		unsigned fl = zt_rbuf_u8(&r);
		uint64_t mac = zt_rbuf_mac(&r);
		uint32_t adi = zt_rbuf_u32(&r), lim = zt_rbuf_u32(&r);
		printf("      gather %016llx flags 0x%02x %012llx/%08x limit %u\n",
		       (unsigned long long)nwid, fl, (unsigned long long)mac, adi, lim);
		break;
	}
	case 0x0e:
		dec_mcast_frame(&r);
		break;
	case 0x0c:
		printf("     ");
		dec_config_chunk(&r);
		break;
	case 0x04:
		while (zt_rbuf_left(&r) >= 5)
			printf("      whois %010llx\n", (unsigned long long)zt_rbuf_addr(&r));
		break;
	default:
		break;
	}
}

/* dec_packet() - an assembled packet */
static void dec_packet(struct dec *d, uint8_t *pkt, unsigned len, unsigned nfrag)
{
	struct zt_rbuf r;
	uint8_t key[ZT_PEER_KEY_LEN], unz[DEC_MAX_PKT];
	zt_rbuf_init(&r, pkt, len);
	uint64_t pid = zt_rbuf_u64(&r), dst = zt_rbuf_addr(&r), src = zt_rbuf_addr(&r);
	unsigned cipher = zt_pkt_cipher(pkt), hops = zt_pkt_hops(pkt);

	printf("%s %010llx->%010llx pid %016llx len %u%s cipher %u hops %u", d->where,
	       (unsigned long long)src, (unsigned long long)dst, (unsigned long long)pid, len,
	       nfrag > 1 ? " (reassembled)" : "", cipher, hops);
	if (dec_key(d, src, dst, key) < 0) {
		printf(": no key\n");
		return;
	}
	if (zt_dearmor(pkt, len, key) < 0) {
		printf(": MAC FAILED\n");
		dec_hex("   raw", pkt, len);
		return;
	}
	unsigned verb = pkt[ZT_PKT_IDX_VERB];
	if (verb & ZT_VERB_FLAG_COMPRESSED) {
		int n = zt_lz4_decompress(pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD, unz,
					  sizeof(unz) - ZT_PKT_IDX_PAYLOAD);
		if (n < 0 || (unsigned)n + ZT_PKT_IDX_PAYLOAD > DEC_MAX_PKT) {
			printf(": LZ4 FAILED\n");
			return;
		}
		memcpy(pkt + ZT_PKT_IDX_PAYLOAD, unz, (unsigned)n);
		len = ZT_PKT_IDX_PAYLOAD + (unsigned)n;
		printf(" lz4");
	}
	verb &= 0x1f;
	printf(" %s\n", dec_verb_name(verb));
	dec_fields(verb, pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD);
	if (d->verbose)
		dec_hex("   plaintext", pkt, len);
}

/* dec_frag_slot() - reassembly slot for a packet id */
static struct dec_frag *dec_frag_slot(struct dec *d, uint64_t pid)
{
	struct dec_frag *f = NULL;
	for (unsigned i = 0; i < DEC_MAX_FRAG; i++)
		if (d->frags[i].used && d->frags[i].pid == pid)
			return &d->frags[i];
	for (unsigned i = 0; i < DEC_MAX_FRAG && !f; i++)
		if (!d->frags[i].used)
			f = &d->frags[i];
	if (!f) {
		f = &d->frags[pid % DEC_MAX_FRAG];	/* evict */
		for (unsigned i = 0; i < 8; i++)
			free(f->part[i]);
	}
	memset(f, 0, sizeof(*f));
	f->used = 1;
	f->pid = pid;
	return f;
}

/* dec_frag_try() - assemble when complete */
static void dec_frag_try(struct dec *d, struct dec_frag *f)
{
	uint8_t pkt[DEC_MAX_PKT];
	unsigned len = 0;
	if (!f->total || !f->have[0])
		return;
	for (unsigned i = 0; i < f->total; i++)
		if (!f->have[i])
			return;
	for (unsigned i = 0; i < f->total; i++) {
		if (len + f->len[i] > sizeof(pkt))
			goto out;
		memcpy(pkt + len, f->part[i], f->len[i]);
		len += f->len[i];
	}
	dec_packet(d, pkt, len, f->total);
out:
	for (unsigned i = 0; i < 8; i++)
		free(f->part[i]);
	memset(f, 0, sizeof(*f));
}

/* dec_datagram() - one UDP payload */
static void dec_datagram(struct dec *d, const uint8_t *p, unsigned len)
{
	uint8_t pkt[DEC_MAX_PKT];
	struct zt_rbuf r;
	if (len > sizeof(pkt) || len < ZT_FRAG_MIN)
		return;
	zt_rbuf_init(&r, p, len);
	uint64_t pid = zt_rbuf_u64(&r);
	if (p[13] == ZT_FRAG_INDICATOR) {
		unsigned total = p[14] >> 4, no = p[14] & 15;
		if (total < 2 || total > 7 || no < 1 || no >= total)
			return;
		struct dec_frag *f = dec_frag_slot(d, pid);
		f->total = total;
		if (!f->have[no]) {
			f->part[no] = malloc(len - 16);
			if (!f->part[no])
				return;
			memcpy(f->part[no], p + 16, len - 16);
			f->len[no] = len - 16;
			f->have[no] = 1;
		}
		dec_frag_try(d, f);
		return;
	}
	if (len < ZT_PKT_MIN)
		return;
	if (p[ZT_PKT_IDX_FLAGS] & ZT_PKT_FLAG_FRAGMENTED) {
		struct dec_frag *f = dec_frag_slot(d, pid);
		if (!f->have[0]) {
			f->part[0] = malloc(len);
			if (!f->part[0])
				return;
			memcpy(f->part[0], p, len);
			f->len[0] = len;
			f->have[0] = 1;
		}
		dec_frag_try(d, f);
		return;
	}
	memcpy(pkt, p, len);
	dec_packet(d, pkt, len, 1);
}

/* dec_le32() / dec_le16() - pcap headers are in the writer's byte order */
static uint32_t dec_u32(const uint8_t *b, int swap)
{
	return swap ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
		    : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* dec_pcap() - walk a capture. Return 0 or -errno. */
static int dec_pcap(struct dec *d, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16];
	static uint8_t buf[262144];
	int swap;
	uint32_t link;

	if (!f)
		return -errno;
	if (fread(gh, 1, 24, f) != 24)
		goto bad;
	if (gh[0] == 0xd4 && gh[1] == 0xc3)
		swap = 0;
	else if (gh[0] == 0xa1 && gh[1] == 0xb2)
		swap = 1;
	else
		goto bad;
	link = dec_u32(gh + 20, swap);
	while (fread(rh, 1, 16, f) == 16) {
		uint32_t caplen = dec_u32(rh + 8, swap);
		if (caplen > sizeof(buf) || fread(buf, 1, caplen, f) != caplen)
			break;
		unsigned off, et;
		if (link == 1) {		/* Ethernet */
			if (caplen < 14)
				continue;
			et = (unsigned)buf[12] << 8 | buf[13];
			off = 14;
		} else if (link == 113) {	/* Linux cooked */
			if (caplen < 16)
				continue;
			et = (unsigned)buf[14] << 8 | buf[15];
			off = 16;
		} else if (link == 276) {	/* Linux cooked v2 (tcpdump -i any) */
			if (caplen < 20)
				continue;
			et = (unsigned)buf[0] << 8 | buf[1];
			off = 20;
		} else {
			fprintf(stderr, "interop_decode: link type %u not supported\n", link);
			break;
		}
		char s[64], t[64];
		unsigned sport, dport, ulen;
		if (et == 0x0800 && caplen >= off + 28 && buf[off + 9] == 17) {
			unsigned ihl = (buf[off] & 15) * 4;
			inet_ntop(AF_INET, buf + off + 12, s, sizeof(s));
			inet_ntop(AF_INET, buf + off + 16, t, sizeof(t));
			off += ihl;
		} else if (et == 0x86dd && caplen >= off + 48 && buf[off + 6] == 17) {
			inet_ntop(AF_INET6, buf + off + 8, s, sizeof(s));
			inet_ntop(AF_INET6, buf + off + 24, t, sizeof(t));
			off += 40;
		} else {
			continue;
		}
		if (caplen < off + 8)
			continue;
		sport = (unsigned)buf[off] << 8 | buf[off + 1];
		dport = (unsigned)buf[off + 2] << 8 | buf[off + 3];
		ulen = (unsigned)buf[off + 4] << 8 | buf[off + 5];
		if (ulen < 8 || off + ulen > caplen)
			ulen = caplen - off;
		snprintf(d->where, sizeof(d->where), "%u.%06u %s/%u->%s/%u", dec_u32(rh, swap),
			 dec_u32(rh + 4, swap), s, sport, t, dport);
		dec_datagram(d, buf + off + 8, ulen - 8);
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	fprintf(stderr, "interop_decode: %s is not a classic pcap file\n", path);
	return -EINVAL;
}

/* dec_add_identity() - from a string or a file */
static int dec_add_identity(struct dec *d, const char *arg)
{
	char buf[ZT_IDENTITY_STRING_MAX + 2];
	if (d->n_ids >= DEC_MAX_IDS)
		return -ENOSPC;
	if (!strchr(arg, ':')) {
		FILE *f = fopen(arg, "r");
		size_t n;
		if (!f)
			return -errno;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		buf[strcspn(buf, "\r\n ")] = 0;
		arg = buf;
	}
	if (zt_identity_from_string(&d->ids[d->n_ids], arg) < 0)
		return -EINVAL;
	d->n_ids++;
	return 0;
}

int main(int argc, char **argv)
{
	static struct dec d;
	int opt;
	if (zt_crypto_init() < 0)
		return 2;
	while ((opt = getopt(argc, argv, "vk:p:")) != -1) {
		if (opt == 'v') {
			d.verbose = 1;
		} else if (opt == 'k' || opt == 'p') {
			if (dec_add_identity(&d, optarg) < 0) {
				fprintf(stderr, "interop_decode: bad identity %s\n", optarg);
				return 2;
			}
		} else {
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	return dec_pcap(&d, argv[optind]) < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: interop_decode [-v] -k IDENTITY.secret [-k ...] [-p IDENTITY.public ...] CAPTURE.pcap\n");
	return 2;
}
