// FsNamespace: the namenode's in-memory namespace (HDFS's FSDirectory), with HDFS
// permission checks, and the Prepare/Apply split that makes it journal-able.
//
// The model. The server serializes mutations under one lock:
//   1. PrepareX(caller, args..., now_ms) validates the request against the current state
//      and the caller and returns a fully resolved Edit (edit_ops.h): new inode ids, block
//      ids and generation stamps are taken from the namespace's counters, timestamps from
//      now_ms. Prepare never changes the namespace. It returns std::nullopt (and no error)
//      when the request succeeds without a change: mkdirs of an existing directory,
//      rename of a file onto itself, complete of an already complete file whose last
//      block length matches.
//   2. Apply(edit) applies it (and advances the counters past every id in the edit).
//      Apply must succeed on every edit Prepare produced against the same state; it is
//      also what the standby and start-up replay call on edits read from the journal.
//      Applying the same edits to equal namespaces yields equal namespaces (Digest()).
//
// Read operations (GetFileInfo, ListStatus, GetContentSummary) are const and do not
// change anything (no atime updates).
//
// Permission checks follow HDFS's FSPermissionChecker, with `options.permissions_enabled`
// (default true). The caller is trusted. The superuser (options.superuser, or any member
// of options.supergroup) bypasses every check. For others:
//   - traverse: x on every existing ancestor directory of the target, checked top-down
//     before descending (so a denied directory hides what is below it);
//   - mkdirs, create: w on the deepest existing ancestor; create with overwrite of an
//     existing file also needs w on that file;
//   - delete: w on the parent (+ sticky bit rule) and, for a non-empty directory, r+w+x on
//     every directory of the subtree;
//   - rename: w on the source's parent (+ sticky bit rule) and w on the destination's
//     deepest existing ancestor;
//   - sticky bit (01000) on a parent: only the parent's owner or the inode's owner may
//     delete or rename the inode;
//   - setPermission: owner; setOwner: owner, changing the owner needs the superuser, a
//     new group must be one of the caller's groups; setTimes, setReplication: w on the
//     inode;
//   - addBlock, complete: the file's owner (we have no HDFS lease holder, the owner
//     stands in for it);
//   - listStatus of a directory: r+x on it; getContentSummary: r+x on every directory of
//     the subtree; getFileInfo: traverse only.
//
// New inodes: owner = caller's user, group = the parent directory's group (as HDFS).
// Permissions are taken as given (the client applies its umask, see ApplyUmask); parents
// created by mkdirs get the requested bits plus u+wx.
//
// Errors: every Prepare/read failure is an FsStatus (fs_status.h) with a message naming
// the path. Apply returns Corruption naming txid, op and path.
//
// Thread-compatible: the server's lock must cover every call (const reads may run
// concurrently with each other, but not with Apply).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "namenode/edit_ops.h"
#include "namenode/fs_status.h"

