// Typed namespace edits: the unit the namenode journals, one per mutation.
//
// An Edit is fully resolved: timestamps, new inode ids, block ids and generation stamps
// are all inside it, so FsNamespace::Apply is deterministic and the active, the standby
// and start-up replay reach identical namespaces from the same edits. Edits that touch an
// existing inode also carry its inode id, which Apply checks (a mismatch is divergence,
// reported as Corruption rather than silently applied to the wrong inode).
//
// Encoding: EncodeEdit gives (op, payload); `op` goes into the record's op field
// (common/edit_record.h) and `payload` into its payload. Payloads are versioned,
// little-endian, varint-based; the byte layout of each op is in namenode/FORMAT.md.
// A payload may also carry the RetryIds of the client call that made the edit (version 2),
// so that every namenode that applies the edit can answer a retry of that call from its
// retry cache; an edit without ids keeps the version-1 bytes, so old logs still load.
// DecodeEdit never crashes or over-reads on arbitrary bytes: anything that is not exactly
// one well-formed payload of that op (unknown op, unknown version, truncated, trailing
// bytes, bad bool, invalid path, out-of-range value) is Corruption naming the op and the
// payload offset.
//
// Value types; thread-compatible. Functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace qj::nn {

// Record op codes. Stable on disk: never renumber, only append.
enum class EditOp : uint16_t {
  kNoop = 1,  // no namespace change (first edit of a segment, tests)
  kMkdir = 2,
  kCreate = 3,
  kAddBlock = 4,
  kComplete = 5,
  kDelete = 6,
  kRename = 7,
  kSetPermission = 8,
  kSetOwner = 9,
  kSetTimes = 10,
  kSetReplication = 11,
};

// "MKDIR", "CREATE", ...; "UNKNOWN(<n>)" for codes outside the enum.
std::string EditOpName(uint16_t op);
inline std::string EditOpName(EditOp op) { return EditOpName(static_cast<uint16_t>(op)); }

struct BlockInfo {
  int64_t id = 0;
  int64_t num_bytes = 0;
  int64_t gen_stamp = 0;
  bool operator==(const BlockInfo& o) const {
    return id == o.id && num_bytes == o.num_bytes && gen_stamp == o.gen_stamp;
  }
};

struct NoopEdit {
  static constexpr EditOp kOp = EditOp::kNoop;
};

// mkdirs: the last new_inode_ids.size() components of `path` are created (each a
// directory, ids in path order); every earlier component must exist as a directory. The
// leaf gets `permission`, implicitly created parents get `parent_permission` (= permission
// | u+wx). All get owner/group, mtime = mtime_ms and atime 0 (as HDFS directories); the
// pre-existing parent of the first created directory gets mtime_ms as its mtime.
struct MkdirEdit {
  static constexpr EditOp kOp = EditOp::kMkdir;
  std::string path;
  std::vector<int64_t> new_inode_ids;  // non-empty
  std::string owner;
  std::string group;
  uint16_t permission = 0;
  uint16_t parent_permission = 0;
  int64_t mtime_ms = 0;
};

// create: a new, empty, under-construction file at `path` (its parent must exist as a
// directory). If replaced_inode_id != 0 the file with that id at `path` is removed first
// (overwrite). The parent's mtime becomes mtime_ms.
struct CreateEdit {
  static constexpr EditOp kOp = EditOp::kCreate;
  std::string path;
  int64_t inode_id = 0;
  std::string owner;
  std::string group;
  uint16_t permission = 0;
  int16_t replication = 0;
  int64_t block_size = 0;
  int64_t mtime_ms = 0;  // also the atime
  bool overwrite = false;
  int64_t replaced_inode_id = 0;  // 0: nothing was at `path`
};

// addBlock: on the under-construction file `path` (id inode_id): if it has blocks, its
// last block's length becomes previous_block_length; then `block` is appended.
// previous_block_length is -1 exactly when the file had no blocks.
struct AddBlockEdit {
  static constexpr EditOp kOp = EditOp::kAddBlock;
  std::string path;
  int64_t inode_id = 0;
  int64_t previous_block_length = -1;
  BlockInfo block;  // num_bytes == 0
};

