#include "namenode/namespace.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "namenode/namespace_internal.h"

namespace qj::nn {

// ---- Tree helpers (inode.h). ----

int64_t FreeTree(Inode* root) {
  int64_t freed = 0;
  std::vector<Inode*> stack{root};
  while (!stack.empty()) {
    Inode* n = stack.back();
    stack.pop_back();
    if (n->children) {
      for (auto& kv : *n->children) stack.push_back(kv.second);
    }
    delete n;
    ++freed;
  }
  return freed;
}

int64_t CountSubtree(const Inode* root) {
  int64_t count = 0;
  std::vector<const Inode*> stack{root};
  while (!stack.empty()) {
    const Inode* n = stack.back();
    stack.pop_back();
    ++count;
    if (n->children) {
      for (const auto& kv : *n->children) stack.push_back(kv.second);
    }
  }
  return count;
}

std::string InodePath(const Inode* inode) {
  if (inode->parent == nullptr) return "/";
  std::vector<const std::string*> names;
  for (const Inode* n = inode; n->parent != nullptr; n = n->parent) names.push_back(&n->name);
  std::string out;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    out += '/';
    out += **it;
  }
  return out;
}

// ---- FsNamespace. ----

Status ValidateNamespaceOptions(const NamespaceOptions& o) {
  for (const std::string* name : {&o.superuser, &o.supergroup}) {
    if (!ValidateUserName(*name, "superuser/supergroup").ok()) {
      return Status::InvalidArgument("namespace options: superuser and supergroup must be " +
                                     std::string("1..255 bytes without NUL, got '") +
                                     name->substr(0, 64) + "'");
    }
  }
  if (o.root_permission > 07777) {
    return Status::InvalidArgument("namespace options: root permission above 07777");
  }
  if (o.max_replication < 1 || o.block_size_multiple < 1 || o.max_blocks_per_file < 1) {
    return Status::InvalidArgument(
        "namespace options: max_replication, block_size_multiple and max_blocks_per_file must "
        "be >= 1");
  }
  return Status::OK();
}

FsNamespace::FsNamespace(NamespaceOptions options)
    : options_(std::move(options)), strings_(std::make_unique<StringPool>()) {
  DCHECK(ValidateNamespaceOptions(options_).ok()) << ValidateNamespaceOptions(options_);
  root_ = Impl::NewInode(this, kRootInodeId, "", /*is_dir=*/true, options_.superuser,
                         options_.supergroup, options_.root_permission, /*mtime=*/0);
}

FsNamespace::~FsNamespace() { FreeTree(root_); }

bool FsNamespace::IsSuperuser(const Caller& caller) const {
  if (caller.user == options_.superuser) return true;
  for (const std::string& g : caller.groups) {
    if (g == options_.supergroup) return true;
  }
  return false;
}

FsStatus InvalidArgument(std::string msg) {
  return FsStatus(FsError::kInvalidArgument, std::move(msg));
}

FsStatus ValidateUserName(std::string_view name, const char* what) {
  if (name.empty() || name.size() > kMaxUserNameLength ||
      name.find('\0') != std::string_view::npos) {
    return InvalidArgument(std::string("invalid ") + what + " name '" +
                           std::string(name.substr(0, 64)) + "': must be 1..255 bytes without NUL");
  }
  return FsStatus::OK();
}

// ---- Resolution and permission checks. ----

namespace {

std::string ModeString(const Inode* inode) {
  std::string s = inode->is_dir ? "d" : "-";
  const char* rwx = "rwx";
  for (int shift = 6; shift >= 0; shift -= 3) {
    for (int b = 0; b < 3; ++b) {
      s += (inode->permission >> (shift + 2 - b)) & 1 ? rwx[b] : '-';
    }
  }
  if (inode->permission & kStickyBit) s.back() = (inode->permission & 1) ? 't' : 'T';
  return s;
}

const char* ActionName(uint16_t mode) {
  switch (mode) {
    case kRead:
      return "READ";
    case kWrite:
      return "WRITE";
    case kExecute:
      return "EXECUTE";
    case kRead | kExecute:
      return "READ_EXECUTE";
    case kWrite | kExecute:
      return "WRITE_EXECUTE";
    case kRead | kWrite:
      return "READ_WRITE";
    default:
      return "ALL";
  }
}

FsStatus Denied(const Access& access, const char* op, std::string_view action, const Inode* inode,
                const std::string& inode_path) {
  return FsStatus(FsError::kPermissionDenied,
                  std::string(op) + ": permission denied: user=" + access.caller->user +
                      ", access=" + std::string(action) + ", inode=\"" + inode_path +
                      "\":" + *inode->owner + ":" + *inode->group + ":" + ModeString(inode));
}

}  // namespace

