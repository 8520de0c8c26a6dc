// README's "Using the library", word for word: one session, one event, on
// the memory engine. Exits 0 only if the event got seq 1 (ctest
// install_example builds it against an installed acpstore and runs it).
#include "acpstore/blocking_store.h"

int main() {
  acpstore::StoreOptions options;  // every default is documented in options.h
  options.engine = acpstore::Engine::kMemory;
  auto store = acpstore::OpenStore(options).value();
  acpstore::BlockingStore db(*store);

  acpstore::Scope scope{.tenant_id = "acme", .owner_key_id = "key-1"};
  auto session = db.CreateSession(scope, {}).value();
  auto event = db.Append(scope, session.id,
                         {.event_type = "tool.started",
                          .payload = R"({"tool": "bash"})"});
  // event->seq == 1 and the event is durable under options.sync.
  return event.ok() && event->seq == 1 ? 0 : 1;
}
