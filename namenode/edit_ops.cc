#include "namenode/edit_ops.h"

#include <cinttypes>
#include <cstdio>
#include <limits>

#include "namenode/codec.h"
#include "namenode/path_util.h"

namespace qj::nn {
namespace {

using codec::PutSigned;
using codec::PutString;
using codec::PutU8;
using codec::PutVarint;

// Version 1: the op's fields. Version 2: the op's fields, then the RetryIds of the call
// (client id, kClientIdBytes raw bytes; call id, varint).
constexpr uint8_t kEditVersion = 1;
constexpr uint8_t kEditVersionWithIds = 2;
constexpr uint64_t kMaxId = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
constexpr size_t kMaxNameLength = 255;  // owner and group names

std::string Octal(uint16_t perm) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0%o", perm);
  return buf;
}

// ---- Encoding. ----

void EncodeBody(const NoopEdit&, std::string*) {}

void EncodeBody(const MkdirEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, e.new_inode_ids.size());
  for (int64_t id : e.new_inode_ids) PutVarint(out, static_cast<uint64_t>(id));
  PutString(out, e.owner);
  PutString(out, e.group);
  PutVarint(out, e.permission);
  PutVarint(out, e.parent_permission);
  PutSigned(out, e.mtime_ms);
}

void EncodeBody(const CreateEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutString(out, e.owner);
  PutString(out, e.group);
  PutVarint(out, e.permission);
  PutVarint(out, static_cast<uint64_t>(e.replication));
  PutVarint(out, static_cast<uint64_t>(e.block_size));
  PutSigned(out, e.mtime_ms);
  PutU8(out, e.overwrite ? 1 : 0);
  PutVarint(out, static_cast<uint64_t>(e.replaced_inode_id));
}

void EncodeBody(const AddBlockEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutSigned(out, e.previous_block_length);
  PutVarint(out, static_cast<uint64_t>(e.block.id));
  PutVarint(out, static_cast<uint64_t>(e.block.num_bytes));
  PutVarint(out, static_cast<uint64_t>(e.block.gen_stamp));
}

void EncodeBody(const CompleteEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutSigned(out, e.last_block_length);
  PutSigned(out, e.mtime_ms);
}

void EncodeBody(const DeleteEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutSigned(out, e.mtime_ms);
}

void EncodeBody(const RenameEdit& e, std::string* out) {
  PutString(out, e.src);
  PutString(out, e.dst);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutSigned(out, e.mtime_ms);
}

void EncodeBody(const SetPermissionEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutVarint(out, e.permission);
}

void EncodeBody(const SetOwnerEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutString(out, e.owner);
  PutString(out, e.group);
}

void EncodeBody(const SetTimesEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutSigned(out, e.mtime_ms);
  PutSigned(out, e.atime_ms);
}

void EncodeBody(const SetReplicationEdit& e, std::string* out) {
  PutString(out, e.path);
  PutVarint(out, static_cast<uint64_t>(e.inode_id));
  PutVarint(out, static_cast<uint64_t>(e.replication));
}

// ---- Decoding. Each returns false with r->error() set on a bad payload. ----

class Decoder {
 public:
  explicit Decoder(std::string_view payload) : r_(payload) {}
  codec::Reader& r() { return r_; }

