// Small durable-file helpers shared by the journalnode (metadata files) and the
// namenode (images). All return IOError naming the path and errno text on failure.
#pragma once

#include <string>

#include "common/status.h"

namespace qj {

// Replaces `path` atomically: writes path + ".tmp", fsyncs it, renames it over path,
// fsyncs the directory. When this returns OK the new contents survive a crash; when it
// fails, `path` holds either the old or the new contents, never a mix.
Status AtomicWriteFile(const std::string& path, const std::string& contents);

// Reads a whole file. NotFound if it does not exist.
Status ReadFileToString(const std::string& path, std::string* out);

// fsyncs a directory (after creating, renaming or deleting entries in it).
Status FsyncDir(const std::string& dir);

// Creates dir and its parents if missing, fsyncing the parent of each one it creates.
Status CreateDirs(const std::string& dir);

// "<what> <path>: <strerror(errno)>" as an IOError.
Status ErrnoStatus(const std::string& what, const std::string& path, int err);

}  // namespace qj
