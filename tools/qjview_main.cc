// qjview: offline viewer for segment and image files (tools/offline_view.h).
#include <glog/logging.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/cli.h"
#include "tools/offline_view.h"

namespace {

const char* kUsage = R"(usage: qjview segment <file> [--json] [--verify]
       qjview image <file> [--json] [--verify]

Reads one file with no daemon running (a copy off a dead node works).
  segment   a journal segment (edits_<start>-<end> or edits_inprogress_<start>, from a
            journalnode's <edits_dir>/<journal>/current/): every record with its txid,
            byte offset, size, operation name and decoded fields
  image     a namespace image (fsimage_<txid>, from a namenode's name dir): the header,
            then every inode in path order (HDFS oiv "Delimited" columns)
options:
  --json    one JSON document instead of text
  --verify  check the whole file and print only the verdict; a bad file names the first
            bad record by file, offset and txid
  --help, --version

exit codes: 0 good file, 1 unreadable or bad file (one-line reason), 2 usage error
)";

int Usage(const std::string& msg) {
  std::cerr << "qjview: " << msg << " (see --help)\n";
  return qj::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 2;
  std::vector<std::string> words;
  qj::tools::ViewOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (qj::cli::IsHelpArg(a)) {
      std::cout << kUsage;
      return qj::cli::kExitOk;
    }
    if (qj::cli::IsVersionArg(a)) {
      qj::cli::PrintVersion("qjview");
      return qj::cli::kExitOk;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" || a == "-json") {
      options.json = true;
    } else if (a == "--verify" || a == "-verify") {
      options.verify = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("unknown flag " + a);
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return Usage("missing command (segment or image)");
  if (words[0] != "segment" && words[0] != "image") {
    return Usage("unknown command '" + words[0] + "'");
  }
  if (words.size() != 2) return Usage(words[0] + " takes exactly one file");
  if (words[0] == "segment") return qj::tools::ViewSegment(words[1], options, std::cout, std::cerr);
  return qj::tools::ViewImage(words[1], options, std::cout, std::cerr);
}