  bool Path(std::string* out) {
    std::string_view s;
    if (!r_.GetString(kMaxPathLength, &s)) return false;
    if (!ValidatePath(s).ok()) return r_.Fail("invalid path");
    out->assign(s.data(), s.size());
    return true;
  }
  bool Name(bool allow_empty, std::string* out) {
    std::string_view s;
    if (!r_.GetString(kMaxNameLength, &s)) return false;
    if (s.empty() && !allow_empty) return r_.Fail("empty owner or group");
    if (s.find('\0') != std::string_view::npos) return r_.Fail("NUL in owner or group");
    out->assign(s.data(), s.size());
    return true;
  }
  bool Id(int64_t* out) {
    uint64_t v;
    if (!r_.GetBounded(1, kMaxId, &v, "inode or block id out of range")) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  bool OptionalId(int64_t* out) {  // 0 = none
    uint64_t v;
    if (!r_.GetBounded(0, kMaxId, &v, "inode id out of range")) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  bool Perm(uint16_t* out) {
    uint64_t v;
    if (!r_.GetBounded(0, 07777, &v, "permission above 07777")) return false;
    *out = static_cast<uint16_t>(v);
    return true;
  }
  bool Replication(int16_t* out) {
    uint64_t v;
    if (!r_.GetBounded(1, 32767, &v, "replication out of range")) return false;
    *out = static_cast<int16_t>(v);
    return true;
  }
  bool NonNegative(int64_t* out, const char* what) {
    uint64_t v;
    if (!r_.GetBounded(0, kMaxId, &v, what)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  bool AtLeastMinusOne(int64_t* out, const char* what) {
    if (!r_.GetSigned(out)) return false;
    if (*out < -1) return r_.Fail(what);
    return true;
  }
  bool Time(int64_t* out) { return r_.GetSigned(out); }

 private:
  codec::Reader r_;
};

bool DecodeBody(Decoder&, NoopEdit*) { return true; }

bool DecodeBody(Decoder& d, MkdirEdit* e) {
  uint64_t n;
  if (!d.Path(&e->path)) return false;
  if (!d.r().GetBounded(1, kMaxPathDepth, &n, "bad count of new directories")) return false;
  e->new_inode_ids.resize(n);
  for (auto& id : e->new_inode_ids) {
    if (!d.Id(&id)) return false;
  }
  return d.Name(false, &e->owner) && d.Name(false, &e->group) && d.Perm(&e->permission) &&
         d.Perm(&e->parent_permission) && d.Time(&e->mtime_ms);
}

bool DecodeBody(Decoder& d, CreateEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) && d.Name(false, &e->owner) &&
         d.Name(false, &e->group) && d.Perm(&e->permission) && d.Replication(&e->replication) &&
         d.Id(&e->block_size) && d.Time(&e->mtime_ms) && d.r().GetBool(&e->overwrite) &&
         d.OptionalId(&e->replaced_inode_id);
}

bool DecodeBody(Decoder& d, AddBlockEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) &&
         d.AtLeastMinusOne(&e->previous_block_length, "previous block length below -1") &&
         d.Id(&e->block.id) && d.NonNegative(&e->block.num_bytes, "block length out of range") &&
         d.Id(&e->block.gen_stamp);
}

bool DecodeBody(Decoder& d, CompleteEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) &&
         d.AtLeastMinusOne(&e->last_block_length, "last block length below -1") &&
         d.Time(&e->mtime_ms);
}

bool DecodeBody(Decoder& d, DeleteEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) && d.Time(&e->mtime_ms);
}

bool DecodeBody(Decoder& d, RenameEdit* e) {
  return d.Path(&e->src) && d.Path(&e->dst) && d.Id(&e->inode_id) && d.Time(&e->mtime_ms);
}

bool DecodeBody(Decoder& d, SetPermissionEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) && d.Perm(&e->permission);
}

bool DecodeBody(Decoder& d, SetOwnerEdit* e) {
  if (!(d.Path(&e->path) && d.Id(&e->inode_id) && d.Name(true, &e->owner) &&
        d.Name(true, &e->group))) {
    return false;
  }
  if (e->owner.empty() && e->group.empty()) return d.r().Fail("both owner and group empty");
  return true;
}

bool DecodeBody(Decoder& d, SetTimesEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) &&
         d.AtLeastMinusOne(&e->mtime_ms, "mtime below -1") &&
         d.AtLeastMinusOne(&e->atime_ms, "atime below -1");
}

bool DecodeBody(Decoder& d, SetReplicationEdit* e) {
  return d.Path(&e->path) && d.Id(&e->inode_id) && d.Replication(&e->replication);
}

