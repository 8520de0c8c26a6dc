// BrowserSessions: the server's sign-in sessions for browsers (SPEC §12).
//
// A browser cannot send `Authorization` on an EventSource, so
// POST /v1/auth/session trades a bearer token for a session: a random
// secret (the cookie's value) and a CSRF token (in the JSON reply), both
// 256 bits from the same generator as API keys (base::RandomHex128, i.e.
// getrandom). Only SHA-256 of each is kept, in memory: a dump of this
// process's memory or a log line never holds a usable cookie. A session
// stands for exactly its key's Principal and ends at the first of: its
// expiry (ttl_ms after sign-in), sign-out, its key's revocation (FindLive
// asks the Authenticator about the key on every use), eviction by
// a newer session of the same key past max_per_key, or a server restart.
//
// Caps: at most max_sessions live sessions (sign-in beyond answers 429
// after expired ones are dropped); at most max_per_key per API key (the
// oldest of that key is ended to make room, so signing in again always
// works). Decision: docs/decisions/0014-browser-sessions-and-cors.md.
//
// Thread-safety: every method may be called from any thread (one mutex;
// each call is a hash lookup). Lifetime: borrows the Clock.

#ifndef ACPSTORE_SERVER_BROWSER_SESSIONS_H_
#define ACPSTORE_SERVER_BROWSER_SESSIONS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "acpstore/clock.h"
#include "acpstore/result.h"
#include "auth/principal.h"

namespace acpstore::server {

struct BrowserSessionOptions {
  int64_t ttl_ms = int64_t{12} * 3600 * 1000;  // --ui-session-ttl. Default 12 h.
  size_t max_sessions = 10000;        // live sessions, all keys
  size_t max_per_key = 16;            // the oldest of a key is ended beyond
  Clock* clock = nullptr;             // nullptr: SystemClock()
};

// The two secrets of a new session: shown once, to the signing-in client.
struct IssuedBrowserSession {
  std::string secret;  // the cookie value: 64 lowercase hex characters
  std::string csrf;    // the X-CSRF-Token value: 64 lowercase hex characters
  TimestampMs expires_at = 0;
};

struct FoundBrowserSession {
  auth::Principal principal;
  std::array<uint8_t, 32> csrf_digest{};
  TimestampMs expires_at = 0;
};

class BrowserSessions {
 public:
  static constexpr size_t kSecretHexChars = 64;

  explicit BrowserSessions(const BrowserSessionOptions& options);

  // kResourceExhausted when max_sessions live sessions exist.
  Result<IssuedBrowserSession> Create(const auth::Principal& principal);
  // kUnauthenticated for a malformed, unknown, signed-out or expired
  // secret (an expired one is dropped here). Never quotes the secret.
  Result<FoundBrowserSession> Find(std::string_view secret);
  // Find, then the key's revocation: `authn` must still vouch for the
  // session's key (another server's revocation arrives with the key
  // store's reload). A revoked key ends all its sessions here
  // (kUnauthenticated "... revoked; sign in again"); the key store's own
  // failures are returned as they are. Every use of a session goes
  // through this: each request (Router) and each live stream's re-check.
  Result<FoundBrowserSession> FindLive(std::string_view secret,
                                       auth::Authenticator& authn);
  // True when `csrf` is the session's CSRF token (constant-time compare of
  // digests).
  static bool CsrfMatches(const FoundBrowserSession& session,
                          std::string_view csrf);
  // Sign-out. False when there was no such session.
  bool Remove(std::string_view secret);
  // Ends every session of `key_id` (its key was revoked). Returns how many.
  size_t RemoveKey(std::string_view key_id);
  size_t size();
  // Moves at every sign-out and key removal above, so live streams of a
  // removed session re-check it (sse_auth_watch.h). Any thread.
  uint64_t revision() const { return revision_.load(); }

 private:
  struct Entry {
    auth::Principal principal;
    std::array<uint8_t, 32> csrf_digest{};
    uint64_t serial = 0;  // creation order (ties in time broken)
    TimestampMs expires_at = 0;
  };
  // Drops expired sessions. Caller holds mu_.
  void DropExpiredLocked(TimestampMs now);
  size_t CountKeyLocked(std::string_view key_id, std::string* oldest);

  const BrowserSessionOptions options_;
  Clock* const clock_;
  std::mutex mu_;
  std::atomic<uint64_t> revision_{0};
  uint64_t next_serial_ = 0;  // under mu_
  // By the raw bytes of SHA-256(secret): looking a secret up reveals
  // nothing about it through timing.
  std::unordered_map<std::string, Entry> by_digest_;
};

// True for exactly 64 lowercase hex characters.
bool IsBrowserSessionSecret(std::string_view s);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_BROWSER_SESSIONS_H_
