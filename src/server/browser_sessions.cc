// Browser sessions. See browser_sessions.h.

#include "server/browser_sessions.h"

#include <utility>

#include "auth/token.h"
#include "base/uuid.h"

namespace acpstore::server {
namespace {

std::string DigestKey(std::string_view secret) {
  const auth::Digest d = auth::Sha256(secret);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// 256 bits: two independent 128-bit draws from getrandom (as API tokens).
std::string NewSecret() { return base::RandomHex128() + base::RandomHex128(); }

}  // namespace

bool IsBrowserSessionSecret(std::string_view s) {
  if (s.size() != BrowserSessions::kSecretHexChars) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

BrowserSessions::BrowserSessions(const BrowserSessionOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()) {}

void BrowserSessions::DropExpiredLocked(TimestampMs now) {
  for (auto it = by_digest_.begin(); it != by_digest_.end();) {
    it = it->second.expires_at <= now ? by_digest_.erase(it) : std::next(it);
  }
}

size_t BrowserSessions::CountKeyLocked(std::string_view key_id,
                                       std::string* oldest) {
  size_t n = 0;
  uint64_t oldest_serial = 0;
  for (const auto& [digest, e] : by_digest_) {
    if (e.principal.key_id != key_id) continue;
    if (n == 0 || e.serial < oldest_serial) {
      oldest_serial = e.serial;
      *oldest = digest;
    }
    ++n;
  }
  return n;
}

Result<IssuedBrowserSession> BrowserSessions::Create(
    const auth::Principal& principal) {
  const TimestampMs now = clock_->NowMs();
  IssuedBrowserSession out;
  out.secret = NewSecret();
  out.csrf = NewSecret();
  out.expires_at = now + options_.ttl_ms;
  Entry e;
  e.principal = principal;
  e.csrf_digest = auth::Sha256(out.csrf);
  e.expires_at = out.expires_at;

  std::lock_guard<std::mutex> lock(mu_);
  e.serial = next_serial_++;
  std::string oldest;
  if (CountKeyLocked(principal.key_id, &oldest) >= options_.max_per_key) {
    by_digest_.erase(oldest);
  }
  if (by_digest_.size() >= options_.max_sessions) DropExpiredLocked(now);
  if (by_digest_.size() >= options_.max_sessions) {
    return Status::ResourceExhausted(
        "too many browser sessions on this server (" +
        std::to_string(options_.max_sessions) + "); retry later");
  }
  by_digest_.emplace(DigestKey(out.secret), std::move(e));
  return out;
}

Result<FoundBrowserSession> BrowserSessions::Find(std::string_view secret) {
  if (!IsBrowserSessionSecret(secret)) {
    return Status::Unauthenticated("malformed session cookie");
  }
  const std::string key = DigestKey(secret);
  const TimestampMs now = clock_->NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_digest_.find(key);
  if (it == by_digest_.end()) {
    return Status::Unauthenticated(
        "unknown session: signed out, expired or from before a restart; "
        "sign in again");
  }
  if (it->second.expires_at <= now) {
    by_digest_.erase(it);
    return Status::Unauthenticated("session expired; sign in again");
  }
  return FoundBrowserSession{it->second.principal, it->second.csrf_digest,
                             it->second.expires_at};
}

bool BrowserSessions::CsrfMatches(const FoundBrowserSession& session,
                                  std::string_view csrf) {
  if (!IsBrowserSessionSecret(csrf)) return false;
  return auth::DigestsEqual(auth::Sha256(csrf), session.csrf_digest);
}

bool BrowserSessions::Remove(std::string_view secret) {
  if (!IsBrowserSessionSecret(secret)) return false;
  const std::string key = DigestKey(secret);
  std::lock_guard<std::mutex> lock(mu_);
  if (by_digest_.erase(key) == 0) return false;
  revision_.fetch_add(1);
  return true;
}

Result<FoundBrowserSession> BrowserSessions::FindLive(
    std::string_view secret, auth::Authenticator& authn) {
  Result<FoundBrowserSession> session = Find(secret);
  if (!session.ok()) return session;
  Result<auth::Principal> live = authn.PrincipalOfKey(session->principal.key_id);
  if (!live.ok()) {
    if (live.error().code() != StatusCode::kUnauthenticated) {
      return live.error();  // the key store failed
    }
    RemoveKey(session->principal.key_id);
    return Status::Unauthenticated(
        "this session's API key was revoked; sign in again");
  }
  return session;
}

size_t BrowserSessions::RemoveKey(std::string_view key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto it = by_digest_.begin(); it != by_digest_.end();) {
    if (it->second.principal.key_id == key_id) {
      it = by_digest_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  if (n > 0) revision_.fetch_add(1);
  return n;
}

size_t BrowserSessions::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return by_digest_.size();
}

}  // namespace acpstore::server
