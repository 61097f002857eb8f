#include "namenode/image.h"

#include <glog/logging.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "common/crc32c.h"
#include "common/file_ops.h"
#include "common/file_util.h"
#include "common/progress.h"
#include "namenode/codec.h"
#include "namenode/inode.h"
#include "namenode/path_util.h"

namespace qj::nn {
namespace {

// See FORMAT.md, "Image".
constexpr char kMagic[8] = {'Q', 'J', 'F', 'S', 'I', 'M', 'G', '\n'};
constexpr uint32_t kImageVersion = 1;
constexpr size_t kHeaderSize = 40;
constexpr size_t kFrameHeaderSize = 8;
constexpr size_t kFrameTarget = 256 * 1024;               // writer flushes past this
constexpr uint32_t kMaxFramePayload = 64u * 1024 * 1024;  // reader rejects above this
constexpr uint8_t kTagCounters = 'H';
constexpr uint8_t kTagString = 'S';
constexpr uint8_t kTagInode = 'I';
constexpr uint8_t kTagEnd = 'E';
constexpr uint8_t kKindDir = 0;
constexpr uint8_t kKindFile = 1;
constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string EncodeHeader(int64_t namespace_id, int64_t txid) {
  std::string h(kMagic, sizeof(kMagic));
  codec::PutFixed32(&h, kImageVersion);
  codec::PutFixed32(&h, 0);  // flags
  codec::PutFixed64(&h, static_cast<uint64_t>(namespace_id));
  codec::PutFixed64(&h, static_cast<uint64_t>(txid));
  codec::PutFixed32(&h, 0);  // reserved
  codec::PutFixed32(&h, crc32c::Value(h.data(), h.size()));
  DCHECK_EQ(h.size(), kHeaderSize);
  return h;
}

// Appends to a file opened for writing, from offset 0.
class Appender {
 public:
  explicit Appender(SegmentFile* file) : file_(file) {}
  Status Append(const char* data, size_t n) {
    QJ_RETURN_IF_ERROR(file_->WriteAt(offset_, std::string_view(data, n)));
    offset_ += n;
    return Status::OK();
  }
  uint64_t offset() const { return offset_; }

 private:
  SegmentFile* const file_;
  uint64_t offset_ = 0;
};

// Streams records into CRC-checked frames.
class FrameWriter {
 public:
  explicit FrameWriter(Appender* out) : out_(out) { buf_.reserve(kFrameTarget + 4096); }
  std::string* buf() { return &buf_; }
  // Call after each whole record.
  Status MaybeFlush() { return buf_.size() >= kFrameTarget ? Flush() : Status::OK(); }
  Status Flush() {
    if (buf_.empty()) return Status::OK();
    CHECK_LE(buf_.size(), kMaxFramePayload) << "image record too large";
    QJ_RETURN_IF_ERROR(WriteFrame(buf_));
    buf_.clear();
    return Status::OK();
  }
  // Flushes and writes the end frame.
  Status Finish() {
    QJ_RETURN_IF_ERROR(Flush());
    std::string end;
    codec::PutFixed32(&end, 0);
    codec::PutFixed32(&end, stream_crc_);
    return out_->Append(end.data(), end.size());
  }

 private:
  Status WriteFrame(const std::string& payload) {
    std::string head;
    codec::PutFixed32(&head, static_cast<uint32_t>(payload.size()));
    uint32_t crc = crc32c::Extend(crc32c::Value(head.data(), 4), payload.data(), payload.size());
    codec::PutFixed32(&head, crc);
    stream_crc_ = crc32c::Extend(stream_crc_, payload.data(), payload.size());
    QJ_RETURN_IF_ERROR(out_->Append(head.data(), head.size()));
    return out_->Append(payload.data(), payload.size());
  }

