/* lwip_chksum.c - the Internet checksum for the liblwip.so the Makefile
 * builds from Debian's source (stack/lwipopts.h makes it LWIP_CHKSUM).
 *
 * lwIP's own (LWIP_CHKSUM_ALGORITHM 2, Debian's) adds one 16-bit word per
 * step; in a netcon daemon moving a single TCP stream it was 7-8% of the
 * CPU, on the sender (segments are summed as tcp_write copies them) and on
 * the receiver (every segment is verified). This one adds 8 bytes per step
 * into a 64-bit accumulator with end-around carry, then folds: the same
 * ones'-complement sum (RFC 1071: the sum is independent of byte order and
 * of the word size, as long as the carries go around).
 *
 * The contract is lwIP's: the sum of the 16-bit words of data as they lie
 * in memory (native order, so the stored result is in network order), an
 * odd last byte counting as the first byte of a word padded with zero,
 * folded to 16 bits and not complemented. Word boundaries are counted from
 * dataptr, whatever its alignment: a caller summing a chain of buffers
 * swaps the partial sums of odd-length pieces itself (inet_chksum.c).
 * Self-contained (no lwIP headers), so tests/unit/test_chksum.c compiles it
 * too and checks it against a plain RFC 1071 sum. Hidden: liblwip.so
 * exports exactly Debian's symbols plus netcon_lwip_info.
 */
#include <stdint.h>
#include <string.h>

uint16_t netcon_lwip_chksum(const void *dataptr, int len);

__attribute__((visibility("hidden"))) uint16_t netcon_lwip_chksum(const void *dataptr, int len)
{
	const uint8_t *p = dataptr;
	uint64_t acc = 0, w;
	size_t n = len > 0 ? (size_t)len : 0;

	while (n >= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		acc += a;
		acc += acc < a;
		acc += b;
		acc += acc < b;
		acc += c;
		acc += acc < c;
		acc += d;
		acc += acc < d;
		p += 32;
		n -= 32;
	}
	while (n >= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
		p += 8;
		n -= 8;
	}
	if (n) {
		/* the tail, zero-padded in place: in memory order it is the next
		 * (partial) 8-byte group, so its words line up with the rest */
		w = 0;
		memcpy(&w, p, n);
		acc += w;
		acc += acc < w;
	}
	/* fold 64 -> 32 -> 16, carries around each time */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}
