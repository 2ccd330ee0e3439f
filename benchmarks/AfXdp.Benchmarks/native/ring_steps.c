// The baseline for the benchmarks: the rxdrop, txonly and l2fwd steps of xdpsock written with the
// inline ring verbs of libxdp's <xdp/xsk.h>, over rings built by hand in malloc'd memory.
// One call runs a whole loop, so the managed-to-native transition is amortised over it.
// Only the benchmarks load this; the library never does.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xdp/xsk.h>

// Where the kernel puts the fields of one mapped ring (XDP_MMAP_OFFSETS on Linux 6.x): producer
// and consumer a cache-line pair apart so the adjacent-line prefetcher does not couple them.
#define PRODUCER_OFFSET 0
#define CONSUMER_OFFSET 128
#define FLAGS_OFFSET 196
#define ENTRIES_OFFSET 320
#define CACHE_LINE 64

#define POOL_FRAMES 64
#define FRAME_SIZE 64
#define ETH_HEADER 14
#define VLAN_TAG 4

struct bench {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	uint8_t *pool;
	void *maps[4];
};

static void *map_ring(uint32_t size, size_t entry_size, uint32_t **producer, uint32_t **consumer,
		      uint32_t **flags, void **entries)
{
	size_t bytes = ENTRIES_OFFSET + (size_t)size * entry_size;
	uint8_t *map = aligned_alloc(CACHE_LINE, (bytes + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1));

	if (!map)
		return NULL;
	memset(map, 0, bytes);
	*producer = (uint32_t *)(map + PRODUCER_OFFSET);
	*consumer = (uint32_t *)(map + CONSUMER_OFFSET);
	*flags = (uint32_t *)(map + FLAGS_OFFSET);
	*entries = map + ENTRIES_OFFSET;
	return map;
}

// The fields are the ones xsk_socket__create and xsk_umem__create fill in (libxdp's xsk.c).
#define INIT_RING(r, map, n, entry_size, is_producer)                                              \
	do {                                                                                      \
		(map) = map_ring((n), (entry_size), &(r).producer, &(r).consumer, &(r).flags, &(r).ring); \
		if (map) {                                                                        \
			(r).mask = (n) - 1;                                                       \
			(r).size = (n);                                                           \
			(r).cached_prod = *(r).producer;                                          \
			(r).cached_cons = *(r).consumer + ((is_producer) ? (n) : 0);              \
		}                                                                                 \
	} while (0)

void afxdp_bench_destroy(struct bench *b)
{
	if (!b)
		return;
	for (int i = 0; i < 4; i++)
		free(b->maps[i]);
	free(b->pool);
	free(b);
}

// Four rings of ring_size entries and a pool of 64 frames of 64 bytes; every RX and COMPLETION
// slot already holds a frame of the pool, as if the kernel had written it.
struct bench *afxdp_bench_create(uint32_t ring_size, const uint8_t *frame)
{
	struct bench *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	INIT_RING(b->rx, b->maps[0], ring_size, sizeof(struct xdp_desc), 0);
	INIT_RING(b->tx, b->maps[1], ring_size, sizeof(struct xdp_desc), 1);
	INIT_RING(b->fill, b->maps[2], ring_size, sizeof(__u64), 1);
	INIT_RING(b->comp, b->maps[3], ring_size, sizeof(__u64), 0);
	b->pool = aligned_alloc(CACHE_LINE, POOL_FRAMES * FRAME_SIZE);
	if (!b->maps[0] || !b->maps[1] || !b->maps[2] || !b->maps[3] || !b->pool) {
		afxdp_bench_destroy(b);
		return NULL;
	}
	for (uint32_t i = 0; i < POOL_FRAMES; i++)
		memcpy(b->pool + i * FRAME_SIZE, frame, FRAME_SIZE);
	for (uint32_t i = 0; i < ring_size; i++) {
		struct xdp_desc *desc = (struct xdp_desc *)b->rx.ring + i;

		desc->addr = (i % POOL_FRAMES) * FRAME_SIZE;
		desc->len = FRAME_SIZE;
		((__u64 *)b->comp.ring)[i] = (i % POOL_FRAMES) * FRAME_SIZE;
	}
	return b;
}

// The kernel's side, as in the managed benchmarks: release stores of the index it owns.
static inline void kernel_produce(struct xsk_ring_cons *ring, uint32_t count)
{
	__atomic_store_n(ring->producer, *ring->producer + count, __ATOMIC_RELEASE);
}

