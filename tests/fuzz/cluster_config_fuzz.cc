// The cluster-file parser (common/cluster_config.h) on arbitrary text: a config or an
// error naming the origin, and a parsed config holds what the format promises.
#include <string>

#include "common/cluster_config.h"
#include "tests/fuzz/fuzz_target.h"

QJ_FUZZ_TARGET(cluster_config) {
  const std::string text(data);
  auto conf = qj::ParseClusterConfig(text, "fuzz.conf");
  if (!conf.ok()) {
    QJ_FUZZ_CHECK(conf.status().message().find("fuzz.conf") != std::string::npos,
                  "error does not name the file: " + conf.status().ToString());
  } else {
    const size_t n = conf->journal.journalnodes.size();
    QJ_FUZZ_CHECK(n % 2 == 1, "even journalnode count accepted");
    for (const auto& hp : conf->journal.journalnodes) {
      QJ_FUZZ_CHECK(hp.port >= 1 && hp.port <= 65535, "port out of range: " + hp.ToString());
    }
    for (const auto& nn : conf->namenodes) {
      QJ_FUZZ_CHECK(conf->FindNamenode(nn.id) != nullptr, "namenode not found by its id");
    }
  }
  // The pieces on their own, on the same bytes.
  auto hp = qj::ParseHostPort(text);
  if (hp.ok()) QJ_FUZZ_CHECK(hp->port >= 1 && hp->port <= 65535, hp->ToString());
  auto uri = qj::ParseJournalUri(text);
  if (uri.ok()) QJ_FUZZ_CHECK(uri->journalnodes.size() % 2 == 1, "even journalnode count");
}
