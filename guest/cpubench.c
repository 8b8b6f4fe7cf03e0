/*
 * cpubench — the guest's CPU benchmark (built static for riscv64 by guest/build.sh).
 *
 * It produces a stream of N MiB (argument, default 64) from a xorshift64 generator (shifts
 * 13, 7, 17; seed 0x9E3779B97F4A7C15; each 64-bit state written out least significant byte
 * first), 64 KiB at a time, and runs the stream through the reflected CRC-32 of IEEE 802.3
 * (polynomial 0xEDB88320, start value and final xor 0xFFFFFFFF) one byte per table look-up.
 * That is integer work only: shifts, xors, byte stores, table loads and loop branches.
 *
 * Output, one line:  BENCH-DONE <crc32, 8 lowercase hex digits> <milliseconds>
 * The CRC depends only on N (64 MiB: b82eeeec, 1 MiB: 665310df), so a wrong answer from an
 * emulated CPU shows up; the milliseconds come from the guest's CLOCK_MONOTONIC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK (64u * 1024u)

static uint32_t table[256];
static uint8_t block[BLOCK];

static uint64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
	unsigned long mib = 64;
	if (argc > 1) {
		char *rest = NULL;
		mib = strtoul(argv[1], &rest, 10);
		if (rest == argv[1] || *rest != '\0' || mib < 1 || mib > 65536) {
			fprintf(stderr, "cpubench: size must be 1..65536 MiB\n");
			return 2;
		}
	}

	for (uint32_t n = 0; n < 256; n++) {
		uint32_t r = n;
		for (int bit = 0; bit < 8; bit++)
			r = (r >> 1) ^ ((r & 1u) ? 0xEDB88320u : 0u);
		table[n] = r;
	}

	uint64_t start = monotonic_ms();
	uint64_t s = 0x9E3779B97F4A7C15ull;
	uint32_t crc = 0xFFFFFFFFu;
	unsigned long blocks = mib * (1024ul * 1024ul / BLOCK);
	while (blocks--) {
		for (unsigned i = 0; i < BLOCK; i += 8) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			uint64_t v = s;
			for (unsigned k = 0; k < 8; k++, v >>= 8)
				block[i + k] = (uint8_t)v;
		}
		for (unsigned i = 0; i < BLOCK; i++)
			crc = table[(uint8_t)(crc ^ block[i])] ^ (crc >> 8);
	}
	crc = ~crc;
	uint64_t elapsed = monotonic_ms() - start;

	printf("BENCH-DONE %08x %llu\n", (unsigned)crc, (unsigned long long)elapsed);
	fflush(stdout);
	return 0;
}
