// The image reader (namenode/image.h) on a file holding the input: LoadImage and
// VerifyImageFile must both refuse it (Corruption) or both accept it, and an image that
// loads must save and load again to an equal namespace.
#include <string>

#include "namenode/image.h"
#include "namenode/namespace.h"
#include "tests/fuzz/fuzz_target.h"

QJ_FUZZ_TARGET(image) {
  const std::string dir = qj::fuzz::ScratchDir() + "/image";
  qj::fuzz::ResetDir(dir);
  const std::string path = dir + "/" + qj::nn::ImageFileName(1);
  qj::fuzz::WriteFileOrDie(path, data);

  qj::nn::NamespaceOptions options;  // namespace_id 0: any image's id is taken
  auto verified = qj::nn::VerifyImageFile(path);
  auto loaded = qj::nn::LoadImage(path, options);
  if (!loaded.ok()) {
    QJ_FUZZ_CHECK(loaded.status().IsCorruption() ||
                      loaded.status().code() == qj::StatusCode::kInvalidArgument,
                  loaded.status().ToString());
    QJ_FUZZ_CHECK(loaded.status().message().find(path) != std::string::npos,
                  "error does not name the file: " + loaded.status().ToString());
    return;
  }
  // Verify checks framing and CRCs only; what it accepts the loader may still refuse (a
  // bad tree), but never the other way round.
  QJ_FUZZ_CHECK(verified.ok(),
                "LoadImage accepted what VerifyImageFile refused: " + verified.status().ToString());
  QJ_FUZZ_CHECK(verified->inode_count == loaded->ns->inode_count(), "inode counts differ");

  const std::string dir2 = qj::fuzz::ScratchDir() + "/image2";
  qj::fuzz::ResetDir(dir2);
  qj::Status saved = qj::nn::SaveImage(*loaded->ns, loaded->txid, dir2);
  QJ_FUZZ_CHECK(saved.ok(), saved.ToString());
  qj::nn::NamespaceOptions again_options = loaded->ns->options();
  auto again = qj::nn::LoadImage(dir2 + "/" + qj::nn::ImageFileName(loaded->txid), again_options);
  QJ_FUZZ_CHECK(again.ok(), "a re-saved image does not load: " + again.status().ToString());
  std::string why;
  QJ_FUZZ_CHECK(qj::nn::NamespaceEquals(*loaded->ns, *again->ns, &why),
                "re-saved image differs: " + why);
}
