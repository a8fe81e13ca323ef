/* sha384.h - SHA-384 (FIPS 180-4), needed for the COM identity qualifiers
 * (PROTOCOL.md §8.1). libsodium has SHA-512 but not SHA-384.
 */
#ifndef NETCON_NODE_SHA384_H
#define NETCON_NODE_SHA384_H

#include <stddef.h>
#include <stdint.h>

#define ZT_SHA384_LEN 48

/* zt_sha384() - one-shot digest of len bytes at data into out[48]. */
void zt_sha384(uint8_t out[ZT_SHA384_LEN], const void *data, size_t len);

#endif