  Appender* const out_;
  std::string buf_;
  uint32_t stream_crc_ = 0;
};

}  // namespace

// Reads and builds FsNamespace internals for the image code (friend of FsNamespace).
class NamespaceBuilder {
 public:
  static const StringPool& strings(const FsNamespace& ns) { return *ns.strings_; }
  static StringPool* strings(FsNamespace* ns) { return ns->strings_.get(); }
  static Inode* root(FsNamespace* ns) { return ns->root_; }
  static void SetCounters(FsNamespace* ns, int64_t next_inode, int64_t next_block,
                          int64_t gen_stamp, int64_t inode_count) {
    ns->next_inode_id_ = next_inode;
    ns->next_block_id_ = next_block;
    ns->last_gen_stamp_ = gen_stamp;
    ns->inode_count_ = inode_count;
  }
};

namespace {

Status WriteImageBody(const FsNamespace& ns, FrameWriter* w) {
  // Counters and the string table.
  const auto& pool = NamespaceBuilder::strings(ns).strings();
  std::unordered_map<const std::string*, uint64_t> index;
  std::string* b = w->buf();
  codec::PutU8(b, kTagCounters);
  codec::PutVarint(b, static_cast<uint64_t>(ns.next_inode_id()));
  codec::PutVarint(b, static_cast<uint64_t>(ns.next_block_id()));
  codec::PutVarint(b, static_cast<uint64_t>(ns.last_gen_stamp()));
  codec::PutVarint(b, static_cast<uint64_t>(ns.inode_count()));
  codec::PutVarint(b, pool.size());
  for (const std::string& s : pool) {
    index.emplace(&s, index.size());
    codec::PutU8(b, kTagString);
    codec::PutString(b, s);
    QJ_RETURN_IF_ERROR(w->MaybeFlush());
  }
  // Inodes in pre-order, children in name order.
  auto put_inode = [&](const Inode* n) {
    codec::PutU8(b, kTagInode);
    codec::PutU8(b, n->is_dir ? kKindDir : kKindFile);
    codec::PutVarint(b, static_cast<uint64_t>(n->id));
    codec::PutString(b, n->name);
    codec::PutVarint(b, n->permission);
    codec::PutVarint(b, index.at(n->owner));
    codec::PutVarint(b, index.at(n->group));
    codec::PutSigned(b, n->mtime);
    codec::PutSigned(b, n->atime);
    if (n->is_dir) {
      codec::PutVarint(b, n->NumChildren());
      return;
    }
    codec::PutVarint(b, static_cast<uint64_t>(n->replication));
    codec::PutVarint(b, static_cast<uint64_t>(n->block_size));
    codec::PutU8(b, n->under_construction ? 1 : 0);
    codec::PutVarint(b, n->blocks.size());
    for (const BlockInfo& blk : n->blocks) {
      codec::PutVarint(b, static_cast<uint64_t>(blk.id));
      codec::PutVarint(b, static_cast<uint64_t>(blk.num_bytes));
      codec::PutVarint(b, static_cast<uint64_t>(blk.gen_stamp));
    }
  };
  int64_t written = 0;
  put_inode(ns.root());
  ++written;
  QJ_RETURN_IF_ERROR(w->MaybeFlush());
  std::vector<std::pair<ChildMap::const_iterator, ChildMap::const_iterator>> stack;
  stack.emplace_back(ns.root()->children->begin(), ns.root()->children->end());
  while (!stack.empty()) {
    auto& top = stack.back();
    if (top.first == top.second) {
      stack.pop_back();
      continue;
    }
    const Inode* n = top.first->second;
    ++top.first;
    put_inode(n);
    ++written;
    QJ_RETURN_IF_ERROR(w->MaybeFlush());
    if (n->is_dir && n->NumChildren() > 0) {
      stack.emplace_back(n->children->begin(), n->children->end());
    }
  }
  CHECK_EQ(written, ns.inode_count()) << "namespace inode count is off";
  codec::PutU8(b, kTagEnd);
  codec::PutVarint(b, static_cast<uint64_t>(written));
  return w->Finish();
}

// ---- Reading. ----

// Reads the header and then one verified frame payload at a time.
class FrameReader {
 public:
  FrameReader(FileOps* fs, std::string path) : fs_(fs), path_(std::move(path)) {}

