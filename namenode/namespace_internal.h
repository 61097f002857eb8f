// Internals shared by namespace.cc, namespace_prepare.cc and namespace_apply.cc: path
// resolution and HDFS permission checks. Not for use outside namenode/.
// Thread-compatible, like FsNamespace.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "namenode/inode.h"
#include "namenode/namespace.h"
#include "namenode/path_util.h"

namespace qj::nn {

inline constexpr uint16_t kRead = 4;
inline constexpr uint16_t kWrite = 2;
inline constexpr uint16_t kExecute = 1;
inline constexpr uint16_t kStickyBit = 01000;
inline constexpr size_t kMaxUserNameLength = 255;

// A resolved path: the components and the inodes of its existing prefix.
struct PathWalk {
  std::string_view path;
  std::vector<std::string_view> comps;
  // inodes[0] is the root, inodes[i] the inode named by comps[i - 1]. Holds the longest
  // existing prefix: size() == comps.size() + 1 when the whole path exists.
  std::vector<Inode*> inodes;

  bool exists() const { return inodes.size() == comps.size() + 1; }
  Inode* target() const { return exists() ? inodes.back() : nullptr; }
  // The deepest existing inode (always a directory unless exists()).
  Inode* deepest() const { return inodes.back(); }
  // The parent directory of the target when it exists (the path has >= 1 component).
  Inode* parent() const {
    return inodes.size() >= comps.size() && !comps.empty() ? inodes[comps.size() - 1] : nullptr;
  }
  std::string Prefix(size_t n) const { return JoinPath(comps, n); }
};

// Who asks, resolved once per operation. `check` is false for the superuser, for
// permissions_enabled == false and for internal calls (caller == nullptr).
struct Access {
  const Caller* caller = nullptr;
  bool check = false;
};

class FsNamespace::Impl {
 public:
  static Access AccessFor(const FsNamespace& ns, const Caller* caller);

  // Validates the path and walks it from the root, checking x on every directory it
  // descends through (when access.check). Stops at the first missing component. A file in
  // the middle of the path is kNotADirectory.
  static FsStatus Walk(const FsNamespace& ns, std::string_view path, const Access& access,
                       PathWalk* walk);

  // HDFS's user/group/other selection, then `mode` (rwx bits) must all be granted.
  static bool Permits(const Access& access, const Inode* inode, uint16_t mode);
  static FsStatus CheckAccess(const Access& access, const Inode* inode, uint16_t mode,
                              std::string_view path, const char* op);
  static FsStatus CheckOwner(const Access& access, const Inode* inode, std::string_view path,
                             const char* op);
  // The sticky-bit rule for deleting/renaming `inode` out of `parent`.
  static FsStatus CheckSticky(const Access& access, const Inode* parent, const Inode* inode,
                              std::string_view path, const char* op);
  // `mode` on every directory in the subtree (skip_empty: ignore empty directories).
  static FsStatus CheckSubtree(const Access& access, const Inode* root, uint16_t mode,
                               bool skip_empty, std::string_view path, const char* op);

  static FileInfo MakeInfo(const Inode* inode, std::string path);
  static Inode* NewInode(FsNamespace* ns, int64_t id, std::string_view name, bool is_dir,
                         std::string_view owner, std::string_view group, uint16_t perm,
                         int64_t mtime);

  // Apply bodies (namespace_apply.cc). Return a reason on failure, "" on success.
  static std::string ApplyMkdir(FsNamespace* ns, const MkdirEdit& e);
  static std::string ApplyCreate(FsNamespace* ns, const CreateEdit& e);
  static std::string ApplyAddBlock(FsNamespace* ns, const AddBlockEdit& e);
  static std::string ApplyComplete(FsNamespace* ns, const CompleteEdit& e);
  static std::string ApplyDelete(FsNamespace* ns, const DeleteEdit& e);
  static std::string ApplyRename(FsNamespace* ns, const RenameEdit& e);
  static std::string ApplySetPermission(FsNamespace* ns, const SetPermissionEdit& e);
  static std::string ApplySetOwner(FsNamespace* ns, const SetOwnerEdit& e);
  static std::string ApplySetTimes(FsNamespace* ns, const SetTimesEdit& e);
  static std::string ApplySetReplication(FsNamespace* ns, const SetReplicationEdit& e);
};

FsStatus InvalidArgument(std::string msg);
// kInvalidArgument unless `name` is a usable user or group name (1..255 bytes, no NUL).
FsStatus ValidateUserName(std::string_view name, const char* what);

}  // namespace qj::nn
