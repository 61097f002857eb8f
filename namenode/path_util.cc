#include "namenode/path_util.h"

#include <cstdio>

namespace qj::nn {
namespace {

FsStatus Invalid(std::string_view path, const std::string& why) {
  // Paths can be huge or hold NULs and control characters; keep the message readable.
  std::string shown(path.substr(0, 200));
  for (char& c : shown) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  if (path.size() > 200) shown += "...";
  return FsStatus(FsError::kInvalidPath, "invalid path '" + shown + "': " + why);
}

}  // namespace

bool IsValidComponent(std::string_view name) {
  if (name.empty() || name.size() > kMaxComponentLength) return false;
  if (name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\0') return false;
  }
  return true;
}

FsStatus SplitPath(std::string_view path, std::vector<std::string_view>* components) {
  components->clear();
  if (path.empty()) return Invalid(path, "empty path");
  if (path[0] != '/') return Invalid(path, "not absolute (must start with '/')");
  if (path.size() > kMaxPathLength) {
    return Invalid(path, "longer than " + std::to_string(kMaxPathLength) + " bytes");
  }
  // One trailing slash is allowed (except that "/" is the root itself).
  std::string_view rest = path.substr(1);
  if (rest.empty()) return FsStatus::OK();
  if (rest.back() == '/') {
    rest.remove_suffix(1);
    if (rest.empty()) return Invalid(path, "empty component ('//')");
  }
  size_t start = 0;
  while (true) {
    size_t slash = rest.find('/', start);
    std::string_view comp = rest.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (comp.empty()) return Invalid(path, "empty component ('//')");
    if (comp == "." || comp == "..") {
      return Invalid(path, "component '" + std::string(comp) + "' is not allowed");
    }
    if (comp.size() > kMaxComponentLength) {
      return Invalid(
          path, "a component is longer than " + std::to_string(kMaxComponentLength) + " bytes");
    }
    if (comp.find('\0') != std::string_view::npos) return Invalid(path, "contains a NUL byte");
    if (components->size() >= kMaxPathDepth) {
      return Invalid(path, "deeper than " + std::to_string(kMaxPathDepth) + " components");
    }
    components->push_back(comp);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return FsStatus::OK();
}

FsStatus ValidatePath(std::string_view path) {
  std::vector<std::string_view> comps;
  return SplitPath(path, &comps);
}

FsStatus ValidateClientPath(std::string_view path) {
  QJ_FS_RETURN_IF_ERROR(ValidatePath(path));
  for (size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", c);
      return Invalid(path,
                     std::string("control character ") + hex + " at byte " + std::to_string(i));
    }
  }
  return FsStatus::OK();
}

std::string NormalizePath(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

std::string JoinPath(const std::vector<std::string_view>& components, size_t count) {
  if (count == 0) return "/";
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    out += '/';
    out.append(components[i].data(), components[i].size());
  }
  return out;
}

std::string ChildPath(std::string_view parent, std::string_view name) {
  std::string out(parent);
  if (out.empty() || out.back() != '/') out += '/';
  out.append(name.data(), name.size());
  return out;
}

}  // namespace qj::nn
