// FsNamespace::Apply: the deterministic half of every mutation. Each Apply* checks the
// edit against the current state completely before it changes anything, so a failed
// Apply leaves the namespace as it was.
#include <utility>

#include "namenode/namespace.h"
#include "namenode/namespace_internal.h"

namespace qj::nn {
namespace {

// Resolves `path` to an existing inode without permission checks. On failure returns null
// and sets *why.
Inode* Lookup(Inode* root, std::string_view path, std::string* why) {
  std::vector<std::string_view> comps;
  if (!SplitPath(path, &comps).ok()) {
    *why = "invalid path";
    return nullptr;
  }
  Inode* cur = root;
  for (size_t i = 0; i < comps.size(); ++i) {
    if (!cur->is_dir) {
      *why = "'" + JoinPath(comps, i) + "' is not a directory";
      return nullptr;
    }
    Inode* child = cur->FindChild(comps[i]);
    if (child == nullptr) {
      *why = "'" + JoinPath(comps, i + 1) + "' does not exist";
      return nullptr;
    }
    cur = child;
  }
  return cur;
}

// Resolves the parent directory of `path` (which must not be the root); *name is the
// last component (a view into path).
Inode* LookupParent(Inode* root, std::string_view path, std::string_view* name, std::string* why) {
  std::vector<std::string_view> comps;
  if (!SplitPath(path, &comps).ok() || comps.empty()) {
    *why = "invalid path or the root";
    return nullptr;
  }
  *name = comps.back();
  Inode* parent = Lookup(root, JoinPath(comps, comps.size() - 1), why);
  if (parent != nullptr && !parent->is_dir) {
    *why = "parent '" + JoinPath(comps, comps.size() - 1) + "' is not a directory";
    return nullptr;
  }
  return parent;
}

// The existing inode at `path`, which must have id `id`.
Inode* LookupId(Inode* root, std::string_view path, int64_t id, std::string* why) {
  Inode* n = Lookup(root, path, why);
  if (n != nullptr && n->id != id) {
    *why = "inode id is " + std::to_string(n->id) + ", the edit expects " + std::to_string(id);
    return nullptr;
  }
  return n;
}

}  // namespace

Status FsNamespace::Apply(const Edit& edit, int64_t txid) {
  std::string why = std::visit(
      [this](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, NoopEdit>) {
          return "";
        } else if constexpr (std::is_same_v<T, MkdirEdit>) {
          return Impl::ApplyMkdir(this, e);
        } else if constexpr (std::is_same_v<T, CreateEdit>) {
          return Impl::ApplyCreate(this, e);
        } else if constexpr (std::is_same_v<T, AddBlockEdit>) {
          return Impl::ApplyAddBlock(this, e);
        } else if constexpr (std::is_same_v<T, CompleteEdit>) {
          return Impl::ApplyComplete(this, e);
        } else if constexpr (std::is_same_v<T, DeleteEdit>) {
          return Impl::ApplyDelete(this, e);
        } else if constexpr (std::is_same_v<T, RenameEdit>) {
          return Impl::ApplyRename(this, e);
        } else if constexpr (std::is_same_v<T, SetPermissionEdit>) {
          return Impl::ApplySetPermission(this, e);
        } else if constexpr (std::is_same_v<T, SetOwnerEdit>) {
          return Impl::ApplySetOwner(this, e);
        } else if constexpr (std::is_same_v<T, SetTimesEdit>) {
          return Impl::ApplySetTimes(this, e);
        } else {
          static_assert(std::is_same_v<T, SetReplicationEdit>);
          return Impl::ApplySetReplication(this, e);
        }
      },
      edit);
  if (why.empty()) return Status::OK();
  return Status::Corruption("cannot apply txid " + std::to_string(txid) + " " + DescribeEdit(edit) +
                            ": " + why);
}

