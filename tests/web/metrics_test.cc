// The metrics registry's Prometheus text format, and the pages over real HTTP.
#include "common/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "common/daemon_web.h"
#include "common/http_server.h"
#include "common/status_page.h"
#include "tests/web/http_get.h"

namespace qj {
namespace {

using metrics::Registry;

TEST(MetricsText, CounterGaugeWithLabels_RenderHelpTypeAndSamples) {
  Registry r;
  auto* c = r.AddCounter("qj_test_requests_total", "Requests served", {"op", "result"});
  c->With({"mkdirs", "ok"})->Increment();
  c->With({"mkdirs", "ok"})->Increment(2);
  c->With({"delete", "NotFound"})->Increment();
  r.AddGauge("qj_test_last_txid", "Last txid")->With()->Set(42);
  EXPECT_EQ(r.Render(),
            "# HELP qj_test_requests_total Requests served\n"
            "# TYPE qj_test_requests_total counter\n"
            "qj_test_requests_total{op=\"delete\",result=\"NotFound\"} 1\n"
            "qj_test_requests_total{op=\"mkdirs\",result=\"ok\"} 3\n"
            "# HELP qj_test_last_txid Last txid\n"
            "# TYPE qj_test_last_txid gauge\n"
            "qj_test_last_txid 42\n");
}

TEST(MetricsText, Histogram_BucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto* h = r.AddHistogram("qj_test_sync_seconds", "Sync time", {0.001, 0.01, 0.1});
  for (double v : {0.0005, 0.001, 0.005, 0.05, 0.5}) h->With()->Observe(v);
  EXPECT_EQ(r.Render(),
            "# HELP qj_test_sync_seconds Sync time\n"
            "# TYPE qj_test_sync_seconds histogram\n"
            "qj_test_sync_seconds_bucket{le=\"0.001\"} 2\n"  // le: 0.001 itself counts
            "qj_test_sync_seconds_bucket{le=\"0.01\"} 3\n"
            "qj_test_sync_seconds_bucket{le=\"0.1\"} 4\n"
            "qj_test_sync_seconds_bucket{le=\"+Inf\"} 5\n"
            "qj_test_sync_seconds_sum 0.5565\n"
            "qj_test_sync_seconds_count 5\n");
}

TEST(MetricsText, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.AddGauge("qj_test_g", "a \\ help\nline", {"path"})->With({"a\"b\\c\nd"})->Set(1.5);
  EXPECT_EQ(r.Render(),
            "# HELP qj_test_g a \\\\ help\\nline\n"
            "# TYPE qj_test_g gauge\n"
            "qj_test_g{path=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

TEST(MetricsText, Collector_WritesAfterOwnedFamilies) {
  Registry r;
  r.AddCounter("qj_test_a_total", "A")->With()->Increment();
  r.AddCollector([](metrics::TextWriter* w) {
    w->Begin("qj_test_b", "gauge", "B");
    w->Sample("qj_test_b", {{"journal", "ns1"}}, -1);
  });
  EXPECT_EQ(r.Render(),
            "# HELP qj_test_a_total A\n# TYPE qj_test_a_total counter\nqj_test_a_total 1\n"
            "# HELP qj_test_b B\n# TYPE qj_test_b gauge\nqj_test_b{journal=\"ns1\"} -1\n");
}

TEST(MetricsText, ConcurrentIncrements_AreAllCounted) {
  Registry r;
  auto* c = r.AddCounter("qj_test_total", "T")->With();
  auto* h = r.AddHistogram("qj_test_seconds", "S", {1})->With();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c->Increment();
        h->Observe(0.5);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(c->value(), 40000);
  EXPECT_EQ(h->snapshot().count, 40000u);
  EXPECT_EQ(h->snapshot().sum, 20000);
}

TEST(StatusPage, JsonAndHtmlCarryFieldsTablesAndEscapes) {
  StatusReport rep;
  rep.daemon = "namenode";
  rep.name = "nn1";
  rep.Field("ha_state", "active");
  rep.Field("inodes", int64_t{7});
  rep.Field("healthy", true);
  rep.tables.push_back(StatusTable{"journalnodes",
                                   "Quorum",
                                   {"journalnode", "lag"},
                                   {{"127.0.0.1:1", int64_t{0}}, {"<x>", int64_t{3}}}});
  EXPECT_EQ(RenderStatusJson(rep),
            "{\"daemon\":\"namenode\",\"name\":\"nn1\",\"ha_state\":\"active\",\"inodes\":7,"
            "\"healthy\":true,\"journalnodes\":[{\"journalnode\":\"127.0.0.1:1\",\"lag\":0},"
            "{\"journalnode\":\"<x>\",\"lag\":3}]}\n");
  const std::string html = RenderStatusHtml(rep);
  EXPECT_NE(html.find("<td id=\"f-ha_state\">active</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"c-journalnode\">&lt;x&gt;</td>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org"));  // nothing fetched
}

TEST(StatusPage, SampleRing_RateIsPerSecondAndBounded) {
  SampleRing ring(3);
  ring.Add(1000, 10, 0);
  ring.Add(2000, 30, 5);
  ring.Add(3000, 30, 1);
  ring.Add(4000, 130, 2);  // pushes out the first sample
  StatusChart rate = ring.RateChart(4000, "rate", "r");
  ASSERT_EQ(rate.points.size(), 2u);
  EXPECT_EQ(rate.points[0], std::make_pair(1.0, 0.0));
  EXPECT_EQ(rate.points[1], std::make_pair(0.0, 100.0));
  StatusChart lag = ring.LevelChart(4000, "lag", "l");
  ASSERT_EQ(lag.points.size(), 3u);
  EXPECT_EQ(lag.points[0], std::make_pair(2.0, 5.0));
  const std::string svg = RenderChartSvg(rate);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("id=\"chart-rate\""), std::string::npos);
}

TEST(HttpServer, ServesGetAndHead_RefusesOtherMethodsAndUnknownPaths) {
  HttpServer s(HttpServerOptions{"127.0.0.1", 0, 4, 5000, "test"});
  int calls = 0;
  s.Handle("/x", [&] {
    ++calls;
    return HttpResponse{200, "text/plain", "hello"};
  });
  ASSERT_TRUE(s.Start().ok());
  ASSERT_GT(s.port(), 0);
  testweb::Reply r = testweb::Get(s.port(), "/x?ignored=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  r = testweb::Request(s.port(), "HEAD", "/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_NE(r.headers.find("Content-Length: 5"), std::string::npos) << r.headers;
  r = testweb::Request(s.port(), "POST", "/x");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.find("Allow: GET, HEAD"), std::string::npos);
  EXPECT_EQ(testweb::Get(s.port(), "/nope").status, 404);
  EXPECT_EQ(calls, 2);
  s.Stop();
  EXPECT_EQ(testweb::Get(s.port(), "/x").status, 0);
}

TEST(HttpServer, BadBindAddressOrBusyPort_IsAClearError) {
  HttpServer bad(HttpServerOptions{"not-an-address", 0, 4, 5000, "t"});
  Status st = bad.Start();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st;
  HttpServer first(HttpServerOptions{"127.0.0.1", 0, 4, 5000, "t"});
  ASSERT_TRUE(first.Start().ok());
  HttpServer second(HttpServerOptions{"127.0.0.1", first.port(), 4, 5000, "t"});
  st = second.Start();
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st;
  EXPECT_NE(st.message().find(std::to_string(first.port())), std::string::npos) << st;
}

TEST(HttpServer, ConnectionsBeyondTheBound_AreClosedAndServingGoesOn) {
  HttpServer s(HttpServerOptions{"127.0.0.1", 0, 2, 5000, "test"});
  s.Handle("/", [] { return HttpResponse{200, "text/plain", "ok"}; });
  ASSERT_TRUE(s.Start().ok());
  // Two idle connections take both slots.
  std::vector<int> idle;
  for (int i = 0; i < 2; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(s.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    idle.push_back(fd);
  }
  // The accept loop sees them in order; a third request is then refused.
  testweb::Reply r;
  for (int i = 0; i < 100; ++i) {
    r = testweb::Get(s.port(), "/");
    if (r.status == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(r.status, 0) << "a third connection was served past the bound of 2";
  for (int fd : idle) ::close(fd);
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    served = testweb::Get(s.port(), "/").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served) << "slots were not given back after the idle connections closed";
}

TEST(DaemonWeb, ServesMetricsStatusAndPage) {
  DaemonWebOptions o;
  o.http = HttpServerOptions{"127.0.0.1", 0, 8, 5000, "t"};
  o.sample_interval_ms = 10;
  double count = 0;
  std::mutex mu;
  DaemonWeb web(
      o,
      [] {
        StatusReport r;
        r.daemon = "journalnode";
        r.name = "jn9";
        r.Field("journal_count", int64_t{1});
        return r;
      },
      [&] {
        std::lock_guard<std::mutex> l(mu);
        count += 5;
        return std::make_pair(count, 1.0);
      });
  web.registry()->AddCounter("qj_test_total", "T")->With()->Increment(3);
  ASSERT_TRUE(web.Start().ok());
  testweb::Reply m = testweb::Get(web.port(), "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(m.body.find("\nqj_test_total 3\n"), std::string::npos) << m.body;
  testweb::Reply j = testweb::Get(web.port(), "/status");
  EXPECT_EQ(j.body, "{\"daemon\":\"journalnode\",\"name\":\"jn9\",\"journal_count\":1}\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  testweb::Reply p = testweb::Get(web.port(), "/");
  EXPECT_NE(p.body.find("<svg id=\"chart-rate\""), std::string::npos);
  EXPECT_NE(p.body.find("<polyline"), std::string::npos) << "no samples charted";
  web.Stop();
}

}  // namespace
}  // namespace qj