bool DecodeIds(Decoder& d, RetryIds* ids) {
  std::string_view raw;
  if (!d.r().GetBytes(RetryIds::kClientIdBytes, &raw)) return false;
  uint64_t call;
  if (!d.r().GetBounded(0, kMaxId, &call, "call id out of range")) return false;
  ids->client_id.assign(raw.data(), raw.size());
  ids->call_id = static_cast<int64_t>(call);
  return true;
}

template <typename T>
Result<Edit> DecodeAs(uint16_t op, std::string_view payload, RetryIds* ids) {
  Decoder d(payload);
  uint8_t version;
  if (!d.r().GetU8(&version)) {
    return Status::Corruption(EditOpName(op) + " payload: empty (no version byte)");
  }
  if (version != kEditVersion && version != kEditVersionWithIds) {
    return Status::Corruption(EditOpName(op) + " payload: unknown version " +
                              std::to_string(version));
  }
  T body;
  RetryIds got;
  if (!DecodeBody(d, &body) || (version == kEditVersionWithIds && !DecodeIds(d, &got))) {
    return Status::Corruption(EditOpName(op) + " payload of " + std::to_string(payload.size()) +
                              " bytes: " + d.r().error() + " at offset " +
                              std::to_string(d.r().offset()));
  }
  if (d.r().remaining() != 0) {
    return Status::Corruption(EditOpName(op) + " payload: " + std::to_string(d.r().remaining()) +
                              " trailing bytes at offset " + std::to_string(d.r().offset()));
  }
  if (ids != nullptr) *ids = std::move(got);
  return Edit(std::move(body));
}

std::string IdList(const std::vector<int64_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(ids[i]);
  }
  return s + "]";
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string EditOpName(uint16_t op) {
  switch (static_cast<EditOp>(op)) {
    case EditOp::kNoop:
      return "NOOP";
    case EditOp::kMkdir:
      return "MKDIR";
    case EditOp::kCreate:
      return "CREATE";
    case EditOp::kAddBlock:
      return "ADD_BLOCK";
    case EditOp::kComplete:
      return "COMPLETE";
    case EditOp::kDelete:
      return "DELETE";
    case EditOp::kRename:
      return "RENAME";
    case EditOp::kSetPermission:
      return "SET_PERMISSION";
    case EditOp::kSetOwner:
      return "SET_OWNER";
    case EditOp::kSetTimes:
      return "SET_TIMES";
    case EditOp::kSetReplication:
      return "SET_REPLICATION";
  }
  return "UNKNOWN(" + std::to_string(op) + ")";
}

EditOp OpOf(const Edit& edit) {
  return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::kOp; }, edit);
}

EncodedEdit EncodeEdit(const Edit& edit, const RetryIds& ids) {
  EncodedEdit out;
  out.op = static_cast<uint16_t>(OpOf(edit));
  PutU8(&out.payload, ids.empty() ? kEditVersion : kEditVersionWithIds);
  std::visit([&out](const auto& e) { EncodeBody(e, &out.payload); }, edit);
  if (!ids.empty()) {
    out.payload.append(ids.client_id);
    PutVarint(&out.payload, static_cast<uint64_t>(ids.call_id));
  }
  return out;
}

Result<Edit> DecodeEdit(uint16_t op, std::string_view payload, RetryIds* ids) {
  switch (static_cast<EditOp>(op)) {
    case EditOp::kNoop:
      return DecodeAs<NoopEdit>(op, payload, ids);
    case EditOp::kMkdir:
      return DecodeAs<MkdirEdit>(op, payload, ids);
    case EditOp::kCreate:
      return DecodeAs<CreateEdit>(op, payload, ids);
    case EditOp::kAddBlock:
      return DecodeAs<AddBlockEdit>(op, payload, ids);
    case EditOp::kComplete:
      return DecodeAs<CompleteEdit>(op, payload, ids);
    case EditOp::kDelete:
      return DecodeAs<DeleteEdit>(op, payload, ids);
    case EditOp::kRename:
      return DecodeAs<RenameEdit>(op, payload, ids);
    case EditOp::kSetPermission:
      return DecodeAs<SetPermissionEdit>(op, payload, ids);
    case EditOp::kSetOwner:
      return DecodeAs<SetOwnerEdit>(op, payload, ids);
    case EditOp::kSetTimes:
      return DecodeAs<SetTimesEdit>(op, payload, ids);
    case EditOp::kSetReplication:
      return DecodeAs<SetReplicationEdit>(op, payload, ids);
  }
  return Status::Corruption("unknown edit op code " + std::to_string(op));
}