  Status Open(ImageInfo* info) {
    auto file = fs_->Open(path_, FileOps::Mode::kRead);
    if (!file.ok()) {
      if (file.status().IsNotFound()) return Status::NotFound("image " + path_ + " does not exist");
      return file.status();
    }
    file_ = std::move(*file);
    QJ_ASSIGN_OR_RETURN(file_size_, file_->Size());
    info->path = path_;
    info->file_size = static_cast<int64_t>(file_size_);
    char h[kHeaderSize];
    QJ_RETURN_IF_ERROR(ReadExact(h, kHeaderSize, "header"));
    if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) return Bad("header", 0, "bad magic");
    if (codec::DecodeFixed32(h + 36) != crc32c::Value(h, 36)) {
      return Bad("header", 0, "header checksum mismatch");
    }
    uint32_t version = codec::DecodeFixed32(h + 8);
    if (version > kImageVersion) {
      // Written by a newer release (after a downgrade): not damage, so never skipped in
      // favour of an older image, which would silently drop every edit in between.
      return Status::NotSupported("image " + path_ + " has format version " +
                                  std::to_string(version) + ", newer than this release reads (" +
                                  std::to_string(kImageVersion) +
                                  "); run the release that wrote it");
    }
    if (version != kImageVersion) {
      return Bad("header", 8, "unsupported image version " + std::to_string(version));
    }
    info->namespace_id = static_cast<int64_t>(codec::DecodeFixed64(h + 16));
    info->txid = static_cast<int64_t>(codec::DecodeFixed64(h + 24));
    if (info->txid < 0) return Bad("header", 24, "negative txid");
    return Status::OK();
  }

  // Next frame's payload into *payload; *end is set at the end frame (after verifying the
  // stream checksum and that nothing follows it).
  Status Next(std::string* payload, bool* end) {
    frame_offset_ = offset_;
    char h[kFrameHeaderSize];
    QJ_RETURN_IF_ERROR(ReadExact(h, kFrameHeaderSize, "frame header"));
    uint32_t len = codec::DecodeFixed32(h);
    uint32_t crc = codec::DecodeFixed32(h + 4);
    if (len == 0) {
      if (crc != stream_crc_) return Bad("trailer", frame_offset_, "stream checksum mismatch");
      if (offset_ != file_size_) {
        return Bad("trailer", offset_,
                   std::to_string(file_size_ - offset_) + " bytes after the end frame");
      }
      *end = true;
      return Status::OK();
    }
    if (len > kMaxFramePayload) {
      return Bad("frame", frame_offset_, "frame length " + std::to_string(len) + " too large");
    }
    // Checked against the file before anything is allocated: a damaged length must not
    // cost up to kMaxFramePayload bytes of memory on the way to "truncated".
    if (offset_ > file_size_ || len > file_size_ - offset_) {
      return Bad("frame", frame_offset_,
                 "frame length " + std::to_string(len) + " reaches beyond the end of the file (" +
                     std::to_string(offset_ > file_size_ ? 0 : file_size_ - offset_) +
                     " bytes left)");
    }
    payload->resize(len);
    QJ_RETURN_IF_ERROR(ReadExact(payload->data(), len, "frame payload"));
    if (crc32c::Extend(crc32c::Value(h, 4), payload->data(), len) != crc) {
      return Bad("frame", frame_offset_, "frame checksum mismatch");
    }
    stream_crc_ = crc32c::Extend(stream_crc_, payload->data(), len);
    *end = false;
    return Status::OK();
  }

  uint64_t frame_offset() const { return frame_offset_; }
  uint64_t offset() const { return offset_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t payload_offset() const { return frame_offset_ + kFrameHeaderSize; }

  Status Bad(const char* section, uint64_t offset, const std::string& why) const {
    return Status::Corruption("image " + path_ + ": " + section + " at offset " +
                              std::to_string(offset) + ": " + why);
  }

 private:
  Status ReadExact(char* dst, size_t n, const char* what) {
    QJ_RETURN_IF_ERROR(file_->ReadAt(offset_, n, &read_buf_));
    if (read_buf_.size() < n) {
      const uint64_t end = offset_ + read_buf_.size();
      return Bad(what, end, "truncated (file ends after " + std::to_string(end) + " bytes)");
    }
    std::memcpy(dst, read_buf_.data(), n);
    offset_ += n;
    return Status::OK();
  }

  FileOps* const fs_;
  const std::string path_;
  std::unique_ptr<SegmentFile> file_;
  std::string read_buf_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  uint64_t frame_offset_ = 0;
  uint32_t stream_crc_ = 0;
};

// Parses records out of verified frames and builds the namespace.
class ImageParser {
 public:
  ImageParser(FrameReader* frames, FsNamespace* ns, ProgressLog* progress)
      : frames_(frames), ns_(ns), progress_(progress) {}