// complete: the last block (if any) gets last_block_length (-1 exactly when there are no
// blocks); the file stops being under construction; mtime = atime = mtime_ms.
struct CompleteEdit {
  static constexpr EditOp kOp = EditOp::kComplete;
  std::string path;
  int64_t inode_id = 0;
  int64_t last_block_length = -1;
  int64_t mtime_ms = 0;
};

// delete: removes the inode at `path` and its whole subtree; the parent's mtime becomes
// mtime_ms. (The recursive flag is checked by Prepare; it is not needed to apply.)
struct DeleteEdit {
  static constexpr EditOp kOp = EditOp::kDelete;
  std::string path;
  int64_t inode_id = 0;
  int64_t mtime_ms = 0;
};

// rename: moves the inode at `src` to exactly `dst` (already resolved: when the client
// named an existing directory, dst is that directory + "/" + basename(src)). `dst` must
// not exist and its parent must be a directory. Both parents get mtime_ms.
struct RenameEdit {
  static constexpr EditOp kOp = EditOp::kRename;
  std::string src;
  std::string dst;
  int64_t inode_id = 0;
  int64_t mtime_ms = 0;
};

struct SetPermissionEdit {
  static constexpr EditOp kOp = EditOp::kSetPermission;
  std::string path;
  int64_t inode_id = 0;
  uint16_t permission = 0;  // 0..07777
};

// An empty owner or group leaves it unchanged (not both empty).
struct SetOwnerEdit {
  static constexpr EditOp kOp = EditOp::kSetOwner;
  std::string path;
  int64_t inode_id = 0;
  std::string owner;
  std::string group;
};

// -1 leaves a time unchanged.
struct SetTimesEdit {
  static constexpr EditOp kOp = EditOp::kSetTimes;
  std::string path;
  int64_t inode_id = 0;
  int64_t mtime_ms = -1;
  int64_t atime_ms = -1;
};

// Files only.
struct SetReplicationEdit {
  static constexpr EditOp kOp = EditOp::kSetReplication;
  std::string path;
  int64_t inode_id = 0;
  int16_t replication = 0;
};

using Edit =
    std::variant<NoopEdit, MkdirEdit, CreateEdit, AddBlockEdit, CompleteEdit, DeleteEdit,
                 RenameEdit, SetPermissionEdit, SetOwnerEdit, SetTimesEdit, SetReplicationEdit>;

EditOp OpOf(const Edit& edit);

// One line for logs: "MKDIR /a/b ids=[16386,16387] perm=0755 owner=alice:supergroup".
std::string DescribeEdit(const Edit& edit);

// The identity of one client call, for the retry cache (namenode/retry_cache.h): the
// client's random id (kClientIdBytes bytes) and a call id the client never reuses.
// An empty client_id means none: the call is not cached and its edit carries no ids.
struct RetryIds {
  static constexpr size_t kClientIdBytes = 16;
  std::string client_id;
  int64_t call_id = 0;  // >= 0
  bool empty() const { return client_id.empty(); }
  bool operator==(const RetryIds& o) const {
    return client_id == o.client_id && call_id == o.call_id;
  }
};

struct EncodedEdit {
  uint16_t op = 0;
  std::string payload;
};

// Never fails for an edit whose strings fit the limits Prepare enforces. With non-empty
// `ids` (client_id exactly kClientIdBytes, call_id >= 0) the payload carries them.
EncodedEdit EncodeEdit(const Edit& edit, const RetryIds& ids = RetryIds());

// Corruption on anything but exactly one well-formed payload for `op`. The call ids, if
// the payload has them, go to *ids when ids != nullptr (cleared when it has none).
Result<Edit> DecodeEdit(uint16_t op, std::string_view payload, RetryIds* ids = nullptr);

bool EditsEqual(const Edit& a, const Edit& b);

}  // namespace qj::nn
