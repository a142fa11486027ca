#include "server/http/compression.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>

#include "server/http/ows.h"

namespace basalt::server {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Calls fn(element) for each comma-separated element of a list header.
template <typename Fn>
void ForEachElement(std::string_view list, Fn fn) {
  while (true) {
    const size_t comma = list.find(',');
    fn(list.substr(0, comma));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// ---- request decoding ----

// Two MiB of output at most per inflate call, so that a huge avail_out
// never overflows zlib's 32-bit counters.
constexpr size_t kMaxStep = size_t{1} << 21;
// First output buffer: a guess from the input size, at least this.
constexpr size_t kFirstBuffer = size_t{16} << 10;

// Inflates `in` (a gzip stream when `gzip`, else a zlib stream) into a
// buffer that never grows past limit = max_bytes + 1 bytes.
BodyDecode Inflate(std::string_view in, bool gzip, size_t max_bytes, char** buf, size_t* size) {
  const size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  z_stream zs{};
  // 15 + 16: a gzip wrapper only; 15: a zlib wrapper only (RFC 1950).
  if (inflateInit2(&zs, gzip ? 15 + 16 : 15) != Z_OK) return BodyDecode::kCorrupt;
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  size_t cap =
      std::min(limit, std::max(kFirstBuffer, in.size() < SIZE_MAX / 4 ? in.size() * 4 : 0));
  char* out = static_cast<char*>(std::malloc(cap));
  if (out == nullptr) return BodyDecode::kCorrupt;
  size_t produced = 0;
  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  size_t left = in.size();
  auto fail = [&](BodyDecode why) {
    std::free(out);
    return why;
  };
  while (true) {
    if (produced == cap) {
      if (cap == limit) return fail(BodyDecode::kTooLarge);
      const size_t grown = cap > limit / 2 ? limit : cap * 2;
      char* bigger = static_cast<char*>(std::realloc(out, grown));
      if (bigger == nullptr) return fail(BodyDecode::kCorrupt);
      out = bigger;
      cap = grown;
    }
    const uInt in_step = static_cast<uInt>(std::min(left, kMaxStep));
    const uInt out_step = static_cast<uInt>(std::min(cap - produced, kMaxStep));
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = in_step;
    zs.next_out = reinterpret_cast<Bytef*>(out + produced);
    zs.avail_out = out_step;
    const int ret = inflate(&zs, Z_NO_FLUSH);
    next += in_step - zs.avail_in;
    left -= in_step - zs.avail_in;
    produced += out_step - zs.avail_out;
    if (ret == Z_STREAM_END) {
      if (left == 0) break;
      // RFC 1952 2.2: a gzip file is a series of members. What follows must
      // be another member (junk fails its header check). One zlib stream
      // only: what follows it is an error.
      if (!gzip || inflateReset(&zs) != Z_OK) return fail(BodyDecode::kCorrupt);
      continue;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) return fail(BodyDecode::kCorrupt);
    // All input read, room left, and the stream has not ended: truncated
    // (or empty).
    if (left == 0 && zs.avail_in == 0 && zs.avail_out > 0) return fail(BodyDecode::kCorrupt);
  }
  if (produced > max_bytes) return fail(BodyDecode::kTooLarge);
  *buf = out;
  *size = produced;
  return BodyDecode::kOk;
}

// ---- Accept-Encoding ----

// A weight as DynamoDB (a JVM service: Float.parseFloat, as observed)
// accepts it: a decimal with optional sign, fraction and exponent, spaces
// around it ignored. False for anything else.
bool ParseWeight(std::string_view s, double* out) {
  s = TrimOws(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  *out = v;
  return true;
}

// The weight of one Accept-Encoding element's parameters (after the coding).
double Weight(std::string_view params) {
  for (size_t i = 0; i + 1 < params.size(); ++i) {
    if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
      std::string_view value = params.substr(i + 2);
      value = value.substr(0, value.find(';'));
      double q = 1;
      if (!ParseWeight(value, &q) || q != q) return 1;  // q != q: NaN
      return std::min(q, 1.0);
    }
  }
  return 1;
}

}  // namespace

BodyDecode DecodeRequestBody(const HttpRequest& req, size_t max_bytes, DecodedBody* out) {
  out->storage_.reset();
  out->view_ = {};
  const std::string& header = req.Header("content-encoding");
  if (header.empty()) {
    out->view_ = req.body;
    return BodyDecode::kOk;
  }
  int codings = 0;
  bool gzip = false;
  bool known = true;
  ForEachElement(header, [&](std::string_view element) {
    element = TrimOws(element);
    if (element.empty() || EqualsNoCase(element, "identity")) return;
    ++codings;
    if (EqualsNoCase(element, "gzip") || EqualsNoCase(element, "x-gzip")) {
      gzip = true;
    } else if (!EqualsNoCase(element, "deflate")) {
      known = false;
    }
  });
  if (codings == 0) {
    if (req.body.size() > max_bytes) return BodyDecode::kTooLarge;
    out->view_ = req.body;
    return BodyDecode::kOk;
  }
  if (codings > 1 || !known) return BodyDecode::kUnsupportedEncoding;
  char* buf = nullptr;
  size_t size = 0;
  const BodyDecode r = Inflate(req.body, gzip, max_bytes, &buf, &size);
  if (r != BodyDecode::kOk) return r;
  out->storage_.reset(buf);
  out->view_ = std::string_view(buf, size);
  return BodyDecode::kOk;
}

ContentCoding NegotiateContentCoding(std::string_view accept_encoding) {
  if (accept_encoding.empty() || accept_encoding == "identity") return ContentCoding::kIdentity;
  // Per coding: the best explicit weight and the position of its element.
  struct Seen {
    double q = -1;  // -1: not listed
    size_t pos = 0;
  };
  Seen gzip, deflate;
  double star = -1;
  size_t pos = 0;
  ForEachElement(accept_encoding, [&](std::string_view element) {
    ++pos;
    const size_t semi = element.find(';');
    const std::string_view coding = TrimOws(element.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1.0 : Weight(element.substr(semi + 1));
    Seen* seen = EqualsNoCase(coding, "gzip")      ? &gzip
                 : EqualsNoCase(coding, "deflate") ? &deflate
                                                   : nullptr;
    if (seen != nullptr) {
      if (q > seen->q) *seen = Seen{q, pos};
    } else if (coding == "*") {
      star = std::max(star, q);
    }
  });
  struct Choice {
    ContentCoding coding;
    double q;
    bool explicit_;
    size_t pos;
  };
  auto choice = [&](ContentCoding c, const Seen& s) {
    return s.q >= 0 ? Choice{c, s.q, true, s.pos} : Choice{c, star, false, SIZE_MAX};
  };
  const Choice g = choice(ContentCoding::kGzip, gzip);
  const Choice d = choice(ContentCoding::kDeflate, deflate);
  // gzip first: it wins every tie the rules below leave.
  const bool deflate_better =
      d.q > g.q || (d.q == g.q && (d.explicit_ != g.explicit_ ? d.explicit_ : d.pos < g.pos));
  const Choice& best = deflate_better ? d : g;
  return best.q > 0 ? best.coding : ContentCoding::kIdentity;
}

std::string_view ContentCodingName(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip:
      return "gzip";
    case ContentCoding::kDeflate:
      return "deflate";
    case ContentCoding::kIdentity:
      break;
  }
  return "";
}

bool Compress(ContentCoding coding, std::string_view in, std::string* out) {
  if (coding == ContentCoding::kIdentity) return false;
  z_stream zs{};
  const int bits = coding == ContentCoding::kGzip ? 15 + 16 : 15;
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  struct End {
    z_stream* zs;
    ~End() { deflateEnd(zs); }
  } end{&zs};
  // deflateBound is exact enough that one Z_FINISH call completes; the loop
  // below is only a guard (inputs over 4 GiB go in steps).
  out->resize(deflateBound(&zs, static_cast<uLong>(std::min<size_t>(in.size(), ULONG_MAX))));
  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  size_t left = in.size();
  size_t produced = 0;
  while (true) {
    if (produced == out->size()) out->resize(out->size() * 2 + 64);
    const uInt in_step = static_cast<uInt>(std::min<size_t>(left, UINT_MAX));
    const uInt out_step = static_cast<uInt>(std::min<size_t>(out->size() - produced, UINT_MAX));
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = in_step;
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    zs.avail_out = out_step;
    const int ret = deflate(&zs, left == in_step ? Z_FINISH : Z_NO_FLUSH);
    next += in_step - zs.avail_in;
    left -= in_step - zs.avail_in;
    produced += out_step - zs.avail_out;
    if (ret == Z_STREAM_END) break;
    if (ret != Z_OK && ret != Z_BUF_ERROR) return false;
  }
  out->resize(produced);
  return true;
}

void CompressResponse(ContentCoding coding, size_t min_bytes, HttpResponse* resp) {
  if (coding == ContentCoding::kIdentity || resp->body.size() < min_bytes) return;
  for (const auto& [name, value] : resp->headers) {
    if (EqualsNoCase(name, "content-encoding")) return;
  }
  std::string compressed;
  if (!Compress(coding, resp->body, &compressed) || compressed.size() >= resp->body.size()) return;
  resp->body = std::move(compressed);
  resp->headers.emplace_back("Content-Encoding", std::string(ContentCodingName(coding)));
}

}  // namespace basalt::server
