// FsNamespace::Prepare*: validation, HDFS permission checks, and resolving each request
// into a fully determined Edit. Nothing here changes the namespace.
#include <utility>

#include "namenode/namespace.h"
#include "namenode/namespace_internal.h"

namespace qj::nn {
namespace {

using Prepared = FsResult<std::optional<Edit>>;

FsStatus NotFound(std::string_view op, std::string_view path) {
  return FsStatus(FsError::kNotFound,
                  std::string(op) + ": file does not exist: " + std::string(path));
}

FsStatus CheckPermissionBits(uint16_t perm) {
  if (perm > 07777) {
    return InvalidArgument("permission " + std::to_string(perm) + " is above 07777");
  }
  return FsStatus::OK();
}

FsStatus CheckReplication(const NamespaceOptions& o, int16_t replication) {
  if (replication < 1 || replication > o.max_replication) {
    return InvalidArgument("replication " + std::to_string(replication) + " is not in [1, " +
                           std::to_string(o.max_replication) + "]");
  }
  return FsStatus::OK();
}

// Fails unless the walk found the whole path.
FsStatus RequireExists(const PathWalk& w, const char* op) {
  if (!w.exists()) return NotFound(op, w.path);
  return FsStatus::OK();
}

}  // namespace

Prepared FsNamespace::PrepareMkdirs(const Caller& caller, std::string_view path,
                                    uint16_t permission, bool create_parent, int64_t now_ms) const {
  QJ_FS_RETURN_IF_ERROR(CheckPermissionBits(permission));
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  if (w.exists()) {
    if (w.target()->is_dir) return std::optional<Edit>();
    return FsStatus(FsError::kAlreadyExists,
                    "mkdirs: '" + NormalizePath(path) + "' exists and is not a directory");
  }
  const size_t existing = w.inodes.size() - 1;
  const size_t missing = w.comps.size() - existing;
  if (missing > 1 && !create_parent) {
    return FsStatus(FsError::kNotFound, "mkdirs: parent directory '" +
                                            w.Prefix(w.comps.size() - 1) + "' does not exist");
  }
  Inode* ancestor = w.deepest();
  QJ_FS_RETURN_IF_ERROR(ValidateUserName(caller.user, "user"));
  QJ_FS_RETURN_IF_ERROR(Impl::CheckAccess(access, ancestor, kWrite, w.Prefix(existing), "mkdirs"));
  MkdirEdit e;
  e.path = NormalizePath(path);
  e.new_inode_ids.reserve(missing);
  for (size_t i = 0; i < missing; ++i) {
    e.new_inode_ids.push_back(next_inode_id_ + static_cast<int64_t>(i));
  }
  e.owner = caller.user;
  e.group = *ancestor->group;
  e.permission = permission;
  e.parent_permission = static_cast<uint16_t>(permission | 0300);
  e.mtime_ms = now_ms;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareCreate(const Caller& caller, std::string_view path,
                                    uint16_t permission, bool overwrite, int16_t replication,
                                    int64_t block_size, int64_t now_ms) const {
  QJ_FS_RETURN_IF_ERROR(CheckPermissionBits(permission));
  QJ_FS_RETURN_IF_ERROR(CheckReplication(options_, replication));
  if (block_size <= 0 || block_size % options_.block_size_multiple != 0) {
    return InvalidArgument("block size " + std::to_string(block_size) +
                           " is not a positive multiple of " +
                           std::to_string(options_.block_size_multiple));
  }
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  if (w.comps.empty()) {
    return FsStatus(FsError::kIsADirectory, "create: '/' is a directory");
  }
  Inode* parent = w.parent();
  if (parent == nullptr) {
    return FsStatus(FsError::kNotFound, "create: parent directory '" +
                                            w.Prefix(w.comps.size() - 1) + "' does not exist");
  }
  const std::string norm = NormalizePath(path);
  int64_t replaced = 0;
  if (w.exists()) {
    const Inode* existing = w.target();
    if (existing->is_dir) {
      return FsStatus(FsError::kIsADirectory, "create: '" + norm + "' is a directory");
    }
    if (!overwrite) {
      return FsStatus(FsError::kAlreadyExists, "create: '" + norm + "' already exists");
    }
    QJ_FS_RETURN_IF_ERROR(Impl::CheckAccess(access, existing, kWrite, norm, "create"));
    replaced = existing->id;
  }
  QJ_FS_RETURN_IF_ERROR(ValidateUserName(caller.user, "user"));
  QJ_FS_RETURN_IF_ERROR(
      Impl::CheckAccess(access, parent, kWrite, w.Prefix(w.comps.size() - 1), "create"));
  CreateEdit e;
  e.path = norm;
  e.inode_id = next_inode_id_;
  e.owner = caller.user;
  e.group = *parent->group;
  e.permission = permission;
  e.replication = replication;
  e.block_size = block_size;
  e.mtime_ms = now_ms;
  e.overwrite = overwrite;
  e.replaced_inode_id = replaced;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareAddBlock(const Caller& caller, std::string_view path,
                                      int64_t previous_block_length) const {
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "addBlock"));
  const Inode* f = w.target();
  const std::string norm = NormalizePath(path);
  if (f->is_dir) return FsStatus(FsError::kIsADirectory, "addBlock: '" + norm + "' is a directory");
  // HDFS checks the lease holder here; the file's owner stands in for it.
  QJ_FS_RETURN_IF_ERROR(Impl::CheckOwner(access, f, norm, "addBlock"));
  if (!f->under_construction) {
    return InvalidArgument("addBlock: '" + norm + "' is not under construction");
  }
  AddBlockEdit e;
  e.path = norm;
  e.inode_id = f->id;
  if (f->blocks.empty()) {
    if (previous_block_length > 0) {
      return InvalidArgument("addBlock: '" + norm + "' has no block, previous block length " +
                             std::to_string(previous_block_length) + " must be <= 0");
    }
    e.previous_block_length = -1;
  } else {
    if (previous_block_length < 0 || previous_block_length > f->block_size) {
      return InvalidArgument("addBlock: previous block length " +
                             std::to_string(previous_block_length) + " is not in [0, " +
                             std::to_string(f->block_size) + "] for '" + norm + "'");
    }
    e.previous_block_length = previous_block_length;
  }
  if (static_cast<int64_t>(f->blocks.size()) >= options_.max_blocks_per_file) {
    return InvalidArgument("addBlock: '" + norm + "' already has " +
                           std::to_string(f->blocks.size()) + " blocks (the limit)");
  }
  e.block.id = next_block_id_;
  e.block.num_bytes = 0;
  e.block.gen_stamp = last_gen_stamp_ + 1;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareComplete(const Caller& caller, std::string_view path,
                                      int64_t last_block_length, int64_t now_ms) const {
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "complete"));
  const Inode* f = w.target();
  const std::string norm = NormalizePath(path);
  if (f->is_dir) return FsStatus(FsError::kIsADirectory, "complete: '" + norm + "' is a directory");
  QJ_FS_RETURN_IF_ERROR(Impl::CheckOwner(access, f, norm, "complete"));
  if (f->blocks.empty()) {
    if (last_block_length > 0) {
      return InvalidArgument("complete: '" + norm + "' has no block, last block length " +
                             std::to_string(last_block_length) + " must be <= 0");
    }
  } else if (last_block_length < 0 || last_block_length > f->block_size) {
    return InvalidArgument("complete: last block length " + std::to_string(last_block_length) +
                           " is not in [0, " + std::to_string(f->block_size) + "] for '" + norm +
                           "'");
  }
  if (!f->under_construction) {
    // A retried complete (e.g. after a failover) succeeds if it asks for the same end.
    const bool same = f->blocks.empty() || f->blocks.back().num_bytes == last_block_length;
    if (same) return std::optional<Edit>();
    return InvalidArgument("complete: '" + norm + "' is not under construction");
  }
  CompleteEdit e;
  e.path = norm;
  e.inode_id = f->id;
  e.last_block_length = f->blocks.empty() ? -1 : last_block_length;
  e.mtime_ms = now_ms;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareDelete(const Caller& caller, std::string_view path, bool recursive,
                                    int64_t now_ms) const {
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  if (w.comps.empty()) return InvalidArgument("delete: the root directory cannot be deleted");
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "delete"));
  const Inode* target = w.target();
  const Inode* parent = w.parent();
  const std::string norm = NormalizePath(path);
  QJ_FS_RETURN_IF_ERROR(
      Impl::CheckAccess(access, parent, kWrite, w.Prefix(w.comps.size() - 1), "delete"));
  QJ_FS_RETURN_IF_ERROR(Impl::CheckSticky(access, parent, target, norm, "delete"));
  if (target->is_dir && target->NumChildren() > 0) {
    if (!recursive) {
      return FsStatus(FsError::kDirectoryNotEmpty,
                      "delete: directory '" + norm + "' is not empty (use recursive)");
    }
    QJ_FS_RETURN_IF_ERROR(Impl::CheckSubtree(access, target, kRead | kWrite | kExecute,
                                             /*skip_empty=*/true, norm, "delete"));
  }
  DeleteEdit e;
  e.path = norm;
  e.inode_id = target->id;
  e.mtime_ms = now_ms;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareRename(const Caller& caller, std::string_view src,
                                    std::string_view dst, int64_t now_ms) const {
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk ws;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, src, access, &ws));
  if (ws.comps.empty()) return InvalidArgument("rename: the root directory cannot be renamed");
  QJ_FS_RETURN_IF_ERROR(RequireExists(ws, "rename"));
  PathWalk wd;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, dst, access, &wd));
  const Inode* node = ws.target();
  const Inode* src_parent = ws.parent();
  const std::string src_norm = NormalizePath(src);
  const std::string_view name = ws.comps.back();

  // 1. Resolve the final destination: into an existing directory, or exactly dst.
  const Inode* dst_parent = nullptr;
  std::string dst_final;
  if (wd.exists()) {
    const Inode* d = wd.target();
    // A file onto itself is a no-op; a directory onto itself means "into itself" (HDFS).
    if (d == node && !d->is_dir) return std::optional<Edit>();
    if (!d->is_dir) {
      return FsStatus(FsError::kAlreadyExists,
                      "rename: destination '" + NormalizePath(dst) + "' already exists");
    }
    QJ_FS_RETURN_IF_ERROR(Impl::CheckAccess(access, d, kExecute, NormalizePath(dst), "rename"));
    dst_parent = d;
    dst_final = ChildPath(NormalizePath(dst), name);
    const Inode* existing = d->FindChild(name);
    if (existing == node) return std::optional<Edit>();  // already there
    if (existing != nullptr) {
      return FsStatus(FsError::kAlreadyExists,
                      "rename: destination '" + dst_final + "' already exists");
    }
    QJ_FS_RETURN_IF_ERROR(ValidatePath(dst_final));
  } else {
    dst_parent = wd.parent();
    if (dst_parent == nullptr) {
      return FsStatus(FsError::kNotFound, "rename: destination parent '" +
                                              wd.Prefix(wd.comps.size() - 1) + "' does not exist");
    }
    dst_final = NormalizePath(dst);
  }
  // 2. A directory cannot move into its own subtree.
  for (const Inode* a = dst_parent; a != nullptr; a = a->parent) {
    if (a == node) {
      return InvalidArgument("rename: cannot move '" + src_norm + "' into its own subtree ('" +
                             dst_final + "')");
    }
  }
  // 3. Permissions: w on both parents, sticky bit on the source's.
  QJ_FS_RETURN_IF_ERROR(
      Impl::CheckAccess(access, src_parent, kWrite, ws.Prefix(ws.comps.size() - 1), "rename"));
  QJ_FS_RETURN_IF_ERROR(Impl::CheckSticky(access, src_parent, node, src_norm, "rename"));
  QJ_FS_RETURN_IF_ERROR(
      Impl::CheckAccess(access, dst_parent, kWrite, InodePath(dst_parent), "rename"));
  RenameEdit e;
  e.src = src_norm;
  e.dst = std::move(dst_final);
  e.inode_id = node->id;
  e.mtime_ms = now_ms;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareSetPermission(const Caller& caller, std::string_view path,
                                           uint16_t permission) const {
  QJ_FS_RETURN_IF_ERROR(CheckPermissionBits(permission));
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "setPermission"));
  const std::string norm = NormalizePath(path);
  QJ_FS_RETURN_IF_ERROR(Impl::CheckOwner(access, w.target(), norm, "setPermission"));
  SetPermissionEdit e;
  e.path = norm;
  e.inode_id = w.target()->id;
  e.permission = permission;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareSetOwner(const Caller& caller, std::string_view path,
                                      std::string_view owner, std::string_view group) const {
  if (owner.empty() && group.empty()) {
    return InvalidArgument("setOwner: neither owner nor group given");
  }
  if (!owner.empty()) QJ_FS_RETURN_IF_ERROR(ValidateUserName(owner, "owner"));
  if (!group.empty()) QJ_FS_RETURN_IF_ERROR(ValidateUserName(group, "group"));
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "setOwner"));
  const std::string norm = NormalizePath(path);
  QJ_FS_RETURN_IF_ERROR(Impl::CheckOwner(access, w.target(), norm, "setOwner"));
  if (access.check) {
    if (!owner.empty() && owner != caller.user) {
      return FsStatus(FsError::kPermissionDenied,
                      "setOwner: permission denied: user=" + caller.user +
                          " is not a superuser (only the superuser can change the owner)");
    }
    if (!group.empty()) {
      bool member = false;
      for (const std::string& g : caller.groups) member = member || g == group;
      if (!member) {
        return FsStatus(FsError::kPermissionDenied,
                        "setOwner: permission denied: user=" + caller.user +
                            " does not belong to " + std::string(group));
      }
    }
  }
  SetOwnerEdit e;
  e.path = norm;
  e.inode_id = w.target()->id;
  e.owner = std::string(owner);
  e.group = std::string(group);
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareSetTimes(const Caller& caller, std::string_view path, int64_t mtime_ms,
                                      int64_t atime_ms) const {
  if (mtime_ms < -1 || atime_ms < -1) {
    return InvalidArgument("setTimes: times must be >= 0, or -1 for unchanged");
  }
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "setTimes"));
  const std::string norm = NormalizePath(path);
  QJ_FS_RETURN_IF_ERROR(Impl::CheckAccess(access, w.target(), kWrite, norm, "setTimes"));
  if (mtime_ms == -1 && atime_ms == -1) return std::optional<Edit>();
  SetTimesEdit e;
  e.path = norm;
  e.inode_id = w.target()->id;
  e.mtime_ms = mtime_ms;
  e.atime_ms = atime_ms;
  return std::optional<Edit>(std::move(e));
}

Prepared FsNamespace::PrepareSetReplication(const Caller& caller, std::string_view path,
                                            int16_t replication) const {
  QJ_FS_RETURN_IF_ERROR(CheckReplication(options_, replication));
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  QJ_FS_RETURN_IF_ERROR(RequireExists(w, "setReplication"));
  const std::string norm = NormalizePath(path);
  if (w.target()->is_dir) {
    return FsStatus(FsError::kIsADirectory, "setReplication: '" + norm + "' is a directory");
  }
  QJ_FS_RETURN_IF_ERROR(Impl::CheckAccess(access, w.target(), kWrite, norm, "setReplication"));
  SetReplicationEdit e;
  e.path = norm;
  e.inode_id = w.target()->id;
  e.replication = replication;
  return std::optional<Edit>(std::move(e));
}

}  // namespace qj::nn
