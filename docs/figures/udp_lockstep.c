// udp_lockstep: a lock-step UDP echo client. Sends one datagram, waits for its echo (same bytes), repeats
// for SECS seconds; prints round trips per second and the mean round-trip time.
// usage: udp_lockstep ADDRESS PORT SECS [PAYLOAD=32]
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s ADDRESS PORT SECS [PAYLOAD=32]\n", argv[0]);
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "%s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	double secs = atof(argv[3]);
	size_t size = argc > 4 ? (size_t)atoi(argv[4]) : 32;
	if (size < 8 || size > 1472) {
		fprintf(stderr, "payload must be 8 to 1472 bytes\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval timeout = { .tv_sec = 1 };
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
		perror("socket");
		return 1;
	}
	char out[1472], in[1500];
	memset(out, 'x', sizeof(out));
	long trips = 0, timeouts = 0, mismatched = 0;
	double start = now_s(), end = start + secs, t;
	for (unsigned long seq = 0; (t = now_s()) < end; seq++) {
		memcpy(out, &seq, sizeof(seq));
		if (send(fd, out, size, 0) != (ssize_t)size) {
			perror("send");
			return 1;
		}
		ssize_t n = recv(fd, in, sizeof(in), 0);
		if (n < 0)
			timeouts++;
		else if ((size_t)n != size || memcmp(in, out, size) != 0)
			mismatched++;
		else
			trips++;
	}
	double elapsed = t - start;
	printf("udp_lockstep: %ld round trips in %.2f s = %.0f/s, mean rtt %.1f us, payload %zu bytes, %ld timeouts, %ld mismatched\n",
	       trips, elapsed, trips / elapsed, trips ? 1e6 * elapsed / trips : 0, size, timeouts, mismatched);
	return timeouts || mismatched ? 1 : 0;
}
