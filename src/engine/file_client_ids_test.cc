// The file engine's clientEventId index across restarts: dedupe after a
// snapshot plus replay and after a replay alone, ids whose tags collide,
// snapshots of content version 1 (ids as strings) still loading, damaged
// tag items refusing the snapshot, and the memory bound of SPEC §4.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "engine/client_id_index_test_util.h"
#include "engine/file_snapshot.h"
#include "engine/file_store_test_util.h"
#include "record/byte_reader.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_reader.h"
#include "snapshot/snapshot_writer.h"

namespace acpstore::engine {
namespace {

namespace item = snapshot_item;

// "0b 0f 07 ...": how docs/recovery.md writes an item's bytes.
std::string SpacedHex(std::string_view bytes) {
  std::string out;
  char buf[4];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x ", c);
    out += buf;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

class FileClientIdsTest : public FileStoreTest {
 protected:
  // Appends one event with `id`; returns {seq, created}.
  std::pair<EventSeq, bool> AppendWithId(const std::string& session,
                                         const std::string& id,
                                         const std::string& payload = "{}") {
    AppendRequest req;
    NewEvent e;
    e.event_type = "note";
    e.payload = payload;
    e.client_event_id = id;
    req.events.push_back(std::move(e));
    auto r = db().AppendEvents(kAlice, session, std::move(req));
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) return {0, false};
    EXPECT_EQ(r->events[0].client_event_id, std::optional<std::string>(id));
    return {r->events[0].seq, r->created[0]};
  }

  // Every id in `seqs` retried: each returns its original, none is new.
  void ExpectRetriesDedupe(const std::string& session,
                           const std::map<std::string, EventSeq>& seqs) {
    for (const auto& [id, seq] : seqs) {
      EXPECT_EQ(AppendWithId(session, id), std::make_pair(seq, false)) << id;
    }
  }

  // What a crash leaves: a copy of the open store's directory.
  std::string CrashCopy(const std::string& name) {
    const std::string copy = dir_.Join(name);
    std::filesystem::copy(options_.data_dir, copy,
                          std::filesystem::copy_options::recursive);
    std::filesystem::remove(copy + "/LOCK");
    return copy;
  }

  using Items = std::vector<std::pair<uint8_t, std::string>>;
  // Writes the newest snapshot again as the next number, each item passed
  // through `edit`, which returns the items to write in its place.
  uint64_t RewriteNewestSnapshot(
      const std::function<Items(uint8_t, std::string_view)>& edit) {
    auto files = snapshot::ListSnapshots(fs_, SnapshotDir()).value();
    EXPECT_FALSE(files.empty());
    auto reader = snapshot::SnapshotReader::Open(fs_, files[0].path).value();
    snapshot::SnapshotHeader header = reader->header();
    header.number = files[0].number + 1;
    auto writer =
        snapshot::SnapshotWriter::Create(fs_, SnapshotDir(), header).value();
    std::string_view chunk;
    while (reader->Next(&chunk)) {
      record::ByteReader in(chunk);
      std::string out;
      while (!in.empty()) {
        uint8_t tag = 0;
        std::string_view body;
        EXPECT_TRUE(ReadSnapshotItem(in, &tag, &body).ok());
        for (const auto& [t, b] : edit(tag, body)) {
          out.push_back(static_cast<char>(t));
          base::PutLengthPrefixed(&out, b);
        }
      }
      EXPECT_TRUE(writer->Add(out).ok());
    }
    EXPECT_TRUE(reader->status().ok()) << reader->status();
    EXPECT_TRUE(writer->Finish().ok());
    return header.number;
  }

  // (seq, tag) pairs of a kClientIdTags body.
  static std::vector<std::pair<EventSeq, uint32_t>> ParseTags(
      std::string_view body) {
    record::ByteReader in(body);
    uint32_t n = 0;
    EXPECT_TRUE(in.Varint32("n", &n).ok());
    std::vector<std::pair<EventSeq, uint32_t>> out;
    EventSeq seq = 0;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t tag = 0;
      uint64_t delta = 0;
      EXPECT_TRUE(in.Fixed32("tag", &tag).ok());
      EXPECT_TRUE(in.Varint64("delta", &delta).ok());
      seq += delta;
      out.emplace_back(seq, tag);
    }
    return out;
  }
};

TEST_F(FileClientIdsTest, RetriesDedupeAfterSnapshotPlusReplayAndReplayAlone) {
  Open();
  MustCreate("s");
  std::map<std::string, EventSeq> seqs;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "c-" + std::to_string(i);
    auto [seq, created] = AppendWithId("s", id);
    ASSERT_TRUE(created);
    seqs[id] = seq;
    if (i == 19) {
      ASSERT_TRUE(store().SnapshotNow().ok());
    }
  }
  const std::string copy = CrashCopy("crash");
  Close();

