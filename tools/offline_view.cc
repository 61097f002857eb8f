#include "tools/offline_view.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <utility>
#include <variant>
#include <vector>

#include "common/edit_record.h"
#include "common/file_ops.h"
#include "common/json.h"
#include "journalnode/segment.h"
#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "namenode/inode.h"

namespace qj::tools {

using nn::AddBlockEdit;
using nn::BlockInfo;
using nn::CompleteEdit;
using nn::CreateEdit;
using nn::DecodeEdit;
using nn::DeleteEdit;
using nn::DescribeEdit;
using nn::Edit;
using nn::EditOpName;
using nn::FsNamespace;
using nn::Inode;
using nn::LoadedImage;
using nn::LoadImage;
using nn::MkdirEdit;
using nn::NamespaceOptions;
using nn::NoopEdit;
using nn::ParseImageFileName;
using nn::RenameEdit;
using nn::SetOwnerEdit;
using nn::SetPermissionEdit;
using nn::SetReplicationEdit;
using nn::SetTimesEdit;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Octal(uint16_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", mode);
  return buf;
}

std::string IdsJson(const std::vector<int64_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

// The edit's own fields as JSON members (no braces), after "op".
std::string EditFieldsJson(const Edit& edit) {
  auto s = [](const char* k, const std::string& v) {
    return std::string(",\"") + k + "\":" + JsonString(v);
  };
  auto n = [](const char* k, int64_t v) {
    return std::string(",\"") + k + "\":" + std::to_string(v);
  };
  auto p = [](const char* k, uint16_t v) {
    return std::string(",\"") + k + "\":\"" + Octal(v) + "\"";
  };
  return std::visit(
      Overloaded{
          [](const NoopEdit&) { return std::string(); },
          [&](const MkdirEdit& e) {
            return s("path", e.path) + ",\"new_inode_ids\":" + IdsJson(e.new_inode_ids) +
                   s("owner", e.owner) + s("group", e.group) + p("permission", e.permission) +
                   p("parent_permission", e.parent_permission) + n("mtime_ms", e.mtime_ms);
          },
          [&](const CreateEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) + s("owner", e.owner) +
                   s("group", e.group) + p("permission", e.permission) +
                   n("replication", e.replication) + n("block_size", e.block_size) +
                   n("mtime_ms", e.mtime_ms) +
                   ",\"overwrite\":" + (e.overwrite ? "true" : "false") +
                   n("replaced_inode_id", e.replaced_inode_id);
          },
          [&](const AddBlockEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) +
                   n("previous_block_length", e.previous_block_length) +
                   ",\"block\":{\"id\":" + std::to_string(e.block.id) +
                   ",\"num_bytes\":" + std::to_string(e.block.num_bytes) +
                   ",\"gen_stamp\":" + std::to_string(e.block.gen_stamp) + "}";
          },
          [&](const CompleteEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) +
                   n("last_block_length", e.last_block_length) + n("mtime_ms", e.mtime_ms);
          },
          [&](const DeleteEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) + n("mtime_ms", e.mtime_ms);
          },
          [&](const RenameEdit& e) {
            return s("src", e.src) + s("dst", e.dst) + n("inode_id", e.inode_id) +
                   n("mtime_ms", e.mtime_ms);
          },
          [&](const SetPermissionEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) + p("permission", e.permission);
          },
          [&](const SetOwnerEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) + s("owner", e.owner) +
                   s("group", e.group);
          },
          [&](const SetTimesEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) + n("mtime_ms", e.mtime_ms) +
                   n("atime_ms", e.atime_ms);
          },
          [&](const SetReplicationEdit& e) {
            return s("path", e.path) + n("inode_id", e.inode_id) + n("replication", e.replication);
          },
      },
      edit);
}

// The first thing wrong with a file: where, and what.
struct Problem {
  uint64_t offset = 0;
  int64_t txid = -1;  // the txid the bad record has or should have had; -1 unknown
  std::string detail;
};

std::string ProblemLine(const std::string& path, const Problem& p) {
  std::string line = path + " offset " + std::to_string(p.offset);
  if (p.txid >= 0) line += " txid " + std::to_string(p.txid);
  return line + ": " + p.detail;
}

std::string ProblemJson(const Problem& p) {
  return "{\"offset\":" + std::to_string(p.offset) + ",\"txid\":" + std::to_string(p.txid) +
         ",\"detail\":" + JsonString(p.detail) + "}";
}

}  // namespace

