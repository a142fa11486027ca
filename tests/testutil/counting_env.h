// CountingEnv: an EnvWrapper that counts RandomAccessFile::Read calls and
// bytes, to show how many I/Os a read path issues (read-ahead, MultiGet
// dedup). Its files have no ReadBatcher, so MultiRead and MultiReadFiles go
// through Read and every request is counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/io/env.h"

namespace basalt::test {

class CountingEnv : public io::EnvWrapper {
 public:
  explicit CountingEnv(io::Env* target) : io::EnvWrapper(target) {}

  Status NewRandomAccessFile(const std::string& p,
                             std::unique_ptr<io::RandomAccessFile>* r) override {
    return Wrap(target()->NewRandomAccessFile(p, r), r);
  }
  Status NewDirectRandomAccessFile(const std::string& p,
                                   std::unique_ptr<io::RandomAccessFile>* r) override {
    return Wrap(target()->NewDirectRandomAccessFile(p, r), r);
  }

  uint64_t reads() const { return reads_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  void Reset() {
    reads_.store(0);
    bytes_.store(0);
  }

 private:
  class File : public io::RandomAccessFile {
   public:
    File(std::unique_ptr<io::RandomAccessFile> base, CountingEnv* env)
        : base_(std::move(base)), env_(env) {}
    Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
      env_->reads_.fetch_add(1);
      env_->bytes_.fetch_add(n);
      return base_->Read(offset, n, scratch, result);
    }
    uint64_t Size() const override { return base_->Size(); }

   private:
    std::unique_ptr<io::RandomAccessFile> base_;
    CountingEnv* env_;
  };

  Status Wrap(Status s, std::unique_ptr<io::RandomAccessFile>* r) {
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), this);
    return s;
  }

  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace basalt::test