namespace qj::nn {

struct Inode;            // namenode/inode.h (internal)
class StringPool;        // namenode/inode.h (internal)
class NamespaceBuilder;  // namenode/image.cc (image loading)

struct NamespaceOptions {
  // Stored in images; LoadImage checks it when nonzero.
  int64_t namespace_id = 0;
  std::string superuser = "hdfs";
  std::string supergroup = "supergroup";
  bool permissions_enabled = true;
  int16_t max_replication = 512;
  // Block sizes must be a positive multiple of this (HDFS's bytes-per-checksum).
  int64_t block_size_multiple = 512;
  // addBlock fails (kInvalidArgument) on a file that already has this many blocks.
  int64_t max_blocks_per_file = 100000;
  // A fresh namespace's root directory: owned by superuser:supergroup with these bits.
  uint16_t root_permission = 0755;
};

// InvalidArgument unless the options can be stored in edits and images: superuser and
// supergroup 1..255 bytes without NUL, root_permission <= 07777, max_replication >= 1,
// block_size_multiple >= 1, max_blocks_per_file >= 1. Call it on configured options
// before building a namespace (the constructor only DCHECKs them).
Status ValidateNamespaceOptions(const NamespaceOptions& options);

struct Caller {
  std::string user;
  std::vector<std::string> groups;
};

struct FileInfo {
  std::string path;  // full path
  bool is_dir = false;
  int64_t length = 0;       // sum of block lengths; 0 for directories
  int16_t replication = 0;  // 0 for directories
  int64_t block_size = 0;   // 0 for directories
  int64_t mtime_ms = 0;
  int64_t atime_ms = 0;
  uint16_t permission = 0;
  std::string owner;
  std::string group;
  int64_t children_num = 0;  // directories: number of direct children
  int64_t file_id = 0;       // inode id
  std::vector<BlockInfo> blocks;
  bool under_construction = false;
};

struct DirectoryListing {
  std::vector<FileInfo> entries;  // sorted by name (byte order)
  int64_t remaining_entries = 0;  // after the last returned entry
};

struct ContentSummary {
  int64_t length = 0;
  int64_t file_count = 0;
  int64_t directory_count = 0;  // includes the directory itself
  int64_t space_consumed = 0;   // sum of length x replication
};

// HDFS's umask semantics: perm & ~umask (e.g. ApplyUmask(0777, 022) == 0755).
inline uint16_t ApplyUmask(uint16_t perm, uint16_t umask) {
  return static_cast<uint16_t>(perm & ~umask & 07777);
}

// Ids handed out by a fresh namespace (as HDFS: root inode 16385, blocks from 2^30).
inline constexpr int64_t kRootInodeId = 16385;
inline constexpr int64_t kFirstBlockId = int64_t{1} << 30;
inline constexpr int64_t kFirstGenerationStamp = 1001;

class FsNamespace {
 public:
  // A fresh namespace: just the root directory (mtime 0).
  explicit FsNamespace(NamespaceOptions options);
  ~FsNamespace();
  FsNamespace(const FsNamespace&) = delete;
  FsNamespace& operator=(const FsNamespace&) = delete;

  const NamespaceOptions& options() const { return options_; }
  bool IsSuperuser(const Caller& caller) const;

  // ---- Mutations, step 1: validate and resolve (no change to the namespace). ----
  // `permission` must be <= 07777 (else kInvalidArgument).

  // Without create_parent a missing parent is kNotFound. An existing directory at path
  // succeeds with nullopt; an existing file (at path or as an ancestor) is
  // kAlreadyExists / kNotADirectory.
  FsResult<std::optional<Edit>> PrepareMkdirs(const Caller& caller, std::string_view path,
                                              uint16_t permission, bool create_parent,
                                              int64_t now_ms) const;
  // The parent must exist (kNotFound) and be a directory (kNotADirectory). An existing
  // directory at path: kIsADirectory; an existing file without overwrite: kAlreadyExists.
  // replication in [1, max_replication], block_size a positive multiple of
  // block_size_multiple, else kInvalidArgument.
  FsResult<std::optional<Edit>> PrepareCreate(const Caller& caller, std::string_view path,
                                              uint16_t permission, bool overwrite,
                                              int16_t replication, int64_t block_size,
                                              int64_t now_ms) const;
  // Allocates the next block of an under-construction file. If the file has blocks,
  // previous_block_length (0..block_size) becomes its last block's length; if it has none,
  // previous_block_length must be <= 0. Not under construction: kInvalidArgument.
  FsResult<std::optional<Edit>> PrepareAddBlock(const Caller& caller, std::string_view path,
                                                int64_t previous_block_length) const;
  // Closes an under-construction file; last_block_length as for addBlock.
  FsResult<std::optional<Edit>> PrepareComplete(const Caller& caller, std::string_view path,
                                                int64_t last_block_length, int64_t now_ms) const;
  // Missing: kNotFound; the root: kInvalidArgument; a non-empty directory without
  // recursive: kDirectoryNotEmpty.
  FsResult<std::optional<Edit>> PrepareDelete(const Caller& caller, std::string_view path,
                                              bool recursive, int64_t now_ms) const;
  // HDFS rename: if dst is an existing directory the source moves inside it (as
  // dst/basename(src)); an existing file at the final destination: kAlreadyExists; a
  // missing dst parent: kNotFound; moving a directory into its own subtree or renaming
  // the root: kInvalidArgument; a file renamed onto itself: nullopt.
  FsResult<std::optional<Edit>> PrepareRename(const Caller& caller, std::string_view src,
                                              std::string_view dst, int64_t now_ms) const;
  FsResult<std::optional<Edit>> PrepareSetPermission(const Caller& caller, std::string_view path,
                                                     uint16_t permission) const;
  // Empty owner / group = unchanged; both empty: kInvalidArgument.
  FsResult<std::optional<Edit>> PrepareSetOwner(const Caller& caller, std::string_view path,
                                                std::string_view owner,
                                                std::string_view group) const;
  // -1 = unchanged; other negative values: kInvalidArgument.
  FsResult<std::optional<Edit>> PrepareSetTimes(const Caller& caller, std::string_view path,
                                                int64_t mtime_ms, int64_t atime_ms) const;
  // Files only (a directory: kIsADirectory).
  FsResult<std::optional<Edit>> PrepareSetReplication(const Caller& caller, std::string_view path,
                                                      int16_t replication) const;