  Status Run() {
    std::string payload;
    bool end = false;
    while (true) {
      QJ_RETURN_IF_ERROR(frames_->Next(&payload, &end));
      if (end) break;
      progress_->Update(frames_->offset());
      if (done_)
        return frames_->Bad("trailer", frames_->frame_offset(), "frame after the end record");
      codec::Reader r(payload);
      while (r.remaining() > 0) {
        record_offset_ = r.offset();
        Status s = Record(&r);
        if (!s.ok()) return s;
        if (r.failed()) return Bad(r.error());
      }
    }
    if (!done_) return frames_->Bad("trailer", frames_->frame_offset(), "no end record");
    return Status::OK();
  }

 private:
  Status Bad(const std::string& why) const {
    return frames_->Bad(section_, frames_->payload_offset() + record_offset_, why);
  }

  Status Record(codec::Reader* r) {
    uint8_t tag;
    if (!r->GetU8(&tag)) return Status::OK();
    if (done_) return Bad("record after the end record");
    if (!have_counters_) {
      if (tag != kTagCounters) return Bad("first record is not the counters");
      return Counters(r);
    }
    switch (tag) {
      case kTagString:
        return String(r);
      case kTagInode:
        return InodeRecord(r);
      case kTagEnd:
        return End(r);
      default:
        return Bad("unknown record tag " + std::to_string(tag));
    }
  }

  Status Counters(codec::Reader* r) {
    section_ = "counters";
    uint64_t next_inode, next_block, gen, count;
    if (!r->GetBounded(kRootInodeId + 1, kMaxInt64, &next_inode, "next inode id out of range") ||
        !r->GetBounded(1, kMaxInt64, &next_block, "next block id out of range") ||
        !r->GetBounded(0, kMaxInt64, &gen, "generation stamp out of range") ||
        !r->GetBounded(1, next_inode - kRootInodeId, &count, "inode count out of range") ||
        !r->GetBounded(1, uint64_t{1} << 32, &string_count_, "string count out of range")) {
      return Bad(r->error());
    }
    next_inode_ = static_cast<int64_t>(next_inode);
    next_block_ = static_cast<int64_t>(next_block);
    gen_stamp_ = static_cast<int64_t>(gen);
    inode_count_ = static_cast<int64_t>(count);
    have_counters_ = true;
    section_ = "strings";
    return Status::OK();
  }

  Status String(codec::Reader* r) {
    std::string_view s;
    if (!r->GetString(255, &s)) return Bad(r->error());
    if (strings_.size() >= string_count_) return Bad("more strings than counted");
    strings_.push_back(NamespaceBuilder::strings(ns_)->Intern(s));
    return Status::OK();
  }