  options_.data_dir = copy;
  Open();
  ASSERT_TRUE(store().Info().snapshot_loaded.has_value());
  EXPECT_GT(store().Info().records_replayed, 0u);
  ExpectRetriesDedupe("s", seqs);
  EXPECT_EQ(AppendWithId("s", "c-new"), std::make_pair(EventSeq{31}, true));
  seqs["c-new"] = 31;

  Close();
  RemoveSnapshots();
  Open();
  ASSERT_FALSE(store().Info().snapshot_loaded.has_value());
  ExpectRetriesDedupe("s", seqs);
}

// Ids with the same tag: neither ever answers with the other's event, with
// the index rebuilt from a snapshot (same key), from a snapshot plus
// replay, and from the journal alone (a new key).
TEST_F(FileClientIdsTest, CollidingIdsStayApartAcrossSnapshotsAndReplay) {
  Open();
  const ClientIdKey key = store().ClientIdKeyForTesting();
  auto [a, b] = CollidingClientIds(key);
  auto [c, d] = CollidingClientIds(key, "other-");
  MustCreate("s");
  EXPECT_EQ(AppendWithId("s", a, R"({"v":"a"})"),
            std::make_pair(EventSeq{1}, true));
  EXPECT_EQ(AppendWithId("s", b, R"({"v":"b"})"),
            std::make_pair(EventSeq{2}, true));
  EXPECT_EQ(AppendWithId("s", c), std::make_pair(EventSeq{3}, true));
  ASSERT_TRUE(store().SnapshotNow().ok());
  // d's twin c is in the snapshot; d itself only in the journal after it.
  EXPECT_EQ(AppendWithId("s", d), std::make_pair(EventSeq{4}, true));
  const std::map<std::string, EventSeq> seqs = {{a, 1}, {b, 2}, {c, 3}, {d, 4}};
  const std::string copy = CrashCopy("crash");
  Reopen();  // the snapshot written at close
  EXPECT_EQ(store().ClientIdKeyForTesting(), key);
  ExpectRetriesDedupe("s", seqs);
  const std::vector<Event> events = AllEvents("s");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].payload, R"({"v":"a"})");
  EXPECT_EQ(events[1].payload, R"({"v":"b"})");

  Close();
  RemoveSnapshots();
  Open();  // journal only: a new key, tags computed again
  ExpectRetriesDedupe("s", seqs);
  Close();

  options_.data_dir = copy;
  Open();  // the snapshot taken before d, then d replayed
  ASSERT_TRUE(store().Info().snapshot_loaded.has_value());
  EXPECT_EQ(store().ClientIdKeyForTesting(), key);
  ExpectRetriesDedupe("s", seqs);
}

