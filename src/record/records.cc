// Wire names of the record enums (SPEC §2) and Event::EventId.
//
// Each enum has one name table; ToString and Parse* both read it, so the
// two directions cannot drift apart. The names are part of the HTTP
// contract and the journal: never rename one.
//
// Thread-safety: pure functions over constant tables.

#include <array>
#include <string>

#include "acpstore/records.h"

namespace acpstore {
namespace {

constexpr std::array<std::string_view, 8> kSessionStatusNames = {
    "initializing", "idle", "running", "paused",
    "intervening",  "closing", "closed", "failed"};

constexpr std::array<std::string_view, 10> kSessionEventNames = {
    "agent_ready",           "run_started",
    "run_completed",         "pause_requested",
    "intervention_started",  "intervention_completed",
    "resume_requested",      "close_requested",
    "close_completed",       "runtime_failed"};

constexpr std::array<std::string_view, 9> kActionTypeNames = {
    "prompt", "approve",         "reject",    "pause", "resume",
    "cancel", "driver_transfer", "intervene", "close"};

constexpr std::array<std::string_view, 5> kActionStatusNames = {
    "queued", "leased", "completed", "failed", "cancelled"};

constexpr std::array<std::string_view, 3> kPauseStatusNames = {
    "paused", "intervening", "resumed"};

// The last enumerator of each enum must be the last name of its table.
static_assert(kSessionStatusNames.size() ==
              static_cast<size_t>(SessionStatus::kFailed) + 1);
static_assert(kSessionEventNames.size() ==
              static_cast<size_t>(SessionEvent::kRuntimeFailed) + 1);
static_assert(kActionTypeNames.size() ==
              static_cast<size_t>(ActionType::kClose) + 1);
static_assert(kActionStatusNames.size() ==
              static_cast<size_t>(ActionStatus::kCancelled) + 1);
static_assert(kPauseStatusNames.size() ==
              static_cast<size_t>(PauseStatus::kResumed) + 1);

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names,
                        Enum value) {
  const auto i = static_cast<size_t>(value);
  // Out-of-range values only come from memory corruption or a bad cast.
  return i < N ? names[i] : std::string_view("unknown");
}

template <typename Enum, size_t N>
std::optional<Enum> Parse(const std::array<std::string_view, N>& names,
                          std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(SessionStatus status) {
  return NameOf(kSessionStatusNames, status);
}
std::string_view ToString(SessionEvent event) {
  return NameOf(kSessionEventNames, event);
}
std::string_view ToString(ActionType type) {
  return NameOf(kActionTypeNames, type);
}
std::string_view ToString(ActionStatus status) {
  return NameOf(kActionStatusNames, status);
}
std::string_view ToString(PauseStatus status) {
  return NameOf(kPauseStatusNames, status);
}

std::optional<SessionStatus> ParseSessionStatus(std::string_view name) {
  return Parse<SessionStatus>(kSessionStatusNames, name);
}
std::optional<SessionEvent> ParseSessionEvent(std::string_view name) {
  return Parse<SessionEvent>(kSessionEventNames, name);
}
std::optional<ActionType> ParseActionType(std::string_view name) {
  return Parse<ActionType>(kActionTypeNames, name);
}
std::optional<ActionStatus> ParseActionStatus(std::string_view name) {
  return Parse<ActionStatus>(kActionStatusNames, name);
}
std::optional<PauseStatus> ParsePauseStatus(std::string_view name) {
  return Parse<PauseStatus>(kPauseStatusNames, name);
}

std::string Event::EventId() const {
  std::string id;
  const std::string seq_text = std::to_string(seq);
  id.reserve(tenant_id.size() + owner_key_id.size() + session_id.size() +
             seq_text.size() + 3);
  id.append(tenant_id).append(1, ':').append(owner_key_id).append(1, ':');
  id.append(session_id).append(1, ':').append(seq_text);
  return id;
}

}  // namespace acpstore