std::string FsNamespace::Impl::ApplyMkdir(FsNamespace* ns, const MkdirEdit& e) {
  std::vector<std::string_view> comps;
  if (!SplitPath(e.path, &comps).ok()) return "invalid path";
  const size_t k = e.new_inode_ids.size();
  const size_t n = comps.size();
  if (k == 0 || k > n)
    return "creates " + std::to_string(k) + " of " + std::to_string(n) + " components";
  std::string why;
  Inode* parent = Lookup(ns->root_, JoinPath(comps, n - k), &why);
  if (parent == nullptr) return why;
  if (!parent->is_dir) return "'" + JoinPath(comps, n - k) + "' is not a directory";
  if (parent->FindChild(comps[n - k]) != nullptr) {
    return "'" + JoinPath(comps, n - k + 1) + "' already exists";
  }
  int64_t expect = ns->next_inode_id_;
  for (int64_t id : e.new_inode_ids) {
    if (id < expect) return "inode id " + std::to_string(id) + " was already used";
    expect = id + 1;
  }
  for (size_t j = 0; j < k; ++j) {
    const bool leaf = j + 1 == k;
    Inode* dir = NewInode(ns, e.new_inode_ids[j], comps[n - k + j], /*is_dir=*/true, e.owner,
                          e.group, leaf ? e.permission : e.parent_permission, e.mtime_ms);
    if (j == 0) parent->mtime = e.mtime_ms;
    parent->AddChild(dir);
    parent = dir;
  }
  ns->next_inode_id_ = e.new_inode_ids.back() + 1;
  ns->inode_count_ += static_cast<int64_t>(k);
  return "";
}

std::string FsNamespace::Impl::ApplyCreate(FsNamespace* ns, const CreateEdit& e) {
  std::string why;
  std::string_view name;
  Inode* parent = LookupParent(ns->root_, e.path, &name, &why);
  if (parent == nullptr) return why;
  Inode* existing = parent->FindChild(name);
  if (e.replaced_inode_id == 0 && existing != nullptr) return "the path already exists";
  if (e.replaced_inode_id != 0) {
    if (existing == nullptr) return "the file to overwrite does not exist";
    if (existing->is_dir || existing->id != e.replaced_inode_id) {
      return "the inode to overwrite is " + std::to_string(existing->id) +
             (existing->is_dir ? " (a directory)" : "") + ", the edit expects " +
             std::to_string(e.replaced_inode_id);
    }
  }
  if (e.inode_id < ns->next_inode_id_) {
    return "inode id " + std::to_string(e.inode_id) + " was already used";
  }
  if (existing != nullptr) {
    parent->RemoveChild(existing);
    ns->inode_count_ -= FreeTree(existing);
  }
  Inode* f =
      NewInode(ns, e.inode_id, name, /*is_dir=*/false, e.owner, e.group, e.permission, e.mtime_ms);
  f->atime = e.mtime_ms;
  f->replication = e.replication;
  f->block_size = e.block_size;
  f->under_construction = true;
  parent->AddChild(f);
  parent->mtime = e.mtime_ms;
  ns->next_inode_id_ = e.inode_id + 1;
  ns->inode_count_ += 1;
  return "";
}

std::string FsNamespace::Impl::ApplyAddBlock(FsNamespace* ns, const AddBlockEdit& e) {
  std::string why;
  Inode* f = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (f == nullptr) return why;
  if (f->is_dir) return "is a directory";
  if (!f->under_construction) return "the file is not under construction";
  if (f->blocks.empty() != (e.previous_block_length == -1)) {
    return "previous block length " + std::to_string(e.previous_block_length) +
           " does not fit a file with " + std::to_string(f->blocks.size()) + " blocks";
  }
  if (e.block.id < ns->next_block_id_) {
    return "block id " + std::to_string(e.block.id) + " was already used";
  }
  if (e.block.gen_stamp <= ns->last_gen_stamp_) {
    return "generation stamp " + std::to_string(e.block.gen_stamp) + " is not above " +
           std::to_string(ns->last_gen_stamp_);
  }
  if (!f->blocks.empty()) f->blocks.back().num_bytes = e.previous_block_length;
  f->blocks.push_back(e.block);
  ns->next_block_id_ = e.block.id + 1;
  ns->last_gen_stamp_ = e.block.gen_stamp;
  return "";
}