// A snapshot of content version 1 (ids as strings, no key) still loads.
TEST_F(FileClientIdsTest, Version1SnapshotsStillLoad) {
  Open();
  MustCreate("s");
  std::map<EventSeq, std::string> ids;
  std::map<std::string, EventSeq> seqs;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "v1-" + std::to_string(i);
    const EventSeq seq = AppendWithId("s", id).first;
    ids[seq] = id;
    seqs[id] = seq;
  }
  Close();
  bool saw_tags = false;
  const uint64_t v1 =
      RewriteNewestSnapshot([&](uint8_t tag, std::string_view body) -> Items {
        if (tag == item::kMeta) {
          // Version 1: the same counts, no key.
          record::ByteReader in(body);
          uint32_t version = 0;
          uint64_t sessions = 0, actions = 0;
          EXPECT_TRUE(in.Varint32("version", &version).ok());
          EXPECT_EQ(version, item::kVersionTranscripts);
          EXPECT_TRUE(in.Varint64("sessions", &sessions).ok());
          EXPECT_TRUE(in.Varint64("actions", &actions).ok());
          std::string out;
          base::PutVarint32(&out, 1);
          base::PutVarint64(&out, sessions);
          base::PutVarint64(&out, actions);
          return {{tag, out}};
        }
        if (tag == item::kClientIdTags) {
          saw_tags = true;
          const auto entries = ParseTags(body);
          std::string out;
          base::PutVarint32(&out, static_cast<uint32_t>(entries.size()));
          for (const auto& [seq, t] : entries) {
            base::PutLengthPrefixed(&out, ids.at(seq));
            base::PutVarint64(&out, seq);
          }
          return {{item::kClientIds, out}};
        }
        return {{tag, std::string(body)}};
      });
  ASSERT_TRUE(saw_tags);
  Open();
  EXPECT_EQ(store().Info().snapshot_loaded, std::optional<uint64_t>(v1));
  EXPECT_TRUE(store().Info().snapshots_skipped.empty());
  ExpectRetriesDedupe("s", seqs);
  EXPECT_TRUE(AppendWithId("s", "v1-new").second);
}

TEST_F(FileClientIdsTest, TagsThatDoNotAscendMakeTheSnapshotBeSkipped) {
  Open();
  MustCreate("s");
  std::map<std::string, EventSeq> seqs;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "d-" + std::to_string(i);
    seqs[id] = AppendWithId("s", id).first;
  }
  Close();
  const uint64_t bad =
      RewriteNewestSnapshot([&](uint8_t tag, std::string_view body) -> Items {
        if (tag != item::kClientIdTags) return {{tag, std::string(body)}};
        auto entries = ParseTags(body);
        entries.push_back(entries.back());  // a repeated seq: delta 0
        std::string out;
        base::PutVarint32(&out, static_cast<uint32_t>(entries.size()));
        EventSeq previous = 0;
        for (const auto& [seq, t] : entries) {
          base::PutFixed32(&out, t);
          base::PutVarint64(&out, seq - previous);
          previous = seq;
        }
        return {{tag, out}};
      });
  Open();
  ASSERT_EQ(store().Info().snapshots_skipped.size(), 1u);
  EXPECT_NE(store().Info().snapshots_skipped[0].find(std::to_string(bad)),
            std::string::npos);
  EXPECT_NE(store().Info().snapshots_skipped[0].find("do not ascend"),
            std::string::npos)
      << store().Info().snapshots_skipped[0];
  ExpectRetriesDedupe("s", seqs);
}