  // ---- Mutations, step 2. ----
  // Applies an edit. On failure returns Corruption "cannot apply txid <txid> <DescribeEdit>:
  // <why>" and the namespace is unchanged (every check happens before the first change).
  // `txid` is only used in messages (-1: unknown). Cost: one path lookup per path in the
  // edit, plus the subtree size for DELETE and an overwritten file for CREATE.
  Status Apply(const Edit& edit, int64_t txid = -1);

  // ---- Reads. ----
  FsResult<FileInfo> GetFileInfo(const Caller& caller, std::string_view path) const;
  // Directory: entries with name > start_after (byte order), at most `limit` (<= 0 means
  // 1000). A file: a listing of just that file. Cost O(log n + limit) per page.
  FsResult<DirectoryListing> ListStatus(const Caller& caller, std::string_view path,
                                        std::string_view start_after, int32_t limit) const;
  FsResult<ContentSummary> GetContentSummary(const Caller& caller, std::string_view path) const;
  // GetFileInfo without permission checks, for the server after a mutation it already
  // authorized (e.g. to answer create with the new FileStatus).
  FsResult<FileInfo> StatPath(std::string_view path) const;

  // ---- Counters and checks. ----
  int64_t next_inode_id() const { return next_inode_id_; }
  int64_t next_block_id() const { return next_block_id_; }
  int64_t last_gen_stamp() const { return last_gen_stamp_; }
  int64_t inode_count() const { return inode_count_; }  // including the root

  // A 64-bit digest of the whole state: every inode (path, all attributes, blocks) in
  // tree order and the three counters. Equal namespaces have equal digests. O(inodes).
  uint64_t Digest() const;

  // Walks the tree; for image writing and comparisons (inode.h). Never null.
  const Inode* root() const { return root_; }

 private:
  friend class NamespaceBuilder;
  class Impl;  // the operation bodies (namespace.cc); no state of its own

  NamespaceOptions options_;
  Inode* root_ = nullptr;  // owned; the tree is freed by ~FsNamespace
  int64_t next_inode_id_ = kRootInodeId + 1;
  int64_t next_block_id_ = kFirstBlockId;
  int64_t last_gen_stamp_ = kFirstGenerationStamp - 1;
  int64_t inode_count_ = 1;
  // Interned owner/group names; inodes point into it. Never shrinks.
  std::unique_ptr<StringPool> strings_;
};

// True if a and b hold the same tree, attributes and counters. On false, *why (if not
// null) names the first difference ("/a/b: mtime 5 vs 6").
bool NamespaceEquals(const FsNamespace& a, const FsNamespace& b, std::string* why);

}  // namespace qj::nn