int ViewSegment(const std::string& path, const ViewOptions& options, std::ostream& out,
                std::ostream& err) {
  // The name, when it is a segment name, says where txids start and (finalized) end.
  const std::optional<jn::SegmentState> named = jn::ParseSegmentName(Basename(path));
  const bool in_progress = named && named->in_progress;
  PosixFileOps ops;
  auto file = ops.Open(path, FileOps::Mode::kRead);
  if (!file.ok()) {
    err << "qjview: " << file.status().ToString() << "\n";
    return 1;
  }
  auto size = (*file)->Size();
  if (!size.ok()) {
    err << "qjview: " << size.status().ToString() << "\n";
    return 1;
  }
  const uint64_t file_size = *size;

  if (options.json) {
    out << "{\"file\":" << JsonString(path) << ",\"kind\":\"segment\",\"name\":";
    if (named) {
      out << "{\"start_txid\":" << named->start_txid
          << ",\"end_txid\":" << (named->in_progress ? -1 : named->end_txid)
          << ",\"in_progress\":" << (named->in_progress ? "true" : "false") << "}";
    } else {
      out << "null";
    }
    out << ",\"file_bytes\":" << file_size;
    if (!options.verify) out << ",\"records\":[";
  } else if (!options.verify) {
    out << "segment " << path << ": "
        << (named ? (in_progress ? "in progress, from txid " + std::to_string(named->start_txid)
                                 : "finalized, txids " + std::to_string(named->start_txid) + ".." +
                                       std::to_string(named->end_txid))
                  : std::string("not a segment file name, txids from the first record"))
        << ", " << file_size << " bytes\n";
  }

  jn::SegmentReader reader(file->get(), file_size);
  std::optional<Problem> problem;
  std::optional<Problem> torn;
  int64_t expected = named ? named->start_txid : -1;
  int64_t first_txid = -1, last_txid = -1, count = 0;
  uint64_t data_bytes = 0;
  while (!problem) {
    RecordView rec;
    std::string detail;
    const uint64_t offset = reader.offset();
    auto step = reader.Next(&rec, &detail);
    if (!step.ok()) {
      problem = Problem{offset, expected, step.status().ToString()};
      break;
    }
    if (*step == jn::SegmentReader::Step::kEnd) {
      if (named && !in_progress && reader.offset() < file_size) {
        problem = Problem{reader.offset(), expected,
                          std::to_string(file_size - reader.offset()) +
                              " bytes after the last record of a finalized segment"};
      }
      break;
    }
    if (*step == jn::SegmentReader::Step::kTornTail && in_progress) {
      torn = Problem{reader.offset(), expected, "torn tail (start-up truncates it): " + detail};
      break;
    }
    if (*step != jn::SegmentReader::Step::kRecord) {
      problem = Problem{reader.offset(), expected,
                        (*step == jn::SegmentReader::Step::kTornTail
                             ? "damaged last record (a torn tail is allowed only in an "
                               "in-progress segment): "
                             : "") +
                            detail};
      break;
    }
    if (expected >= 0 && rec.txid != expected) {
      problem = Problem{offset, rec.txid,
                        "txid " + std::to_string(rec.txid) + " where " + std::to_string(expected) +
                            " was expected"};
      break;
    }
    Result<Edit> edit = DecodeEdit(rec.op, rec.payload);
    if (!options.verify) {
      if (options.json) {
        out << (count ? ",\n" : "\n") << "{\"txid\":" << rec.txid << ",\"offset\":" << offset
            << ",\"size\":" << rec.encoded_size << ",\"op\":" << JsonString(EditOpName(rec.op))
            << ",\"op_code\":" << rec.op;
        if (edit.ok()) out << EditFieldsJson(*edit);
        out << "}";
      } else {
        out << "txid=" << rec.txid << " offset=" << offset << " size=" << rec.encoded_size << " "
            << (edit.ok() ? DescribeEdit(*edit) : EditOpName(rec.op) + " (undecodable)") << "\n";
      }
    }
    if (!edit.ok()) {
      problem =
          Problem{offset, rec.txid, "payload is not a namenode edit: " + edit.status().ToString()};
      break;
    }
    if (first_txid < 0) first_txid = rec.txid;
    last_txid = rec.txid;
    expected = rec.txid + 1;
    ++count;
    data_bytes = reader.offset();
  }
  if (!problem && named && !in_progress && last_txid != named->end_txid) {
    problem = Problem{reader.offset(), last_txid + 1,
                      "segment ends at txid " + std::to_string(last_txid) + " but its name says " +
                          std::to_string(named->end_txid)};
  }

  if (options.json) {
    if (!options.verify) out << "\n]";
    out << ",\"result\":{\"ok\":" << (problem ? "false" : "true") << ",\"records\":" << count
        << ",\"first_txid\":" << first_txid << ",\"last_txid\":" << last_txid
        << ",\"data_bytes\":" << data_bytes;
    if (torn) out << ",\"torn_tail\":" << ProblemJson(*torn);
    if (problem) out << ",\"error\":" << ProblemJson(*problem);
    out << "}}\n";
  } else {
    const std::string range =
        count ? ", txids " + std::to_string(first_txid) + ".." + std::to_string(last_txid)
              : std::string();
    if (torn) out << "note: " << ProblemLine(path, *torn) << "\n";
    if (!problem) {
      out << (options.verify ? "OK " + path + ": " : std::string("summary: ")) << count
          << " records" << range << ", " << data_bytes << " bytes of records\n";
    } else if (!options.verify) {
      out << "summary: BAD after " << count << " good records" << range << "\n";
    }
  }
  if (problem) {
    err << "qjview: bad record: " << ProblemLine(path, *problem) << "\n";
    return 1;
  }
  return 0;
}