// A snapshot written before transcripts (content version 2: no transcript
// items) loads with each transcript rebuilt from the events retention left,
// incomplete when the stream no longer starts at seq 1. (Here for the
// snapshot-rewriting helper.)
TEST_F(FileClientIdsTest, Version2SnapshotsRebuildTranscriptsFromRetainedEvents) {
  options_.retention.max_events_per_session = 10;
  Open();
  MustCreate("cut");
  MustCreate("whole");
  std::string kept;
  for (int i = 0; i < 30; ++i) {
    NewEvent e;
    e.event_type = "message.delta";
    e.payload = R"({"acp":{},"text":"d)" + std::to_string(i) + R"(;"})";
    if (i >= 20) kept += "d" + std::to_string(i) + ";";
    ASSERT_TRUE(db().Append(kAlice, "cut", std::move(e)).ok());
  }
  NewEvent w;
  w.event_type = "thinking.delta";
  w.payload = R"({"text":"all"})";
  ASSERT_TRUE(db().Append(kAlice, "whole", std::move(w)).ok());
  Close();
  bool saw_head = false;
  const uint64_t v2 =
      RewriteNewestSnapshot([&](uint8_t tag, std::string_view body) -> Items {
        if (tag == item::kMeta) {
          std::string out(body);
          EXPECT_EQ(out[0], static_cast<char>(item::kVersionTranscripts));
          out[0] = 2;  // varint 2
          return {{tag, out}};
        }
        if (tag == item::kTranscriptHead) saw_head = true;
        if (tag == item::kTranscriptHead || tag == item::kTranscriptEntries) {
          return {};
        }
        return {{tag, std::string(body)}};
      });
  ASSERT_TRUE(saw_head);
  Open();
  EXPECT_EQ(store().Info().snapshot_loaded, std::optional<uint64_t>(v2));
  auto cut = db().ReadTranscript(kAlice, "cut", TranscriptQuery{});
  ASSERT_TRUE(cut.ok()) << cut.error();
  ASSERT_EQ(cut->entries.size(), 1u);
  EXPECT_EQ(cut->entries[0].text, kept);
  EXPECT_EQ(cut->entries[0].first_seq, 21u);
  EXPECT_FALSE(cut->complete);
  auto whole = db().ReadTranscript(kAlice, "whole", TranscriptQuery{});
  ASSERT_TRUE(whole.ok()) << whole.error();
  ASSERT_EQ(whole->entries.size(), 1u);
  EXPECT_EQ(whole->entries[0].text, "all");
  EXPECT_TRUE(whole->complete);
}

// The two examples of docs/recovery.md ("Snapshot contents"), byte for byte.
TEST_F(FileClientIdsTest, GoldenBytesOfTheDocumentedItems) {
  StateImage image;
  image.client_id_key = ClientIdKey{1, 2};
  SessionImage& s = image.sessions.emplace_back();
  s.session.id = "s";
  s.session.tenant_id = "t1";
  s.session.owner_key_id = "alice";
  s.events.first_seq = 3;
  s.events.last_seq = 5;
  s.events.durable.resize(3);
  s.client_ids = {{5, 0x00000001u}, {3, 0x47b3e05au}};  // in no order
  ASSERT_TRUE(
      WriteSnapshot(fs_, SnapshotDir(), 1, journal::JournalPosition{}, 0, image)
          .ok());
  std::map<uint8_t, std::string> items;  // tag -> the whole item
  auto files = snapshot::ListSnapshots(fs_, SnapshotDir()).value();
  ASSERT_EQ(files.size(), 1u);
  auto reader = snapshot::SnapshotReader::Open(fs_, files[0].path).value();
  std::string_view chunk;
  while (reader->Next(&chunk)) {
    record::ByteReader in(chunk);
    while (!in.empty()) {
      const std::string_view rest = in.rest();
      uint8_t tag = 0;
      std::string_view body;
      ASSERT_TRUE(ReadSnapshotItem(in, &tag, &body).ok());
      items[tag] = std::string(rest.substr(0, rest.size() - in.rest().size()));
    }
  }
  ASSERT_TRUE(reader->status().ok());
  EXPECT_EQ(SpacedHex(items[item::kMeta]),
            "01 13 02 01 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00");
  EXPECT_EQ(SpacedHex(items[item::kClientIdTags]),
            "08 0b 02 5a e0 b3 47 03 01 00 00 00 02");
  EXPECT_EQ(items.count(item::kClientIds), 0u);
}