std::string DescribeEdit(const Edit& edit) {
  return std::visit(
      Overloaded{
          [](const NoopEdit&) { return std::string("NOOP"); },
          [](const MkdirEdit& e) {
            return "MKDIR " + e.path + " ids=" + IdList(e.new_inode_ids) +
                   " perm=" + Octal(e.permission) + " parent_perm=" + Octal(e.parent_permission) +
                   " owner=" + e.owner + ":" + e.group + " mtime=" + std::to_string(e.mtime_ms);
          },
          [](const CreateEdit& e) {
            return "CREATE " + e.path + " id=" + std::to_string(e.inode_id) +
                   " perm=" + Octal(e.permission) + " owner=" + e.owner + ":" + e.group +
                   " repl=" + std::to_string(e.replication) +
                   " bsize=" + std::to_string(e.block_size) +
                   " mtime=" + std::to_string(e.mtime_ms) + (e.overwrite ? " overwrite" : "") +
                   (e.replaced_inode_id != 0 ? " replaces=" + std::to_string(e.replaced_inode_id)
                                             : std::string());
          },
          [](const AddBlockEdit& e) {
            return "ADD_BLOCK " + e.path + " id=" + std::to_string(e.inode_id) +
                   " prev_len=" + std::to_string(e.previous_block_length) +
                   " block=" + std::to_string(e.block.id) + "@" + std::to_string(e.block.gen_stamp);
          },
          [](const CompleteEdit& e) {
            return "COMPLETE " + e.path + " id=" + std::to_string(e.inode_id) +
                   " last_len=" + std::to_string(e.last_block_length) +
                   " mtime=" + std::to_string(e.mtime_ms);
          },
          [](const DeleteEdit& e) {
            return "DELETE " + e.path + " id=" + std::to_string(e.inode_id) +
                   " mtime=" + std::to_string(e.mtime_ms);
          },
          [](const RenameEdit& e) {
            return "RENAME " + e.src + " -> " + e.dst + " id=" + std::to_string(e.inode_id) +
                   " mtime=" + std::to_string(e.mtime_ms);
          },
          [](const SetPermissionEdit& e) {
            return "SET_PERMISSION " + e.path + " id=" + std::to_string(e.inode_id) +
                   " perm=" + Octal(e.permission);
          },
          [](const SetOwnerEdit& e) {
            return "SET_OWNER " + e.path + " id=" + std::to_string(e.inode_id) +
                   " owner=" + e.owner + " group=" + e.group;
          },
          [](const SetTimesEdit& e) {
            return "SET_TIMES " + e.path + " id=" + std::to_string(e.inode_id) +
                   " mtime=" + std::to_string(e.mtime_ms) + " atime=" + std::to_string(e.atime_ms);
          },
          [](const SetReplicationEdit& e) {
            return "SET_REPLICATION " + e.path + " id=" + std::to_string(e.inode_id) +
                   " repl=" + std::to_string(e.replication);
          },
      },
      edit);
}

bool EditsEqual(const Edit& a, const Edit& b) {
  if (a.index() != b.index()) return false;
  // The encoding is canonical (one byte string per edit), so equal bytes = equal edits.
  EncodedEdit ea = EncodeEdit(a);
  EncodedEdit eb = EncodeEdit(b);
  return ea.op == eb.op && ea.payload == eb.payload;
}

}  // namespace qj::nn
