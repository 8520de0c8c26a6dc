// The session lifecycle table of SPEC §2.1.
//
// The table is the single source of truth: one row per event, naming every
// status it is allowed from and the status it leads to. Everything else is
// kInvalidTransition. Thread-safety: pure functions over a constant table.

#include "record/state_machine.h"

#include <array>
#include <initializer_list>
#include <string>

namespace acpstore::record {
namespace {

using S = SessionStatus;
using E = SessionEvent;

struct Row {
  E event;
  uint32_t from_mask;  // bit i set: allowed from SessionStatus(i)
  S to;
};

constexpr uint32_t Mask(std::initializer_list<S> statuses) {
  uint32_t m = 0;
  for (S s : statuses) m |= 1u << static_cast<unsigned>(s);
  return m;
}

constexpr uint32_t kActive =
    Mask({S::kInitializing, S::kIdle, S::kRunning, S::kPaused, S::kIntervening});

// SPEC §2.1, row for row.
constexpr std::array<Row, 10> kTable = {{
    {E::kAgentReady, Mask({S::kInitializing}), S::kIdle},
    {E::kRunStarted, Mask({S::kInitializing, S::kIdle, S::kIntervening}),
     S::kRunning},
    {E::kRunCompleted, Mask({S::kRunning, S::kIntervening}), S::kIdle},
    {E::kPauseRequested, Mask({S::kRunning}), S::kPaused},
    {E::kInterventionStarted, Mask({S::kPaused}), S::kIntervening},
    {E::kInterventionCompleted, Mask({S::kIntervening}), S::kPaused},
    {E::kResumeRequested, Mask({S::kPaused, S::kIntervening}), S::kRunning},
    {E::kCloseRequested, kActive, S::kClosing},
    {E::kCloseCompleted, Mask({S::kClosing}), S::kClosed},
    {E::kRuntimeFailed, kActive | Mask({S::kClosing}), S::kFailed},
}};

// The table is indexed by event; keep it in enum order.
constexpr bool TableInEnumOrder() {
  for (size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<size_t>(kTable[i].event) != i) return false;
  }
  return true;
}
static_assert(TableInEnumOrder());

}  // namespace

Result<SessionStatus> NextStatus(SessionStatus from, SessionEvent event) {
  const auto e = static_cast<size_t>(event);
  if (e < kTable.size() &&
      (kTable[e].from_mask & (1u << static_cast<unsigned>(from))) != 0) {
    return kTable[e].to;
  }
  std::string message = "event ";
  message.append(ToString(event));
  message.append(" is not allowed in status ");
  message.append(ToString(from));
  return Status::InvalidTransition(message)
      .With("status", ToString(from))
      .With("event", ToString(event));
}

std::optional<SessionEvent> EventTo(SessionStatus from, SessionStatus to) {
  std::optional<SessionEvent> found;
  for (const Row& row : kTable) {
    if (row.to != to ||
        (row.from_mask & (1u << static_cast<unsigned>(from))) == 0) {
      continue;
    }
    if (!found || row.event == SessionEvent::kResumeRequested) {
      found = row.event;
    }
  }
  return found;
}

bool IsActive(SessionStatus status) {
  return (kActive & (1u << static_cast<unsigned>(status))) != 0;
}

}  // namespace acpstore::record
