// The edit payload decoders (namenode/edit_ops.h) and what consumes them. The input is a
// sequence of (u16 op, u16 length, payload) edits. Each is decoded; one that decodes must
// survive EncodeEdit -> DecodeEdit unchanged, and is then applied to a fresh namespace
// (as replay would): Apply either succeeds or returns Corruption with the namespace
// unchanged. Whatever namespace results must survive SaveImage -> LoadImage.
#include <string>

#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "namenode/namespace.h"
#include "tests/fuzz/fuzz_target.h"

QJ_FUZZ_TARGET(edit_ops) {
  qj::fuzz::Input in(data);
  qj::nn::NamespaceOptions options;
  options.namespace_id = 7;
  qj::nn::FsNamespace ns(options);
  int applied = 0;
  for (int64_t txid = 1; !in.empty() && txid <= 64; ++txid) {
    const uint16_t op = in.U16();
    const std::string_view payload = in.Blob();
    auto edit = qj::nn::DecodeEdit(op, payload);
    if (!edit.ok()) {
      QJ_FUZZ_CHECK(edit.status().IsCorruption(), edit.status().ToString());
      continue;
    }
    QJ_FUZZ_CHECK(static_cast<uint16_t>(qj::nn::OpOf(*edit)) == op, "decoded the wrong op");
    const qj::nn::EncodedEdit enc = qj::nn::EncodeEdit(*edit);
    QJ_FUZZ_CHECK(enc.op == op, "re-encoded to another op");
    // namenode/FORMAT.md: "Encoding is canonical: one edit has exactly one byte string".
    QJ_FUZZ_CHECK(enc.payload == payload,
                  "a payload that is not the canonical encoding of its edit was accepted: " +
                      qj::nn::DescribeEdit(*edit));
    auto again = qj::nn::DecodeEdit(enc.op, enc.payload);
    QJ_FUZZ_CHECK(again.ok(), "re-encoded edit does not decode: " + again.status().ToString());
    QJ_FUZZ_CHECK(qj::nn::EditsEqual(*edit, *again),
                  "edit changed through encode/decode: " + qj::nn::DescribeEdit(*edit) + " vs " +
                      qj::nn::DescribeEdit(*again));
    const uint64_t before = ns.Digest();
    qj::Status s = ns.Apply(*edit, txid);
    if (s.ok()) {
      ++applied;
    } else {
      QJ_FUZZ_CHECK(s.IsCorruption(), s.ToString());
      QJ_FUZZ_CHECK(ns.Digest() == before, "a failed Apply changed the namespace: " +
                                               qj::nn::DescribeEdit(*edit) + ": " + s.ToString());
    }
  }
  if (applied == 0) return;
  const std::string dir = qj::fuzz::ScratchDir() + "/edit_ops_image";
  qj::fuzz::ResetDir(dir);
  qj::Status saved = qj::nn::SaveImage(ns, 42, dir);
  QJ_FUZZ_CHECK(saved.ok(), saved.ToString());
  auto loaded = qj::nn::LoadImage(dir + "/" + qj::nn::ImageFileName(42), options);
  QJ_FUZZ_CHECK(loaded.ok(), "an image of a namespace built by Apply does not load: " +
                                 loaded.status().ToString());
  std::string why;
  QJ_FUZZ_CHECK(qj::nn::NamespaceEquals(ns, *loaded->ns, &why), "image round trip differs: " + why);
}
