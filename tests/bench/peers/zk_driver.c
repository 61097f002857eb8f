/* zk_driver: drives a ZooKeeper ensemble with its C client (libzookeeper_mt) the way the
 * issue asks: asynchronous zoo_aset calls with many requests outstanding from one client,
 * then synchronous single writes for latency. Prints BENCH lines (see peer_common.h).
 *
 *   zk_driver --server 127.0.0.1:2181 --pids 11,12,13 [--ops 100000] [--outstanding 1000]
 *             [--payloads 64,256,1024] [--latency_ops 2000] [--nodes 3]
 *
 * Writes go to znodes /qjbench/k<i> (i < 1000, created first) round-robin: each write is a
 * committed setData (logged and fsynced by a quorum before the completion fires).
 * Exits non-zero if any write fails. */
#define THREADED 1 /* the synchronous API of libzookeeper_mt */
#include <pthread.h>
#include <zookeeper/zookeeper.h>

#include "peer_common.h"

#define NKEYS 1000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER; /* notified by completions, watcher */
static int connected = 0;
static long inflight = 0, done = 0, failed = 0;
static int last_error = 0;

static void watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh, (void)path, (void)ctx;
  if (type == ZOO_SESSION_EVENT) {
    pthread_mutex_lock(&mu);
    connected = state == ZOO_CONNECTED_STATE;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
}

static void on_set(int rc, const struct Stat* stat, const void* data) {
  (void)stat, (void)data;
  pthread_mutex_lock(&mu);
  inflight--;
  done++;
  if (rc != ZOK) {
    failed++;
    last_error = rc;
  }
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
}

static const char* key_path(long i, char* buf) {
  snprintf(buf, 64, "/qjbench/k%ld", i % NKEYS);
  return buf;
}

/* Issues `ops` asynchronous sets of `payload` bytes with at most `window` outstanding;
 * returns elapsed microseconds. */
static double run_async(zhandle_t* zh, long ops, long window, int payload) {
  char* value = malloc((size_t)payload);
  memset(value, 'v', (size_t)payload);
  char path[64];
  pthread_mutex_lock(&mu);
  done = 0;
  pthread_mutex_unlock(&mu);
  double t0 = peer_now_us();
  for (long i = 0; i < ops; i++) {
    pthread_mutex_lock(&mu);
    while (inflight >= window) pthread_cond_wait(&cv, &mu);
    inflight++;
    pthread_mutex_unlock(&mu);
    int rc = zoo_aset(zh, key_path(i, path), value, payload, -1, on_set, NULL);
    if (rc != ZOK) {
      fprintf(stderr, "zk_driver: zoo_aset: %s\n", zerror(rc));
      exit(1);
    }
  }
  pthread_mutex_lock(&mu);
  while (done < ops) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  double t1 = peer_now_us();
  free(value);
  return t1 - t0;
}

int main(int argc, char** argv) {
  const char* server = "127.0.0.1:2181";
  const char* pids_arg = "";
  const char* payloads_arg = "64,256,1024";
  long ops = 100000, window = 1000, latency_ops = 2000;
  int nodes = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--server")) server = argv[i + 1];
    else if (!strcmp(argv[i], "--pids")) pids_arg = argv[i + 1];
    else if (!strcmp(argv[i], "--payloads")) payloads_arg = argv[i + 1];
    else if (!strcmp(argv[i], "--ops")) ops = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--outstanding")) window = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--latency_ops")) latency_ops = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--nodes")) nodes = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "zk_driver: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  peer_pids pids;
  peer_parse_pids(pids_arg, &pids);
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zhandle_t* zh = zookeeper_init(server, watcher, 30000, NULL, NULL, 0);
  if (!zh) {
    perror("zk_driver: zookeeper_init");
    return 1;
  }
  pthread_mutex_lock(&mu);
  double deadline = peer_now_us() + 30e6;
  while (!connected && peer_now_us() < deadline) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&cv, &mu, &ts);
  }
  pthread_mutex_unlock(&mu);
  if (!connected) {
    fprintf(stderr, "zk_driver: no session with %s within 30 s\n", server);
    return 1;
  }
  /* Setup: the parent and NKEYS znodes. A fresh ensemble may drop the first connection;
   * the session reconnects by itself, so retry a lost or timed-out create for up to 60 s. */
  char path[64];
  int rc = ZOK;
  double setup_deadline = peer_now_us() + 60e6;
  for (long i = -1; i < NKEYS; i++) {
    const char* p = i < 0 ? "/qjbench" : key_path(i, path);
    do {
      rc = zoo_create(zh, p, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    } while ((rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) && peer_now_us() < setup_deadline);
    if (rc != ZOK && rc != ZNODEEXISTS) {
      fprintf(stderr, "zk_driver: create %s: %s\n", p, zerror(rc));
      return 1;
    }
  }
  run_async(zh, ops / 5 > 10000 ? ops / 5 : 10000, window, 256); /* warm up the JIT */

  const char* p = payloads_arg;
  while (p && *p) {
    int payload = atoi(p);
    double s0 = peer_servers_cpu_us(&pids), c0 = peer_self_cpu_us();
    double us = run_async(zh, ops, window, payload);
    double s1 = peer_servers_cpu_us(&pids), c1 = peer_self_cpu_us();
    printf("BENCH name=commit_rate system=zookeeper payload=%d nodes=%d cores=%d ops=%ld "
           "outstanding=%ld value=%.0f unit=writes/s cpu_us_per_op=%.2f "
           "server_cpu_us_per_op=%.2f client_cpu_us_per_op=%.2f\n",
           payload, nodes, peer_cores(), ops, window, ops / (us / 1e6),
           (s1 - s0 + c1 - c0) / ops, (s1 - s0) / ops, (c1 - c0) / ops);
    fflush(stdout);
    p = strchr(p, ',');
    if (p) p++;
  }

  double* lat = malloc(sizeof(double) * (size_t)latency_ops);
  char value[256];
  memset(value, 'v', sizeof value);
  double s0 = peer_servers_cpu_us(&pids), c0 = peer_self_cpu_us();
  for (long i = 0; i < latency_ops; i++) {
    double t0 = peer_now_us();
    rc = zoo_set(zh, key_path(i, path), value, sizeof value, -1);
    lat[i] = peer_now_us() - t0;
    if (rc != ZOK) {
      fprintf(stderr, "zk_driver: zoo_set: %s\n", zerror(rc));
      return 1;
    }
  }
  double s1 = peer_servers_cpu_us(&pids), c1 = peer_self_cpu_us();
  double p50 = peer_percentile(lat, (int)latency_ops, 0.50);
  double p99 = peer_percentile(lat, (int)latency_ops, 0.99);
  printf("BENCH name=write_latency system=zookeeper payload=256 nodes=%d cores=%d ops=%ld "
         "p50_us=%.0f p99_us=%.0f value=%.0f unit=us cpu_us_per_op=%.2f\n",
         nodes, peer_cores(), latency_ops, p50, p99, p50, (s1 - s0 + c1 - c0) / latency_ops);
  zookeeper_close(zh);
  if (failed) {
    fprintf(stderr, "zk_driver: %ld writes failed (last: %s)\n", failed, zerror(last_error));
    return 1;
  }
  return 0;
}