Access FsNamespace::Impl::AccessFor(const FsNamespace& ns, const Caller* caller) {
  Access a;
  a.caller = caller;
  a.check = caller != nullptr && ns.options_.permissions_enabled && !ns.IsSuperuser(*caller);
  return a;
}

FsStatus FsNamespace::Impl::Walk(const FsNamespace& ns, std::string_view path, const Access& access,
                                 PathWalk* w) {
  w->path = path;
  w->inodes.clear();
  QJ_FS_RETURN_IF_ERROR(SplitPath(path, &w->comps));
  w->inodes.reserve(w->comps.size() + 1);
  Inode* cur = ns.root_;
  w->inodes.push_back(cur);
  for (size_t i = 0; i < w->comps.size(); ++i) {
    if (!cur->is_dir) {
      return FsStatus(FsError::kNotADirectory,
                      "'" + w->Prefix(i) + "' is not a directory (in '" + std::string(path) + "')");
    }
    if (access.check && !Permits(access, cur, kExecute)) {
      return Denied(access, "traverse", "EXECUTE", cur, w->Prefix(i));
    }
    Inode* child = cur->FindChild(w->comps[i]);
    if (child == nullptr) break;
    w->inodes.push_back(child);
    cur = child;
  }
  return FsStatus::OK();
}

bool FsNamespace::Impl::Permits(const Access& access, const Inode* inode, uint16_t mode) {
  if (!access.check) return true;
  const Caller& c = *access.caller;
  int shift = 0;  // other
  if (c.user == *inode->owner) {
    shift = 6;
  } else {
    for (const std::string& g : c.groups) {
      if (g == *inode->group) {
        shift = 3;
        break;
      }
    }
  }
  uint16_t granted = (inode->permission >> shift) & 7;
  return (granted & mode) == mode;
}

FsStatus FsNamespace::Impl::CheckAccess(const Access& access, const Inode* inode, uint16_t mode,
                                        std::string_view path, const char* op) {
  if (Permits(access, inode, mode)) return FsStatus::OK();
  return Denied(access, op, ActionName(mode), inode, std::string(path));
}

FsStatus FsNamespace::Impl::CheckOwner(const Access& access, const Inode* inode,
                                       std::string_view path, const char* op) {
  if (!access.check || access.caller->user == *inode->owner) return FsStatus::OK();
  return FsStatus(FsError::kPermissionDenied,
                  std::string(op) + ": permission denied: user=" + access.caller->user +
                      " is not the owner of '" + std::string(path) + "' (owner " + *inode->owner +
                      ")");
}

FsStatus FsNamespace::Impl::CheckSticky(const Access& access, const Inode* parent,
                                        const Inode* inode, std::string_view path, const char* op) {
  if (!access.check || (parent->permission & kStickyBit) == 0) return FsStatus::OK();
  const std::string& user = access.caller->user;
  if (user == *parent->owner || user == *inode->owner) return FsStatus::OK();
  return FsStatus(FsError::kPermissionDenied,
                  std::string(op) + ": permission denied by sticky bit: user=" + user +
                      ", path=\"" + std::string(path) + "\":" + *inode->owner + ", parent=\"" +
                      InodePath(parent) + "\":" + *parent->owner + ":" + ModeString(parent));
}

FsStatus FsNamespace::Impl::CheckSubtree(const Access& access, const Inode* root, uint16_t mode,
                                         bool skip_empty, std::string_view path, const char* op) {
  if (!access.check || !root->is_dir) return FsStatus::OK();
  std::vector<const Inode*> stack{root};
  while (!stack.empty()) {
    const Inode* n = stack.back();
    stack.pop_back();
    if (skip_empty && n->NumChildren() == 0) continue;
    if (!Permits(access, n, mode)) {
      return Denied(access, op, ActionName(mode), n, n == root ? std::string(path) : InodePath(n));
    }
    for (const auto& kv : *n->children) {
      if (kv.second->is_dir) stack.push_back(kv.second);
    }
  }
  return FsStatus::OK();
}

FileInfo FsNamespace::Impl::MakeInfo(const Inode* n, std::string path) {
  FileInfo info;
  info.path = std::move(path);
  info.is_dir = n->is_dir;
  info.length = n->Length();
  info.replication = n->replication;
  info.block_size = n->block_size;
  info.mtime_ms = n->mtime;
  info.atime_ms = n->atime;
  info.permission = n->permission;
  info.owner = *n->owner;
  info.group = *n->group;
  info.children_num = static_cast<int64_t>(n->NumChildren());
  info.file_id = n->id;
  info.blocks = n->blocks;
  info.under_construction = n->under_construction;
  return info;
}