  Status InodeRecord(codec::Reader* r) {
    section_ = "inodes";
    if (strings_.size() != string_count_) return Bad("fewer strings than counted");
    uint8_t kind;
    uint64_t id, perm, owner, group;
    std::string_view name;
    int64_t mtime, atime;
    if (!r->GetU8(&kind) ||
        !r->GetBounded(kRootInodeId, static_cast<uint64_t>(next_inode_) - 1, &id,
                       "inode id out of range") ||
        !r->GetString(kMaxComponentLength, &name) ||
        !r->GetBounded(0, 07777, &perm, "permission above 07777") ||
        !r->GetBounded(0, strings_.size() - 1, &owner, "owner index out of range") ||
        !r->GetBounded(0, strings_.size() - 1, &group, "group index out of range") ||
        !r->GetSigned(&mtime) || !r->GetSigned(&atime)) {
      return Bad(r->error());
    }
    if (kind != kKindDir && kind != kKindFile) return Bad("bad inode kind");
    if (seen_ >= inode_count_) return Bad("more inodes than counted");
    Inode* n;
    if (seen_ == 0) {
      // The root: already there in a fresh namespace; take the image's attributes.
      if (id != static_cast<uint64_t>(kRootInodeId) || kind != kKindDir || !name.empty()) {
        return Bad("the first inode is not the root directory");
      }
      n = NamespaceBuilder::root(ns_);
    } else {
      while (!stack_.empty() && stack_.back().second == 0) stack_.pop_back();
      if (stack_.empty()) return Bad("inode without a parent (tree structure broken)");
      Inode* parent = stack_.back().first;
      if (!IsValidComponent(name)) return Bad("invalid name");
      if (!parent->children->empty() && std::prev(parent->children->end())->first >= name) {
        return Bad("children not in strictly increasing name order");
      }
      n = new Inode;
      n->id = static_cast<int64_t>(id);
      n->name.assign(name.data(), name.size());
      n->is_dir = kind == kKindDir;
      if (n->is_dir) n->children = std::make_unique<ChildMap>();
      parent->AddChild(n);  // owned by the tree from here on (freed with it on error)
      --stack_.back().second;
    }
    ++seen_;
    n->permission = static_cast<uint16_t>(perm);
    n->owner = strings_[owner];
    n->group = strings_[group];
    n->mtime = mtime;
    n->atime = atime;
    if (n->is_dir) {
      uint64_t children;
      if (!r->GetBounded(0, static_cast<uint64_t>(inode_count_ - seen_), &children,
                         "child count above the inodes left")) {
        return Bad(r->error());
      }
      if (children > 0) stack_.emplace_back(n, children);
      return Status::OK();
    }
    return FileFields(r, n);
  }

  Status FileFields(codec::Reader* r, Inode* n) {
    uint64_t repl, bsize, nblocks;
    bool uc;
    if (!r->GetBounded(1, 32767, &repl, "replication out of range") ||
        !r->GetBounded(1, kMaxInt64, &bsize, "block size out of range") || !r->GetBool(&uc) ||
        !r->GetBounded(0, r->remaining() / 3, &nblocks, "block count above the bytes left")) {
      return Bad(r->error());
    }
    n->replication = static_cast<int16_t>(repl);
    n->block_size = static_cast<int64_t>(bsize);
    n->under_construction = uc;
    n->blocks.resize(nblocks);
    for (BlockInfo& b : n->blocks) {
      uint64_t bid, len, gs;
      if (!r->GetBounded(1, static_cast<uint64_t>(next_block_) - 1, &bid,
                         "block id not below the next block id") ||
          !r->GetBounded(0, kMaxInt64, &len, "block length out of range") ||
          !r->GetBounded(1, static_cast<uint64_t>(gen_stamp_), &gs,
                         "generation stamp above the last one")) {
        return Bad(r->error());
      }
      b.id = static_cast<int64_t>(bid);
      b.num_bytes = static_cast<int64_t>(len);
      b.gen_stamp = static_cast<int64_t>(gs);
    }
    return Status::OK();
  }

  Status End(codec::Reader* r) {
    section_ = "trailer";
    uint64_t count;
    if (!r->GetVarint(&count)) return Bad(r->error());
    if (static_cast<int64_t>(count) != inode_count_ || seen_ != inode_count_) {
      return Bad("inode count mismatch: counted " + std::to_string(inode_count_) + ", found " +
                 std::to_string(seen_) + ", end record says " + std::to_string(count));
    }
    for (const auto& e : stack_) {
      if (e.second != 0) return Bad("a directory is missing children");
    }
    if (r->remaining() != 0) return Bad("bytes after the end record");
    NamespaceBuilder::SetCounters(ns_, next_inode_, next_block_, gen_stamp_, inode_count_);
    done_ = true;
    return Status::OK();
  }