int ViewImage(const std::string& path, const ViewOptions& options, std::ostream& out,
              std::ostream& err) {
  int64_t named_txid = -1;
  ParseImageFileName(Basename(path), &named_txid);
  Result<LoadedImage> loaded = LoadImage(path, NamespaceOptions());
  if (!loaded.ok()) {
    std::string line = loaded.status().ToString();
    if (named_txid >= 0) line += " (image txid " + std::to_string(named_txid) + " by its name)";
    if (options.json) {
      out << "{\"file\":" << JsonString(path) << ",\"kind\":\"image\",\"result\":{\"ok\":false,"
          << "\"error\":" << JsonString(line) << "}}\n";
    }
    err << "qjview: bad image: " << line << "\n";
    return 1;
  }
  const FsNamespace& ns = *loaded->ns;
  const int64_t txid = loaded->txid;
  if (options.verify) {
    if (options.json) {
      out << "{\"file\":" << JsonString(path) << ",\"kind\":\"image\",\"txid\":" << txid
          << ",\"namespace_id\":" << ns.options().namespace_id
          << ",\"inode_count\":" << ns.inode_count() << ",\"result\":{\"ok\":true}}\n";
    } else {
      out << "OK " << path << ": image txid " << txid << ", namespace " << ns.options().namespace_id
          << ", " << ns.inode_count() << " inodes\n";
    }
    return 0;
  }
  if (options.json) {
    out << "{\"file\":" << JsonString(path) << ",\"kind\":\"image\",\"txid\":" << txid
        << ",\"namespace_id\":" << ns.options().namespace_id
        << ",\"inode_count\":" << ns.inode_count() << ",\"next_inode_id\":" << ns.next_inode_id()
        << ",\"next_block_id\":" << ns.next_block_id()
        << ",\"last_gen_stamp\":" << ns.last_gen_stamp() << ",\"inodes\":[";
  } else {
    out << "# image " << path << ": txid " << txid << ", namespace " << ns.options().namespace_id
        << ", " << ns.inode_count() << " inodes\n"
        << "Path\tType\tReplication\tModificationTime\tAccessTime\tPreferredBlockSize\t"
           "BlocksCount\tFileSize\tPermission\tUserName\tGroupName\n";
  }
  // Depth first, children in name order, without recursion (trees can be deep).
  std::vector<std::pair<const Inode*, std::string>> stack = {{ns.root(), "/"}};
  int64_t n = 0;
  while (!stack.empty()) {
    auto [inode, ipath] = std::move(stack.back());
    stack.pop_back();
    if (options.json) {
      out << (n ? ",\n" : "\n") << "{\"id\":" << inode->id << ",\"path\":" << JsonString(ipath)
          << ",\"type\":\"" << (inode->is_dir ? "DIRECTORY" : "FILE") << "\",\"permission\":\""
          << Octal(inode->permission) << "\",\"owner\":" << JsonString(*inode->owner)
          << ",\"group\":" << JsonString(*inode->group) << ",\"mtime_ms\":" << inode->mtime
          << ",\"atime_ms\":" << inode->atime;
      if (inode->is_dir) {
        out << ",\"children\":" << inode->NumChildren();
      } else {
        out << ",\"replication\":" << inode->replication << ",\"block_size\":" << inode->block_size
            << ",\"under_construction\":" << (inode->under_construction ? "true" : "false")
            << ",\"length\":" << inode->Length() << ",\"blocks\":[";
        for (size_t i = 0; i < inode->blocks.size(); ++i) {
          const BlockInfo& b = inode->blocks[i];
          out << (i ? "," : "") << "{\"id\":" << b.id << ",\"num_bytes\":" << b.num_bytes
              << ",\"gen_stamp\":" << b.gen_stamp << "}";
        }
        out << "]";
      }
      out << "}";
    } else {
      out << ipath << "\t" << (inode->is_dir ? "DIRECTORY" : "FILE") << "\t" << inode->replication
          << "\t" << inode->mtime << "\t" << inode->atime << "\t" << inode->block_size << "\t"
          << inode->blocks.size() << "\t" << inode->Length() << "\t" << Octal(inode->permission)
          << "\t" << *inode->owner << "\t" << *inode->group << "\n";
    }
    ++n;
    if (inode->is_dir && inode->children) {
      const std::string prefix = ipath == "/" ? "/" : ipath + "/";
      const size_t base = stack.size();
      for (const auto& [name, child] : *inode->children) {
        stack.emplace_back(child, prefix + std::string(name));
      }
      std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(base), stack.end());
    }
  }
  if (options.json) {
    out << "\n],\"result\":{\"ok\":true}}\n";
  }
  return 0;
}

}  // namespace qj::tools
