// The inode tree behind FsNamespace. Internal to namenode/ (the namespace, the image and
// tests use it); the server talks to FsNamespace only.
//
// Children of a directory live in an order-statistics red-black tree keyed by the child's
// name (a string_view into the child's own `name`), so lookups allocate nothing, listings
// are in byte order, and the rank of a name (for ListStatus's remaining count) costs
// O(log n) even with millions of children. Renaming an inode therefore erases it from its
// parent's map *before* changing `name` and re-inserts it after.
//
// Inodes, child maps and the maps' nodes live in node_pool (namenode/node_pool.h): freed
// ones are reused by the next, in particular by a reload after the stale namespace was
// freed, without fresh memory.
//
// Thread-compatible (guarded by the namespace's owner).
#pragma once

#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "namenode/edit_ops.h"
#include "namenode/node_pool.h"

namespace qj::nn {

struct Inode;

using ChildTree =
    __gnu_pbds::tree<std::string_view, Inode*, std::less<std::string_view>, __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update, PoolAllocator<char>>;

// A directory's children. The map object itself is in node_pool too.
class ChildMap : public ChildTree {
 public:
  static void* operator new(size_t size) { return node_pool::Allocate(size); }
  static void operator delete(void* p, size_t size) noexcept { node_pool::Deallocate(p, size); }
};

struct Inode {
  static void* operator new(size_t size) { return node_pool::Allocate(size); }
  static void operator delete(void* p, size_t size) noexcept { node_pool::Deallocate(p, size); }

  int64_t id = 0;
  Inode* parent = nullptr;  // null for the root
  std::string name;         // empty for the root
  bool is_dir = false;
  bool under_construction = false;  // files
  uint16_t permission = 0;
  int16_t replication = 0;             // files
  const std::string* owner = nullptr;  // interned (StringPool), never null
  const std::string* group = nullptr;
  int64_t mtime = 0;
  int64_t atime = 0;
  int64_t block_size = 0;              // files
  std::vector<BlockInfo> blocks;       // files
  std::unique_ptr<ChildMap> children;  // directories (always non-null for them); owns
                                       // the child inodes (freed by FreeTree)

  int64_t Length() const {
    int64_t n = 0;
    for (const BlockInfo& b : blocks) n += b.num_bytes;
    return n;
  }
  size_t NumChildren() const { return children ? children->size() : 0; }
  Inode* FindChild(std::string_view child_name) const {
    if (!children) return nullptr;
    auto it = children->find(child_name);
    return it == children->end() ? nullptr : it->second;
  }
  // Inserts `child` (whose name is set) and links it. DCHECKs the name is new.
  void AddChild(Inode* child) {
    child->parent = this;
    auto res = children->insert(std::make_pair(std::string_view(child->name), child));
    DCHECK(res.second) << "duplicate child " << child->name;
  }
  // Unlinks `child` from this directory (does not free it).
  void RemoveChild(Inode* child) {
    children->erase(std::string_view(child->name));
    child->parent = nullptr;
  }
};

static_assert(sizeof(Inode) <= node_pool::kMaxSize, "Inode outgrew node_pool");
static_assert(sizeof(ChildMap) <= node_pool::kMaxSize, "ChildMap outgrew node_pool");

// Frees `root` and its whole subtree without recursion. Returns the number of inodes freed.
int64_t FreeTree(Inode* root);

// Number of inodes in the subtree of `root` (itself included).
int64_t CountSubtree(const Inode* root);

// "/a/b" for an inode linked into a tree ("/" for the root).
std::string InodePath(const Inode* inode);

// Owner and group names, interned: each distinct name is stored once and inodes point at
// it. Pointers stay valid for the pool's lifetime.
class StringPool {
 public:
  const std::string* Intern(std::string_view s) {
    auto it = set_.find(s);
    if (it == set_.end()) it = set_.emplace(s).first;
    return &*it;
  }
  const std::set<std::string, std::less<>>& strings() const { return set_; }

 private:
  std::set<std::string, std::less<>> set_;
};

}  // namespace qj::nn
