/*
 * A slow disk for one process (LD_PRELOAD): every positioned write and every sync waits
 * SLOW_IO_MS milliseconds first. Positioned writes and syncs are what a store's commit does
 * (lmdb: pwrite/pwritev of pages, fdatasync); sockets and pipes use write/writev, untouched, so
 * the process's Kafka and HTTP traffic keep their speed. Built by the fault test with cc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static long delay_ns(void) {
  static long ns = -1;
  if (ns < 0) {
    const char *ms = getenv("SLOW_IO_MS");
    ns = ms ? atol(ms) * 1000000L : 0;
  }
  return ns;
}

static void wait_io(void) {
  long ns = delay_ns();
  if (ns > 0) {
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    nanosleep(&t, NULL);
  }
}

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*sync_fn)(int);

#define REAL(name, type) \
  static type real = NULL; \
  if (!real) real = (type)dlsym(RTLD_NEXT, name)

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL("pwrite", pwrite_fn);
  wait_io();
  return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  REAL("pwrite64", pwrite_fn);
  wait_io();
  return real(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL("pwritev", pwritev_fn);
  wait_io();
  return real(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL("pwritev64", pwritev_fn);
  wait_io();
  return real(fd, iov, cnt, off);
}

int fdatasync(int fd) {
  REAL("fdatasync", sync_fn);
  wait_io();
  return real(fd);
}

int fsync(int fd) {
  REAL("fsync", sync_fn);
  wait_io();
  return real(fd);
}