std::string FsNamespace::Impl::ApplyComplete(FsNamespace* ns, const CompleteEdit& e) {
  std::string why;
  Inode* f = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (f == nullptr) return why;
  if (f->is_dir) return "is a directory";
  if (!f->under_construction) return "the file is not under construction";
  if (f->blocks.empty() != (e.last_block_length == -1)) {
    return "last block length " + std::to_string(e.last_block_length) +
           " does not fit a file with " + std::to_string(f->blocks.size()) + " blocks";
  }
  if (!f->blocks.empty()) f->blocks.back().num_bytes = e.last_block_length;
  f->under_construction = false;
  f->mtime = e.mtime_ms;
  f->atime = e.mtime_ms;
  return "";
}

std::string FsNamespace::Impl::ApplyDelete(FsNamespace* ns, const DeleteEdit& e) {
  std::string why;
  Inode* n = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (n == nullptr) return why;
  if (n == ns->root_) return "cannot delete the root";
  Inode* parent = n->parent;
  parent->RemoveChild(n);
  parent->mtime = e.mtime_ms;
  ns->inode_count_ -= FreeTree(n);
  return "";
}

std::string FsNamespace::Impl::ApplyRename(FsNamespace* ns, const RenameEdit& e) {
  std::string why;
  Inode* n = LookupId(ns->root_, e.src, e.inode_id, &why);
  if (n == nullptr) return "source: " + why;
  if (n == ns->root_) return "cannot rename the root";
  std::string_view name;
  Inode* dst_parent = LookupParent(ns->root_, e.dst, &name, &why);
  if (dst_parent == nullptr) return "destination: " + why;
  if (dst_parent->FindChild(name) != nullptr) return "destination already exists";
  for (const Inode* a = dst_parent; a != nullptr; a = a->parent) {
    if (a == n) return "destination is inside the source";
  }
  Inode* src_parent = n->parent;
  src_parent->RemoveChild(n);  // before the name (the map's key) changes
  n->name.assign(name.data(), name.size());
  dst_parent->AddChild(n);
  src_parent->mtime = e.mtime_ms;
  dst_parent->mtime = e.mtime_ms;
  return "";
}

std::string FsNamespace::Impl::ApplySetPermission(FsNamespace* ns, const SetPermissionEdit& e) {
  std::string why;
  Inode* n = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (n == nullptr) return why;
  n->permission = e.permission;
  return "";
}

std::string FsNamespace::Impl::ApplySetOwner(FsNamespace* ns, const SetOwnerEdit& e) {
  std::string why;
  Inode* n = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (n == nullptr) return why;
  if (!e.owner.empty()) n->owner = ns->strings_->Intern(e.owner);
  if (!e.group.empty()) n->group = ns->strings_->Intern(e.group);
  return "";
}

std::string FsNamespace::Impl::ApplySetTimes(FsNamespace* ns, const SetTimesEdit& e) {
  std::string why;
  Inode* n = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (n == nullptr) return why;
  if (e.mtime_ms != -1) n->mtime = e.mtime_ms;
  if (e.atime_ms != -1) n->atime = e.atime_ms;
  return "";
}

std::string FsNamespace::Impl::ApplySetReplication(FsNamespace* ns, const SetReplicationEdit& e) {
  std::string why;
  Inode* n = LookupId(ns->root_, e.path, e.inode_id, &why);
  if (n == nullptr) return why;
  if (n->is_dir) return "is a directory";
  n->replication = e.replication;
  return "";
}

}  // namespace qj::nn