static inline uint32_t kernel_consume_all(struct xsk_ring_prod *ring)
{
	uint32_t pending = __atomic_load_n(ring->producer, __ATOMIC_ACQUIRE) - *ring->consumer;

	__atomic_store_n(ring->consumer, *ring->consumer + pending, __ATOMIC_RELEASE);
	return pending;
}

// The same checks as EthernetFrame.TryCreate, then the swap of xdpsock's swap_mac_addresses.
static inline void swap_macs(uint8_t *frame, uint32_t len)
{
	uint8_t tmp[6];
	uint16_t type;

	if (len < ETH_HEADER)
		return;
	type = (uint16_t)(frame[12] << 8 | frame[13]);
	if ((type == 0x8100 || type == 0x88a8) && len < ETH_HEADER + VLAN_TAG)
		return;
	memcpy(tmp, frame, 6);
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, tmp, 6);
}

// RX peek -> FILL reserve, copy the addresses, submit -> RX release.
uint64_t afxdp_bench_rxdrop(struct bench *b, uint32_t batch, uint32_t iterations)
{
	uint64_t packets = 0;

	for (uint32_t i = 0; i < iterations; i++) {
		uint32_t idx_rx = 0, idx_fq = 0, rcvd;

		kernel_produce(&b->rx, batch);
		kernel_consume_all(&b->fill);
		rcvd = xsk_ring_cons__peek(&b->rx, batch, &idx_rx);
		if (xsk_ring_prod__reserve(&b->fill, rcvd, &idx_fq) == rcvd) {
			for (uint32_t k = 0; k < rcvd; k++)
				*xsk_ring_prod__fill_addr(&b->fill, idx_fq + k) =
					xsk_ring_cons__rx_desc(&b->rx, idx_rx + k)->addr;
			xsk_ring_prod__submit(&b->fill, rcvd);
		}
		xsk_ring_cons__release(&b->rx, rcvd);
		packets += rcvd;
	}
	return packets;
}

// COMPLETION peek/release -> TX reserve, write descriptors, submit.
uint64_t afxdp_bench_txonly(struct bench *b, uint32_t batch, uint32_t iterations)
{
	uint64_t packets = 0;

	for (uint32_t i = 0; i < iterations; i++) {
		uint32_t idx_cq = 0, idx_tx = 0, done;

		kernel_produce(&b->comp, kernel_consume_all(&b->tx));
		done = xsk_ring_cons__peek(&b->comp, batch, &idx_cq);
		xsk_ring_cons__release(&b->comp, done);
		if (xsk_ring_prod__reserve(&b->tx, batch, &idx_tx) == batch) {
			for (uint32_t k = 0; k < batch; k++) {
				struct xdp_desc *desc = xsk_ring_prod__tx_desc(&b->tx, idx_tx + k);

				desc->addr = ((idx_tx + k) % POOL_FRAMES) * FRAME_SIZE;
				desc->len = FRAME_SIZE;
				desc->options = 0;
			}
			xsk_ring_prod__submit(&b->tx, batch);
			packets += batch;
		}
	}
	return packets;
}

// RX peek -> TX reserve -> per frame: swap the MACs, write the TX descriptor -> TX submit -> RX release.
uint64_t afxdp_bench_l2fwd(struct bench *b, uint32_t batch, uint32_t iterations)
{
	uint64_t packets = 0;

	for (uint32_t i = 0; i < iterations; i++) {
		uint32_t idx_rx = 0, idx_tx = 0, rcvd;

		kernel_produce(&b->rx, batch);
		kernel_consume_all(&b->tx);
		rcvd = xsk_ring_cons__peek(&b->rx, batch, &idx_rx);
		if (xsk_ring_prod__reserve(&b->tx, rcvd, &idx_tx) == rcvd) {
			for (uint32_t k = 0; k < rcvd; k++) {
				const struct xdp_desc *in = xsk_ring_cons__rx_desc(&b->rx, idx_rx + k);
				struct xdp_desc *out = xsk_ring_prod__tx_desc(&b->tx, idx_tx + k);

				swap_macs(xsk_umem__get_data(b->pool, in->addr), in->len);
				out->addr = in->addr;
				out->len = in->len;
				out->options = 0;
			}
			xsk_ring_prod__submit(&b->tx, rcvd);
			packets += rcvd;
		}
		xsk_ring_cons__release(&b->rx, rcvd);
	}
	return packets;
}