// Decision 0027's example of docs/recovery.md ("Snapshot contents"): a
// reference to a sealed part of 2 entries (120 and 300 bytes, first index
// 1, highest last_seq 42) at offset 4096, 1000 bytes, CRC32C 0x12345678,
// in snapshot 7.
TEST_F(FileClientIdsTest, GoldenBytesOfTheSealedReferenceItem) {
  transcript::Transcript t;
  t.AddSealedDecoded(120);
  t.AddSealedDecoded(300);
  TranscriptSealed::Part p;
  p.snapshot = 7;
  p.offset = 4096;
  p.length = 1000;
  p.crc = 0x12345678;
  p.first_index = 1;
  p.count = 2;
  p.last_seq = 42;
  std::string body;
  EncodeSealedRef(t, p, &body);
  std::string whole(1, static_cast<char>(item::kTranscriptSealedRef));
  whole.push_back(static_cast<char>(body.size()));
  whole += body;
  EXPECT_EQ(SpacedHex(whole),
            "0b 0f 07 80 20 e8 07 78 56 34 12 01 02 2a 78 ac 02");
  SealedRefItem back;
  ASSERT_TRUE(DecodeSealedRef(body, &back).ok());
  EXPECT_EQ(back.part.snapshot, 7u);
  EXPECT_EQ(back.part.offset, 4096u);
  EXPECT_EQ(back.part.length, 1000u);
  EXPECT_EQ(back.part.crc, 0x12345678u);
  EXPECT_EQ(back.part.first_index, 1u);
  EXPECT_EQ(back.part.count, 2u);
  EXPECT_EQ(back.part.last_seq, 42u);
  EXPECT_EQ(back.entry_bytes, (std::vector<uint32_t>{120, 300}));
  // Damage is corruption, not a crash or a huge allocation.
  for (size_t cut = 0; cut < body.size(); ++cut) {
    EXPECT_FALSE(DecodeSealedRef(body.substr(0, cut), &back).ok()) << cut;
  }
  EXPECT_FALSE(DecodeSealedRef(body + "x", &back).ok());
}

// SPEC §4: at most 32 bytes of index per retained event, every event here
// carrying a clientEventId (16 for the event index, <= 16 for this one),
// while the stream grows and once the per-session cap drops one old event
// per new one (stale clientEventId entries count too).
TEST_F(FileClientIdsTest, IndexMemoryStaysWithin32BytesPerRetainedEvent) {
  constexpr int kCap = 10000;
  options_.sync = SyncMode::kNone;
  options_.retention.max_events_per_session = kCap;
  Open();
  MustCreate("s");
  auto per_event = [&] {
    const StoreStats stats = store().Stats();
    return static_cast<double>(stats.memory_index_bytes) /
           static_cast<double>(stats.events_retained);
  };
  std::vector<double> seen;
  for (int at = 0; at < 3 * kCap; at += 500) {
    AppendRequest req;
    for (int i = at; i < at + 500; ++i) {
      NewEvent e;
      e.event_type = "note";
      e.payload = "{}";
      e.client_event_id =
          "a-rather-long-client-event-id-of-some-client-" + std::to_string(i);
      req.events.push_back(std::move(e));
    }
    ASSERT_TRUE(db().AppendEvents(kAlice, "s", std::move(req)).ok());
    seen.push_back(per_event());
    EXPECT_GT(seen.back(), 16.0);  // the clientEventId index is counted
    EXPECT_LE(seen.back(), 32.0) << "after " << at + 500 << " events";
  }
  EXPECT_EQ(store().Stats().events_retained, static_cast<uint64_t>(kCap));
  Reopen();  // rebuilt from the snapshot written at close
  EXPECT_LE(per_event(), 32.0);
  std::printf("index bytes per retained event: %.2f..%.2f, %.2f reopened\n",
              *std::min_element(seen.begin(), seen.end()),
              *std::max_element(seen.begin(), seen.end()), per_event());
}

}  // namespace
}  // namespace acpstore::engine
