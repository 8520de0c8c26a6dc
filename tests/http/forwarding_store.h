// ForwardingStore passes every call to another Store, except where a test
// injects a failure: CheckWritable() and GetSession() can be made to fail,
// to check /readyz and the error mapping of internal failures, and appends
// can be delayed or held (a slow or stalled fsync).
//
// Thread-safety: as the wrapped store; set the failures before serving.

#ifndef ACPSTORE_TESTS_HTTP_FORWARDING_STORE_H_
#define ACPSTORE_TESTS_HTTP_FORWARDING_STORE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "acpstore/store.h"

namespace acpstore::testing {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(std::unique_ptr<Store> inner)
      : s_(std::move(inner)) {}

  void FailWritable(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    writable_ = std::move(s);
  }
  void FailGetSession(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    get_ = std::move(s);
  }
  // Appends complete `ms` later on another thread, like a slow fsync.
  void DelayAppends(int ms) { delay_ms_ = ms; }
  // From now on appends are held here, like a stalled fsync: they reach this
  // store, which owes their completions until ReleaseAppends().
  void HoldAppends() {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = true;
  }
  // Appends held so far and not yet released.
  size_t HeldAppends() {
    std::lock_guard<std::mutex> l(mu_);
    return held_.size();
  }
  // Stops holding and passes every held append on, in arrival order.
  void ReleaseAppends() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard<std::mutex> l(mu_);
      hold_ = false;
      held.swap(held_);
    }
    for (auto& f : held) f();
  }
  // Releases what is still held, then waits for delayed completions.
  ~ForwardingStore() override {
    ReleaseAppends();
    for (std::thread& t : delayed_) t.join();
  }

  void CreateSession(const Scope& sc, NewSession r,
                     Completion<Session> d) override {
    s_->CreateSession(sc, std::move(r), std::move(d));
  }
  Result<Session> GetSession(const Scope& sc, std::string_view id) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!get_.ok()) return get_;
    }
    return s_->GetSession(sc, id);
  }
  Result<SessionPage> ListSessions(const Scope& sc,
                                   const SessionQuery& q) override {
    return s_->ListSessions(sc, q);
  }
  void UpdateSession(const Scope& sc, std::string_view id, SessionPatch p,
                     Completion<Session> d) override {
    s_->UpdateSession(sc, id, std::move(p), std::move(d));
  }
  void TransitionSession(const Scope& sc, std::string_view id, SessionEvent e,
                         Completion<Session> d) override {
    s_->TransitionSession(sc, id, e, std::move(d));
  }
  void DeleteSession(const Scope& sc, std::string_view id,
                     StatusCompletion d) override {
    s_->DeleteSession(sc, id, std::move(d));
  }
  void AppendEvents(const Scope& sc, std::string_view id, AppendRequest r,
                    Completion<AppendResult> d) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (hold_) {
        held_.push_back([this, sc, id = std::string(id), r = std::move(r),
                         d = std::move(d)]() mutable {
          s_->AppendEvents(sc, id, std::move(r), std::move(d));
        });
        return;
      }
    }
    const int delay = delay_ms_.load();
    if (delay == 0) return s_->AppendEvents(sc, id, std::move(r), std::move(d));
    s_->AppendEvents(
        sc, id, std::move(r),
        [this, delay, d = std::move(d)](Result<AppendResult> res) {
          std::lock_guard<std::mutex> l(mu_);
          delayed_.emplace_back([delay, d, res = std::move(res)]() mutable {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
            d(std::move(res));
          });
        });
  }
  Result<EventPage> ListEvents(const Scope& sc, std::string_view id, EventSeq a,
                               uint32_t l) override {
    return s_->ListEvents(sc, id, a, l);
  }
  Result<TranscriptPage> ReadTranscript(const Scope& sc, std::string_view id,
                                        const TranscriptQuery& q) override {
    return s_->ReadTranscript(sc, id, q);
  }
  Result<std::unique_ptr<Subscription>> Subscribe(const Scope& sc,
                                                  std::string_view id,
                                                  SubscribeOptions o) override {
    return s_->Subscribe(sc, id, std::move(o));
  }
  void EnqueueAction(const Scope& sc, NewAction r,
                     Completion<EnqueueResult> d) override {
    s_->EnqueueAction(sc, std::move(r), std::move(d));
  }
  Result<Action> GetAction(const Scope& sc, std::string_view id) override {
    return s_->GetAction(sc, id);
  }
  Result<ActionPage> ListActions(const Scope& sc,
                                 const ActionQuery& q) override {
    return s_->ListActions(sc, q);
  }
  void LeaseAction(const Scope& sc, LeaseRequest r,
                   Completion<std::optional<Action>> d) override {
    s_->LeaseAction(sc, std::move(r), std::move(d));
  }
  void HeartbeatAction(const Scope& sc, std::string_view id, std::string_view t,
                       int64_t ms, Completion<Action> d) override {
    s_->HeartbeatAction(sc, id, t, ms, std::move(d));
  }
  void CompleteAction(const Scope& sc, std::string_view id, std::string_view t,
                      std::optional<std::string> m,
                      Completion<Action> d) override {
    s_->CompleteAction(sc, id, t, std::move(m), std::move(d));
  }
  void FailAction(const Scope& sc, std::string_view id, std::string_view t,
                  std::optional<std::string> m, bool retry,
                  Completion<Action> d) override {
    s_->FailAction(sc, id, t, std::move(m), retry, std::move(d));
  }
  void CancelAction(const Scope& sc, std::string_view id,
                    std::optional<std::string> m,
                    Completion<Action> d) override {
    s_->CancelAction(sc, id, std::move(m), std::move(d));
  }
  void PauseSession(const Scope& sc, std::string_view id, PauseRequest r,
                    Completion<PauseResult> d) override {
    s_->PauseSession(sc, id, std::move(r), std::move(d));
  }
  void StartIntervention(const Scope& sc, std::string_view id,
                         InterventionStartRequest r,
                         Completion<PauseResult> d) override {
    s_->StartIntervention(sc, id, std::move(r), std::move(d));
  }
  void CompleteIntervention(const Scope& sc, std::string_view id,
                            InterventionCompleteRequest r,
                            Completion<PauseResult> d) override {
    s_->CompleteIntervention(sc, id, std::move(r), std::move(d));
  }
  void ResumeSession(const Scope& sc, std::string_view id, ResumeRequest r,
                     Completion<PauseResult> d) override {
    s_->ResumeSession(sc, id, std::move(r), std::move(d));
  }
  Result<Pause> GetPause(const Scope& sc, std::string_view id) override {
    return s_->GetPause(sc, id);
  }
  void RunMaintenance(Completion<MaintenanceReport> d) override {
    s_->RunMaintenance(std::move(d));
  }
  StoreStats Stats() override {
    StoreStats st = s_->Stats();
    if (data_loss_reads_ > 0) st.data_loss_reads = data_loss_reads_;
    return st;
  }
  void SetDataLossReads(uint64_t n) { data_loss_reads_ = n; }
  Status CheckWritable() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!writable_.ok()) return writable_;
    }
    return s_->CheckWritable();
  }

 private:
  std::unique_ptr<Store> s_;
  std::mutex mu_;
  Status writable_;
  Status get_;
  std::atomic<int> delay_ms_{0};
  std::atomic<uint64_t> data_loss_reads_{0};
  std::vector<std::thread> delayed_;  // guarded by mu_
  bool hold_ = false;                 // guarded by mu_
  std::vector<std::function<void()>> held_;  // guarded by mu_
};

}  // namespace acpstore::testing

#endif  // ACPSTORE_TESTS_HTTP_FORWARDING_STORE_H_
