// Namespace paths: validation and splitting.
//
// A valid path is absolute and '/'-separated. Rules (violations are kInvalidPath with the
// message "invalid path '<path>': <why>"):
//   - starts with '/'; "/" alone is the root;
//   - one trailing '/' is allowed and ignored ("/a/b/" names "/a/b"); "//" anywhere else
//     is an empty component and rejected;
//   - no component is "." or "..";
//   - no NUL byte anywhere;
//   - each component is at most kMaxComponentLength (255) bytes;
//   - the whole path is at most kMaxPathLength (8000) bytes;
//   - at most kMaxPathDepth (1000) components.
// Names are raw bytes (UTF-8 expected, not checked); ':' is allowed.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "namenode/fs_status.h"

namespace qj::nn {

inline constexpr size_t kMaxComponentLength = 255;
inline constexpr size_t kMaxPathLength = 8000;
inline constexpr size_t kMaxPathDepth = 1000;

// Validates `path` and appends its components (views into `path`, so `path` must outlive
// them) to *components after clearing it. The root yields no components.
FsStatus SplitPath(std::string_view path, std::vector<std::string_view>* components);

// Validates only.
FsStatus ValidatePath(std::string_view path);

// The rule for a path a client sends: ValidatePath, and no control character (bytes
// 0x01..0x1f and 0x7f) anywhere, as a name holding a newline or an escape sequence breaks
// every listing, log line and shell that shows it. Stricter than ValidatePath on purpose:
// names already in an image or edit log are still loaded (replay uses SplitPath), so a
// namespace written before this rule keeps loading; such a name can then be removed only
// by deleting a parent directory.
FsStatus ValidateClientPath(std::string_view path);

// True if `name` is a valid single component (non-empty, <= 255 bytes, no '/', no NUL,
// not "." or "..").
bool IsValidComponent(std::string_view name);

// The canonical form of a valid path: no trailing slash except for the root.
// Precondition: ValidatePath(path).ok().
std::string NormalizePath(std::string_view path);

// Joins components into "/a/b/c" ("/" for none).
std::string JoinPath(const std::vector<std::string_view>& components, size_t count);

// "/a/b" + "c" -> "/a/b/c"; "/" + "c" -> "/c".
std::string ChildPath(std::string_view parent, std::string_view name);

}  // namespace qj::nn
