#include "server/export/layout.h"

#include <dirent.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "engine/base/base64.h"
#include "server/export/attribute_json.h"
#include "server/export/file_io.h"

namespace basalt::server::exports {

namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// realpath of the nearest existing ancestor of path (path itself if it exists).
bool RealOfExisting(std::string path, std::string* out) {
  while (true) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) != nullptr) {
      *out = buf;
      return true;
    }
    if (errno != ENOENT && errno != ENOTDIR) return false;
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
      path = slash == 0 ? "/" : ".";
    } else {
      path.resize(slash);
    }
  }
}

}  // namespace

Status CheckInsideRoot(const std::string& root, const std::string& path) {
  std::string real_root;
  std::string real_path;
  if (!RealOfExisting(root, &real_root) || !RealOfExisting(path, &real_path)) {
    return Status::InvalidArgument("cannot resolve the path under the export root");
  }
  if (real_path != real_root && !real_path.starts_with(real_root + "/")) {
    return Status::InvalidArgument("the S3 location resolves outside the server's export root");
  }
  return Status::OK();
}

Status ResolveUnderRoot(const std::string& root, std::string_view bucket, std::string_view prefix,
                        std::string* dir) {
  if (bucket.empty() || bucket == "." || bucket == ".." ||
      bucket.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("the S3 bucket name is not a single path component");
  }
  if (prefix.starts_with('/')) {
    return Status::InvalidArgument("an absolute S3 prefix would leave the server's export root");
  }
  std::string out = root;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  out += "/";
  out += bucket;
  size_t start = 0;
  while (start <= prefix.size()) {
    size_t end = prefix.find('/', start);
    if (end == std::string_view::npos) end = prefix.size();
    const std::string_view part = prefix.substr(start, end - start);
    if (part == "..") {
      return Status::InvalidArgument("an S3 prefix with '..' would leave the server's export root");
    }
    if (part.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("the S3 prefix holds a NUL character");
    }
    if (!part.empty() && part != ".") {
      out += "/";
      out += part;
    }
    start = end + 1;
  }
  if (Status s = CheckInsideRoot(root, out); !s.ok()) return s;
  *dir = std::move(out);
  return Status::OK();
}

Status MakeDirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::OK() : Status::IOError("not a directory: " + dir);
  }
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (Status s = MakeDirs(dir.substr(0, slash)); !s.ok()) return s;
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create directory " + dir + ": " + std::strerror(errno));
  }
  return slash != std::string::npos && slash > 0 ? SyncDir(dir.substr(0, slash)) : Status::OK();
}

std::string NewJobId(uint64_t now_ms) {
  return fmt::format("{:014}-{:08x}", now_ms, static_cast<uint32_t>(Rng()()));
}

std::string RandomFileName() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string s(26, 'a');
  for (char& c : s) c = kAlphabet[Rng()() % 32];
  return s;
}

std::string KeyPrefix(std::string_view prefix) {
  if (prefix.empty()) return "";
  std::string p(prefix);
  if (!p.ends_with('/')) p += '/';
  return p;
}

std::string IsoTime(uint64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string HexOfBase64Md5(const std::string& md5_base64) {
  std::string raw;
  if (!Base64Decode(md5_base64, &raw)) return "";
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  return hex;
}

std::string ManifestFilesJson(const std::vector<DataFileInfo>& files) {
  std::string out;
  for (const DataFileInfo& f : files) {
    boost::json::object o;
    o["itemCount"] = f.item_count;
    o["md5Checksum"] = f.md5;
    o["etag"] = f.etag;
    o["dataFileS3Key"] = f.key;
    out += boost::json::serialize(o);
    out += '\n';
  }
  return out;
}

namespace {
Status Walk(const std::string& bucket_dir, const std::string& rel, std::string_view key_prefix,
            size_t max_files, std::vector<std::string>* keys) {
  const std::string dir = rel.empty() ? bucket_dir : bucket_dir + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return Status::IOError("cannot list " + dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string key = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    if (::lstat((bucket_dir + "/" + key).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      // Only directories whose keys can still match the prefix.
      const std::string as_prefix = key + "/";
      if (!as_prefix.starts_with(key_prefix) && !key_prefix.starts_with(as_prefix)) continue;
      if (Status s = Walk(bucket_dir, key, key_prefix, max_files, keys); !s.ok()) return s;
    } else if (S_ISREG(st.st_mode) && key.starts_with(key_prefix)) {
      if (keys->size() >= max_files) {
        return Status::InvalidArgument(
            fmt::format("more than {} objects match the S3 key prefix", max_files));
      }
      keys->push_back(key);
    }
  }
  return Status::OK();
}
}  // namespace

Status ListObjects(const std::string& bucket_dir, std::string_view key_prefix, size_t max_files,
                   std::vector<std::string>* keys) {
  keys->clear();
  return Walk(bucket_dir, "", key_prefix, max_files, keys);
}

}  // namespace basalt::server::exports
