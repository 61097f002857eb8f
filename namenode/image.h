// The namespace image (checkpoint): the whole FsNamespace as of a txid, in one
// self-verifying file `fsimage_<txid, 19 digits>` (byte format in namenode/FORMAT.md).
//
// Writing streams the tree to disk through a fixed-size buffer (memory does not grow with
// the namespace) in CRC32C-checked frames; reading verifies every frame and the trailer
// before trusting a byte, so any flipped byte, truncation or trailing garbage is reported
// as Corruption naming the file and the offset (and the section). A file stays verifiable
// after being copied byte for byte (fetchImage), see VerifyImageFile.
//
// Every file access goes through `fs` (common/file_ops.h; the real file system by
// default), so that tests can fail an image's fsync, rename or write.
//
// Thread-safety: free functions. SaveImage reads the namespace, so the caller must keep it
// from changing for the duration (hold the namespace lock). Functions on different
// directories may run concurrently; on the same directory, callers serialize.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/file_ops.h"
#include "common/status.h"
#include "namenode/namespace.h"

namespace qj::nn {

inline constexpr char kImagePrefix[] = "fsimage_";

// "fsimage_0000000000000000042".
std::string ImageFileName(int64_t txid);
// Parses an image file name (no directory); false for anything else (e.g. "*.tmp").
bool ParseImageFileName(const std::string& name, int64_t* txid);

struct ImageInfo {
  std::string path;
  int64_t txid = 0;
  int64_t namespace_id = 0;
  int64_t inode_count = 0;
  int64_t file_size = 0;
};

// Writes `dir`/fsimage_<txid> atomically: to "<name>.tmp", fsync, rename, fsync dir.
// Replaces an existing image of the same txid. IOError on failure of any step, the
// fsync and the rename included (the temp file is removed; no partial image is ever
// visible under the final name, and the previous newest image stays the newest).
Status SaveImage(const FsNamespace& ns, int64_t txid, const std::string& dir,
                 FileOps* fs = FileOps::Posix());

struct LoadedImage {
  std::unique_ptr<FsNamespace> ns;
  int64_t txid = 0;
};

// Loads and fully verifies one image. `options` becomes the namespace's options; when
// options.namespace_id != 0 it must match the image's (else InvalidArgument). Corruption
// (naming file, section, offset) for any bad byte; NotFound if the file does not exist;
// NotSupported if a newer release wrote it (a header with a higher format version).
Result<LoadedImage> LoadImage(const std::string& path, const NamespaceOptions& options,
                              FileOps* fs = FileOps::Posix());

// Checks framing, every CRC, the header and the trailer without building a namespace.
// Returns the header's facts. Same errors as LoadImage.
Result<ImageInfo> VerifyImageFile(const std::string& path, FileOps* fs = FileOps::Posix());

// The images in `dir`, sorted by txid ascending (only the name is looked at, nothing is
// verified; temp files are skipped). NotFound if dir does not exist.
Result<std::vector<ImageInfo>> FindImages(const std::string& dir, FileOps* fs = FileOps::Posix());

// Loads the newest image that loads cleanly. A corrupt newer image is skipped with a
// WARNING naming it and the error, then the previous one is tried. An image of a newer
// format version (NotSupported, naming the version) is an error, never skipped. NotFound if there
// is no image; Corruption (listing every failure) if none loads.
Result<LoadedImage> LoadNewestValidImage(const std::string& dir, const NamespaceOptions& options,
                                         FileOps* fs = FileOps::Posix());

// Deletes all but the newest `retain_count` (>= 1) images. Returns the txid of the oldest
// image kept (-1 if none), so the caller can purge edits below it. IOError if a deletion
// fails. Temp files are left alone: a save may be writing one right now.
Result<int64_t> PurgeImages(const std::string& dir, int retain_count,
                            FileOps* fs = FileOps::Posix());

// Deletes the "*.tmp" images that interrupted saves left behind. Only at start-up, before
// anything can save an image: a temp file is a leftover only when no save is running.
// NotFound if dir does not exist.
Status RemoveLeftoverImageTemps(const std::string& dir, FileOps* fs = FileOps::Posix());

}  // namespace qj::nn