  FrameReader* frames_;
  FsNamespace* ns_;
  ProgressLog* progress_;
  const char* section_ = "counters";
  size_t record_offset_ = 0;
  bool have_counters_ = false;
  bool done_ = false;
  int64_t next_inode_ = 0, next_block_ = 0, gen_stamp_ = 0, inode_count_ = 0;
  uint64_t string_count_ = 0;
  std::vector<const std::string*> strings_;
  int64_t seen_ = 0;
  std::vector<std::pair<Inode*, uint64_t>> stack_;  // directory, children still to come
};

std::string JoinDir(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace

std::string ImageFileName(int64_t txid) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s%019lld", kImagePrefix, static_cast<long long>(txid));
  return buf;
}

bool ParseImageFileName(const std::string& name, int64_t* txid) {
  const size_t plen = sizeof(kImagePrefix) - 1;
  if (name.size() != plen + 19 || name.compare(0, plen, kImagePrefix) != 0) return false;
  int64_t v = 0;
  for (size_t i = plen; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
    v = v * 10 + (name[i] - '0');
  }
  *txid = v;
  return true;
}

Status SaveImage(const FsNamespace& ns, int64_t txid, const std::string& dir, FileOps* fs) {
  if (txid < 0)
    return Status::InvalidArgument("image txid must be >= 0, got " + std::to_string(txid));
  const std::string path = JoinDir(dir, ImageFileName(txid));
  const std::string tmp = path + ".tmp";
  ProgressLog progress("image " + path + ": saving", 0, RealClock::Get());
  auto created = fs->Open(tmp, FileOps::Mode::kCreate);
  if (!created.ok()) {
    // Creating fails with NotFound only when the directory is missing: a storage
    // problem to the caller, like any other failure to write the image.
    if (created.status().IsNotFound()) {
      return Status::IOError("create " + tmp + ": directory " + dir + " does not exist");
    }
    return created.status();
  }
  std::unique_ptr<SegmentFile> file = std::move(*created);
  // On any failure the temp file goes; whatever image was newest before stays newest.
  auto fail = [&](Status s) {
    file.reset();
    Status removed = fs->Unlink(tmp);
    if (!removed.ok() && !removed.IsNotFound()) {
      LOG(WARNING) << "image " << dir << ": removing " << tmp
                   << " after a failed save: " << removed;
    }
    return s;
  };
  Appender out(file.get());
  const std::string header = EncodeHeader(ns.options().namespace_id, txid);
  Status s = out.Append(header.data(), header.size());
  if (!s.ok()) return fail(s);
  FrameWriter writer(&out);
  s = WriteImageBody(ns, &writer);
  if (!s.ok()) return fail(s);
  s = file->FullSync();
  if (!s.ok()) return fail(s);
  const uint64_t size = out.offset();
  // Closing cannot lose data after a successful fsync, so the close is not checked.
  file.reset();
  s = fs->Rename(tmp, path);
  if (!s.ok()) return fail(s);
  QJ_RETURN_IF_ERROR(fs->SyncDir(dir));
  progress.Done(size, ", " + std::to_string(ns.inode_count()) + " inodes");
  return Status::OK();
}

Result<LoadedImage> LoadImage(const std::string& path, const NamespaceOptions& options,
                              FileOps* fs) {
  FrameReader frames(fs, path);
  ImageInfo info;
  QJ_RETURN_IF_ERROR(frames.Open(&info));
  if (options.namespace_id != 0 && info.namespace_id != options.namespace_id) {
    return Status::InvalidArgument("image " + path + " belongs to namespace " +
                                   std::to_string(info.namespace_id) + ", expected " +
                                   std::to_string(options.namespace_id));
  }
  NamespaceOptions opts = options;
  opts.namespace_id = info.namespace_id;
  LoadedImage out;
  out.ns = std::make_unique<FsNamespace>(opts);
  out.txid = info.txid;
  ProgressLog progress("image " + path + ": loading", frames.file_size(), RealClock::Get());
  ImageParser parser(&frames, out.ns.get(), &progress);
  QJ_RETURN_IF_ERROR(parser.Run());
  progress.Done(frames.file_size(), ", txid " + std::to_string(out.txid) + ", " +
                                        std::to_string(out.ns->inode_count()) + " inodes");
  return out;
}

Result<ImageInfo> VerifyImageFile(const std::string& path, FileOps* fs) {
  FrameReader frames(fs, path);
  ImageInfo info;
  QJ_RETURN_IF_ERROR(frames.Open(&info));
  std::string payload;
  bool end = false;
  bool first = true;
  while (true) {
    QJ_RETURN_IF_ERROR(frames.Next(&payload, &end));
    if (end) break;
    if (first) {
      codec::Reader r(payload);
      uint8_t tag;
      uint64_t skip, count;
      if (!r.GetU8(&tag) || tag != kTagCounters || !r.GetVarint(&skip) || !r.GetVarint(&skip) ||
          !r.GetVarint(&skip) || !r.GetVarint(&count) || count > kMaxInt64) {
        return frames.Bad("counters", frames.payload_offset(), "bad counters record");
      }
      info.inode_count = static_cast<int64_t>(count);
      first = false;
    }
  }
  if (first) return frames.Bad("counters", frames.frame_offset(), "no records");
  return info;
}

Result<std::vector<ImageInfo>> FindImages(const std::string& dir, FileOps* fs) {
  auto names = fs->ListDir(dir);
  if (!names.ok()) {
    if (names.status().IsNotFound()) {
      return Status::NotFound("image directory " + dir + " does not exist");
    }
    return names.status();
  }
  std::vector<ImageInfo> out;
  for (const std::string& name : *names) {
    ImageInfo info;
    if (!ParseImageFileName(name, &info.txid)) continue;
    info.path = JoinDir(dir, name);
    info.file_size = -1;
    if (auto file = fs->Open(info.path, FileOps::Mode::kRead); file.ok()) {
      if (auto size = (*file)->Size(); size.ok()) info.file_size = static_cast<int64_t>(*size);
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const ImageInfo& a, const ImageInfo& b) { return a.txid < b.txid; });
  return out;
}

Result<LoadedImage> LoadNewestValidImage(const std::string& dir, const NamespaceOptions& options,
                                         FileOps* fs) {
  QJ_ASSIGN_OR_RETURN(std::vector<ImageInfo> images, FindImages(dir, fs));
  if (images.empty()) return Status::NotFound("no image in " + dir);
  std::string failures;
  for (auto it = images.rbegin(); it != images.rend(); ++it) {
    Result<LoadedImage> loaded = LoadImage(it->path, options, fs);
    if (loaded.ok()) {
      if (!failures.empty()) {
        LOG(WARNING) << "image " << dir << ": using older image " << ImageFileName(it->txid)
                     << " because newer ones are corrupt";
      }
      return loaded;
    }
    if (!loaded.status().IsCorruption()) return loaded.status();
    LOG(WARNING) << "image " << dir << ": skipping corrupt image: " << loaded.status();
    failures += (failures.empty() ? "" : "; ") + loaded.status().message();
  }
  return Status::Corruption("no valid image in " + dir + ": " + failures);
}

Result<int64_t> PurgeImages(const std::string& dir, int retain_count, FileOps* fs) {
  if (retain_count < 1) return Status::InvalidArgument("image retain count must be >= 1");
  QJ_ASSIGN_OR_RETURN(std::vector<ImageInfo> images, FindImages(dir, fs));
  bool removed = false;
  const size_t keep = static_cast<size_t>(retain_count);
  for (size_t i = 0; i + keep < images.size(); ++i) {
    Status s = fs->Unlink(images[i].path);
    if (!s.ok() && !s.IsNotFound()) return s;
    LOG(INFO) << "image " << dir << ": purged " << ImageFileName(images[i].txid);
    removed = true;
  }
  if (removed) QJ_RETURN_IF_ERROR(fs->SyncDir(dir));
  if (images.empty()) return int64_t{-1};
  return images[images.size() > keep ? images.size() - keep : 0].txid;
}

Status RemoveLeftoverImageTemps(const std::string& dir, FileOps* fs) {
  bool removed = false;
  QJ_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  for (const std::string& name : names) {
    int64_t txid;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
        ParseImageFileName(name.substr(0, name.size() - 4), &txid)) {
      Status s = fs->Unlink(JoinDir(dir, name));
      if (!s.ok() && !s.IsNotFound()) return s;
      LOG(INFO) << "image " << dir << ": removed " << name << ", left by an interrupted save";
      removed = true;
    }
  }
  if (removed) QJ_RETURN_IF_ERROR(fs->SyncDir(dir));
  return Status::OK();
}

}  // namespace qj::nn