Inode* FsNamespace::Impl::NewInode(FsNamespace* ns, int64_t id, std::string_view name, bool is_dir,
                                   std::string_view owner, std::string_view group, uint16_t perm,
                                   int64_t mtime) {
  auto* n = new Inode;
  n->id = id;
  n->name.assign(name.data(), name.size());
  n->is_dir = is_dir;
  n->permission = perm;
  n->owner = ns->strings_->Intern(owner);
  n->group = ns->strings_->Intern(group);
  n->mtime = mtime;
  if (is_dir) n->children = std::make_unique<ChildMap>();
  return n;
}

// ---- Reads. ----

FsResult<FileInfo> FsNamespace::GetFileInfo(const Caller& caller, std::string_view path) const {
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, Impl::AccessFor(*this, &caller), &w));
  if (!w.exists()) {
    return FsStatus(FsError::kNotFound, "file does not exist: " + std::string(path));
  }
  return Impl::MakeInfo(w.target(), NormalizePath(path));
}

FsResult<FileInfo> FsNamespace::StatPath(std::string_view path) const {
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, Access(), &w));
  if (!w.exists()) {
    return FsStatus(FsError::kNotFound, "file does not exist: " + std::string(path));
  }
  return Impl::MakeInfo(w.target(), NormalizePath(path));
}

FsResult<DirectoryListing> FsNamespace::ListStatus(const Caller& caller, std::string_view path,
                                                   std::string_view start_after,
                                                   int32_t limit) const {
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  if (!w.exists()) {
    return FsStatus(FsError::kNotFound, "file does not exist: " + std::string(path));
  }
  const Inode* dir = w.target();
  const std::string norm = NormalizePath(path);
  DirectoryListing listing;
  if (!dir->is_dir) {
    listing.entries.push_back(Impl::MakeInfo(dir, norm));
    return listing;
  }
  QJ_FS_RETURN_IF_ERROR(Impl::CheckAccess(access, dir, kRead | kExecute, norm, "listStatus"));
  if (limit <= 0) limit = 1000;
  const ChildMap& children = *dir->children;
  auto it = start_after.empty() ? children.begin() : children.upper_bound(start_after);
  const size_t start_rank =
      it == children.end() ? children.size() : children.order_of_key(it->first);
  const size_t n = std::min(static_cast<size_t>(limit), children.size() - start_rank);
  listing.entries.reserve(n);
  for (size_t i = 0; i < n; ++i, ++it) {
    listing.entries.push_back(Impl::MakeInfo(it->second, ChildPath(norm, it->first)));
  }
  listing.remaining_entries = static_cast<int64_t>(children.size() - start_rank - n);
  return listing;
}

FsResult<ContentSummary> FsNamespace::GetContentSummary(const Caller& caller,
                                                        std::string_view path) const {
  const Access access = Impl::AccessFor(*this, &caller);
  PathWalk w;
  QJ_FS_RETURN_IF_ERROR(Impl::Walk(*this, path, access, &w));
  if (!w.exists()) {
    return FsStatus(FsError::kNotFound, "file does not exist: " + std::string(path));
  }
  QJ_FS_RETURN_IF_ERROR(Impl::CheckSubtree(access, w.target(), kRead | kExecute,
                                           /*skip_empty=*/false, NormalizePath(path),
                                           "getContentSummary"));
  ContentSummary sum;
  std::vector<const Inode*> stack{w.target()};
  while (!stack.empty()) {
    const Inode* n = stack.back();
    stack.pop_back();
    if (n->is_dir) {
      ++sum.directory_count;
      for (const auto& kv : *n->children) stack.push_back(kv.second);
    } else {
      const int64_t len = n->Length();
      ++sum.file_count;
      sum.length += len;
      sum.space_consumed += len * n->replication;
    }
  }
  return sum;
}

// ---- Digest and comparison. ----

