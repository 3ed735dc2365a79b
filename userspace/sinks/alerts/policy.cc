#include "userspace/sinks/alerts/policy.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gridprobe::alerts {

Verdict Judge(const AttemptResult& r) {
  if (r.exit_status.has_value()) {
    return *r.exit_status == 0 ? Verdict::kDelivered : Verdict::kReject;
  }
  if (r.status >= 200 && r.status < 300) return Verdict::kDelivered;
  if (r.status == 0 || r.timed_out) return Verdict::kRetry;
  if (r.status == 408 || r.status == 429 || r.status >= 500) return Verdict::kRetry;
  return Verdict::kReject;
}

absl::Duration Backoff(int attempt, absl::Duration base, absl::Duration cap,
                       const std::function<double()>& unit) {
  absl::Duration ceiling = base;
  for (int i = 1; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  return ceiling * std::clamp(unit(), 0.0, 1.0);
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now,
                                              absl::Duration cap) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  absl::Duration wait;
  double seconds = 0;
  if (absl::SimpleAtod(value, &seconds)) {
    if (!std::isfinite(seconds)) return std::nullopt;
    wait = absl::Seconds(std::max(0.0, std::min(seconds, absl::ToDoubleSeconds(cap))));
  } else {
    absl::Time when;
    std::string err;
    // IMF-fixdate, the form RFC 9110 requires senders to use.
    if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), &when, &err)) {
      return std::nullopt;
    }
    wait = std::max(absl::ZeroDuration(), when - now);
  }
  return std::min(wait, cap);
}

void Redactor::Add(const std::string& secret) {
  if (secret.size() < 4) return;  // would blank ordinary words
  secrets_.push_back(secret);
  // What a receiver echoes may be URL-encoded.
  std::string encoded;
  for (unsigned char c : secret) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      static const char* kHex = "0123456789ABCDEF";
      encoded += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  if (encoded != secret) secrets_.push_back(encoded);
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Redactor::AddUrl(const std::string& url) {
  absl::string_view rest = url;
  size_t scheme = rest.find("://");
  if (scheme != absl::string_view::npos) rest.remove_prefix(scheme + 3);
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    if (colon != absl::string_view::npos) Add(std::string(userinfo.substr(colon + 1)));
    Add(std::string(userinfo));
  }
  size_t q = rest.find('?');
  if (q != absl::string_view::npos) {
    for (absl::string_view kv : absl::StrSplit(rest.substr(q + 1), '&')) {
      size_t eq = kv.find('=');
      if (eq != absl::string_view::npos) Add(std::string(kv.substr(eq + 1)));
    }
  }
}

std::string Redactor::operator()(absl::string_view text) const {
  std::string out(text);
  for (const std::string& s : secrets_) out = absl::StrReplaceAll(out, {{s, "[redacted]"}});
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  out = std::string(absl::StripAsciiWhitespace(out));
  if (out.size() > 300) out = out.substr(0, 297) + "...";
  return out;
}

std::string ShowUrl(absl::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return "(url)";
  absl::string_view rest = url.substr(scheme + 3);
  absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
  return std::string(url.substr(0, scheme + 3)) + std::string(authority);
}

std::string HmacSha256Hex(absl::string_view key, absl::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), static_cast<size_t>(len)));
}

}  // namespace gridprobe::alerts
