/* Shared by the peer drivers (zk_driver.c, etcd_driver.cc): CPU accounting from
 * /proc/<pid>/stat, a monotonic clock, percentiles, and the BENCH line format that
 * tests/bench/qjournal_bench.cc prints too. Header-only, C and C++. Single-threaded use. */
#ifndef QJ_BENCH_PEERS_PEER_COMMON_H_
#define QJ_BENCH_PEERS_PEER_COMMON_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PEER_MAX_PIDS 16

static inline double peer_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* utime+stime of one process in microseconds; -1 if it cannot be read. Fields 14 and 15
 * of /proc/<pid>/stat, counted after the ")" that closes the command name. */
static inline double peer_proc_cpu_us(int pid) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2; /* field 3 (state) starts here */
  unsigned long long ut = 0, st = 0;
  int field = 3;
  while (*p && field < 14) {
    if (*p == ' ') field++;
    p++;
  }
  if (sscanf(p, "%llu %llu", &ut, &st) != 2) return -1;
  return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static inline double peer_self_cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
         ru.ru_stime.tv_usec;
}

typedef struct {
  int pids[PEER_MAX_PIDS];
  int npids;
} peer_pids;

/* Parses "1,2,3". */
static inline void peer_parse_pids(const char* s, peer_pids* out) {
  out->npids = 0;
  while (s && *s && out->npids < PEER_MAX_PIDS) {
    out->pids[out->npids++] = atoi(s);
    s = strchr(s, ',');
    if (s) s++;
  }
}

static inline double peer_servers_cpu_us(const peer_pids* p) {
  double sum = 0;
  for (int i = 0; i < p->npids; i++) {
    double v = peer_proc_cpu_us(p->pids[i]);
    if (v > 0) sum += v;
  }
  return sum;
}

static inline int peer_cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* q in [0,1]; sorts v in place. */
static inline double peer_percentile(double* v, int n, double q) {
  if (n <= 0) return 0;
  qsort(v, (size_t)n, sizeof(double), peer_cmp_double);
  int i = (int)(q * (n - 1) + 0.5);
  return v[i];
}

static inline int peer_cores(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }

#endif /* QJ_BENCH_PEERS_PEER_COMMON_H_ */