namespace {

class Fnv64 {
 public:
  void Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      h_ ^= b[i];
      h_ *= 0x100000001b3ull;
    }
  }
  void Int(int64_t v) { Bytes(&v, sizeof(v)); }
  void Str(const std::string& s) {
    Int(static_cast<int64_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace

uint64_t FsNamespace::Digest() const {
  Fnv64 h;
  h.Int(next_inode_id_);
  h.Int(next_block_id_);
  h.Int(last_gen_stamp_);
  h.Int(inode_count_);
  std::vector<const Inode*> stack{root_};
  while (!stack.empty()) {
    const Inode* n = stack.back();
    stack.pop_back();
    h.Int(n->parent ? n->parent->id : 0);
    h.Int(n->id);
    h.Str(n->name);
    h.Int(n->is_dir);
    h.Int(n->permission);
    h.Str(*n->owner);
    h.Str(*n->group);
    h.Int(n->mtime);
    h.Int(n->atime);
    h.Int(n->NumChildren());
    if (n->is_dir) {
      for (const auto& kv : *n->children) stack.push_back(kv.second);
    } else {
      h.Int(n->replication);
      h.Int(n->block_size);
      h.Int(n->under_construction);
      h.Int(static_cast<int64_t>(n->blocks.size()));
      for (const BlockInfo& b : n->blocks) {
        h.Int(b.id);
        h.Int(b.num_bytes);
        h.Int(b.gen_stamp);
      }
    }
  }
  return h.value();
}

namespace {

std::string CompareInodes(const Inode* a, const Inode* b) {
  auto diff = [&](const char* what, auto x, auto y) {
    std::ostringstream os;
    os << InodePath(a) << ": " << what << " " << x << " vs " << y;
    return os.str();
  };
  if (a->id != b->id) return diff("id", a->id, b->id);
  if (a->is_dir != b->is_dir) return diff("is_dir", a->is_dir, b->is_dir);
  if (a->permission != b->permission) return diff("permission", a->permission, b->permission);
  if (*a->owner != *b->owner) return diff("owner", *a->owner, *b->owner);
  if (*a->group != *b->group) return diff("group", *a->group, *b->group);
  if (a->mtime != b->mtime) return diff("mtime", a->mtime, b->mtime);
  if (a->atime != b->atime) return diff("atime", a->atime, b->atime);
  if (a->replication != b->replication) return diff("replication", a->replication, b->replication);
  if (a->block_size != b->block_size) return diff("block_size", a->block_size, b->block_size);
  if (a->under_construction != b->under_construction) {
    return diff("under_construction", a->under_construction, b->under_construction);
  }
  if (a->blocks.size() != b->blocks.size()) {
    return diff("block count", a->blocks.size(), b->blocks.size());
  }
  for (size_t i = 0; i < a->blocks.size(); ++i) {
    if (!(a->blocks[i] == b->blocks[i])) {
      return diff("block", a->blocks[i].id, b->blocks[i].id) + " (index " + std::to_string(i) +
             ", lengths " + std::to_string(a->blocks[i].num_bytes) + "/" +
             std::to_string(b->blocks[i].num_bytes) + ")";
    }
  }
  if (a->NumChildren() != b->NumChildren()) {
    return diff("child count", a->NumChildren(), b->NumChildren());
  }
  return "";
}

}  // namespace

bool NamespaceEquals(const FsNamespace& a, const FsNamespace& b, std::string* why) {
  auto fail = [why](std::string msg) {
    if (why != nullptr) *why = std::move(msg);
    return false;
  };
  if (a.next_inode_id() != b.next_inode_id()) {
    return fail("next_inode_id " + std::to_string(a.next_inode_id()) + " vs " +
                std::to_string(b.next_inode_id()));
  }
  if (a.next_block_id() != b.next_block_id()) {
    return fail("next_block_id " + std::to_string(a.next_block_id()) + " vs " +
                std::to_string(b.next_block_id()));
  }
  if (a.last_gen_stamp() != b.last_gen_stamp()) {
    return fail("last_gen_stamp " + std::to_string(a.last_gen_stamp()) + " vs " +
                std::to_string(b.last_gen_stamp()));
  }
  if (a.inode_count() != b.inode_count()) {
    return fail("inode_count " + std::to_string(a.inode_count()) + " vs " +
                std::to_string(b.inode_count()));
  }
  std::vector<std::pair<const Inode*, const Inode*>> stack{{a.root(), b.root()}};
  while (!stack.empty()) {
    auto [x, y] = stack.back();
    stack.pop_back();
    std::string d = CompareInodes(x, y);
    if (!d.empty()) return fail(d);
    if (!x->is_dir) continue;
    auto ix = x->children->begin();
    auto iy = y->children->begin();
    for (; ix != x->children->end(); ++ix, ++iy) {
      if (ix->first != iy->first) {
        return fail(InodePath(x) + ": child '" + std::string(ix->first) + "' vs '" +
                    std::string(iy->first) + "'");
      }
      stack.emplace_back(ix->second, iy->second);
    }
  }
  if (why != nullptr) why->clear();
  return true;
}

}  // namespace qj::nn
