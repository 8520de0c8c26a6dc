// AegisReader: records come out one at a time with their JSON paths, in
// both collection shapes (array, object keyed by id / by session id), and
// structural damage names the byte offset and the path.

#include "aegis/reader.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <fstream>
#include <string>
#include <vector>

#include "io/test_dir.h"

namespace acpstore::aegis {
namespace {

class ReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    std::string path = dir_.Join("state.json");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }
  Result<FileLayout> ReadAll(const std::string& text, size_t chunk = 7) {
    records_.clear();
    ReadOptions options;
    options.chunk_bytes = chunk;  // tiny chunks split every token
    return ReadAegisFile(Write(text), options, [this](RawRecord& r) {
      records_.push_back(r);
      return Status::OK();
    });
  }

  io::TempDir dir_;
  std::vector<RawRecord> records_;
};

TEST_F(ReaderTest, ArrayRecordsComeOutCompactWithTheirMembers) {
  auto layout = ReadAll(R"({ "version" : 1,
      "sessions" : [ { "id" : "s\"1", "n" : [ 1 , 2.50 , {"a" : null} ] } ] })");
  ASSERT_TRUE(layout.ok()) << layout.error();
  EXPECT_EQ(layout->version, 1);
  ASSERT_EQ(records_.size(), 1u);
  const RawRecord& r = records_[0];
  EXPECT_EQ(r.path, "$.sessions[0]");
  EXPECT_TRUE(r.is_object);
  EXPECT_EQ(r.text, R"({"id":"s\"1","n":[1,2.50,{"a":null}]})");
  EXPECT_EQ(r.Get("id").value(), R"("s\"1")");
  EXPECT_EQ(r.Get("n").value(), R"([1,2.50,{"a":null}])");
  EXPECT_FALSE(r.Get("missing").has_value());
}

TEST_F(ReaderTest, MapShapesGiveTheKeyAndPathsQuoteOddKeys) {
  auto layout = ReadAll(R"({"events":{"sess-1":[{"eventSeq":1},{"eventSeq":2}]},
      "actions":{"a1":{"type":"prompt"}},"version":1})");
  ASSERT_TRUE(layout.ok()) << layout.error();
  ASSERT_EQ(records_.size(), 3u);
  EXPECT_EQ(records_[1].path, R"($.events["sess-1"][1])");
  EXPECT_EQ(records_[1].map_key.value(), "sess-1");
  EXPECT_EQ(records_[1].ordinal, 1u);
  EXPECT_EQ(records_[2].path, "$.actions.a1");
  EXPECT_EQ(records_[2].map_key.value(), "a1");
  EXPECT_EQ(records_[2].collection, Collection::kActions);
  ASSERT_EQ(layout->order.size(), 2u);
  EXPECT_EQ(layout->order[0], Collection::kEvents);
}

TEST_F(ReaderTest, NonObjectsAndDuplicateKeysAreHandedOverFlagged) {
  auto layout = ReadAll(
      R"({"version":1,"sessions":["text",{"id":"a","id":"b"}],"pauses":null,"x":{"y":[1]}})");
  ASSERT_TRUE(layout.ok()) << layout.error();
  ASSERT_EQ(records_.size(), 2u);
  EXPECT_FALSE(records_[0].is_object);
  EXPECT_EQ(records_[0].text, "\"text\"");
  EXPECT_EQ(records_[1].duplicate_key.value(), "id");
  EXPECT_EQ(layout->unknown_keys, std::vector<std::string>{"x"});
}

TEST_F(ReaderTest, AnOversizedMemberIsElidedAndTheRestOfTheRecordKept) {
  ReadOptions options;
  options.max_record_bytes = 64;
  std::vector<RawRecord> seen;
  auto layout = ReadAegisFile(
      Write(R"({"version":1,"events":[{"eventSeq":4,"payload":")" +
            std::string(1000, 'x') +
            R"(","eventType":"t"},{"payload":1},{"a":")" +
            std::string(100, 'y') + R"(","b":")" + std::string(100, 'z') +
            R"("}]})"),
      options, [&](RawRecord& r) {
        seen.push_back(r);
        return Status::OK();
      });
  ASSERT_TRUE(layout.ok()) << layout.error();
  ASSERT_EQ(seen.size(), 3u);
  // The payload is left out (it reads as null); seq and type survive.
  EXPECT_FALSE(seen[0].too_large);
  ASSERT_TRUE(seen[0].elided.has_value());
  EXPECT_EQ(seen[0].elided->key, "payload");
  EXPECT_GE(seen[0].elided->bytes, 64u);
  EXPECT_EQ(seen[0].text, R"({"eventSeq":4,"payload":null,"eventType":"t"})");
  EXPECT_EQ(seen[0].Get("eventType").value(), "\"t\"");
  EXPECT_FALSE(seen[1].too_large);
  EXPECT_FALSE(seen[1].elided.has_value());
  // Only one member is elided: a second one over the cap drops the record.
  EXPECT_TRUE(seen[2].too_large);
  EXPECT_TRUE(seen[2].text.empty());
}

// JSON.stringify writes a lone surrogate as an escape; Boost.JSON refuses
// it. The reader rewrites it to U+FFFD and notes the member, whatever the
// chunk boundaries.
TEST_F(ReaderTest, LoneSurrogatesBecomeReplacementCharactersAndAreNoted) {
  const std::string text =
      R"({"version":1,"events":[{"eventSeq":1,"payload":{"text":"cut \ud83d"}},)"
      R"({"eventSeq":2,"payload":"pair \ud83d\ude00 ok"},)"
      R"({"eventSeq":3,"eventType":"\udc00x\uD800"}],"other":"\ud800"})";
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{4096}}) {
    SCOPED_TRACE(chunk);
    auto layout = ReadAll(text, chunk);
    ASSERT_TRUE(layout.ok()) << layout.error();
    ASSERT_EQ(records_.size(), 3u);
    EXPECT_EQ(records_[0].Get("payload").value(),
              "{\"text\":\"cut \xEF\xBF\xBD\"}");
    EXPECT_EQ(records_[0].surrogates, std::vector<std::string>{"payload"});
    EXPECT_EQ(records_[1].Get("payload").value(),
              "\"pair \xF0\x9F\x98\x80 ok\"");
    EXPECT_TRUE(records_[1].surrogates.empty());
    EXPECT_EQ(records_[2].Get("eventType").value(),
              "\"\xEF\xBF\xBDx\xEF\xBF\xBD\"");
    EXPECT_EQ(records_[2].surrogates,
              (std::vector<std::string>{"eventType", "eventType"}));
    EXPECT_EQ(layout->surrogates_outside_records, 1u);
  }
}

TEST_F(ReaderTest, TruncatedFileNamesTheEndAndThePath) {
  auto layout =
      ReadAll(R"({"version":1,"events":[{"eventSeq":1},{"eventSeq":)");
  ASSERT_FALSE(layout.ok());
  const std::string msg(layout.error().message());
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte 50"), std::string::npos) << msg;
  EXPECT_NE(msg.find("$.events[1].eventSeq"), std::string::npos) << msg;
}

TEST_F(ReaderTest, InvalidJsonNamesTheByteOffsetAndPath) {
  auto layout =
      ReadAll(R"({"version":1,"sessions":[{"id":"a"},{"id" "b"}]})", 1 << 20);
  ASSERT_FALSE(layout.ok());
  const std::string msg(layout.error().message());
  EXPECT_NE(msg.find("invalid JSON at byte 42"), std::string::npos) << msg;
  EXPECT_NE(msg.find("$.sessions[1]"), std::string::npos) << msg;
}

TEST_F(ReaderTest, ShapeErrorsAreStructural) {
  EXPECT_FALSE(ReadAll("[1,2]").ok());
  auto twice = ReadAll(R"({"sessions":[],"sessions":[]})");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message().find("appears twice"), std::string::npos);
  auto scalar = ReadAll(R"({"sessions":5})");
  ASSERT_FALSE(scalar.ok());
  EXPECT_NE(scalar.error().message().find("$.sessions"), std::string::npos)
      << scalar.error();
  auto trailing = ReadAll(R"({"version":1} x)");
  EXPECT_FALSE(trailing.ok());
  EXPECT_FALSE(ReadAll("").ok());
}

TEST_F(ReaderTest, UnwantedCollectionsAreSkippedButCounted) {
  ReadOptions options;
  options.want[static_cast<size_t>(Collection::kEvents)] = false;
  std::vector<std::string> paths;
  auto layout = ReadAegisFile(
      Write(
          R"({"version":1,"events":[{"a":1},{"a":2}],"sessions":[{"id":"s"}]})"),
      options, [&](RawRecord& r) {
        paths.push_back(r.path);
        return Status::OK();
      });
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(paths, std::vector<std::string>{"$.sessions[0]"});
  EXPECT_EQ(layout->records[static_cast<size_t>(Collection::kEvents)], 2u);
}

TEST_F(ReaderTest, SinkErrorStopsTheReadAndIsReturnedAsIs) {
  ReadOptions options;
  auto layout = ReadAegisFile(
      Write(R"({"version":1,"sessions":[{"id":"s"},{"id":"t"}]})"), options,
      [](RawRecord&) { return Status::Conflict("stop here"); });
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), StatusCode::kConflict);
  EXPECT_EQ(layout.error().message(), "stop here");
}

// Boost's parser descends by recursion, a frame per level: a payload of
// '[' x 1,000,000 (and 100,000 in 200 KB, under the default 8 MiB stack)
// overflowed the stack. Containers past max_depth reach the record as `0`
// (still too deep for any limit), also in a key that is skipped, and the
// read runs on a thread with a 256 KiB stack. Chunks of 7 bytes: the cap
// follows the nesting across chunk boundaries.
TEST_F(ReaderTest, NestingPastMaxDepthIsCutWithoutRecursingIntoIt) {
  constexpr size_t kDeep = 1'000'000;
  const std::string deep = std::string(kDeep, '[') + std::string(kDeep, ']');
  const std::string text = R"({"version":1,"x":)" + deep +
                           R"(,"events":[{"eventSeq":1,"payload":)" + deep +
                           R"(,"s":"[{"}]})";
  const std::string path = Write(text);
  struct Run {
    std::string path;
    Result<FileLayout> layout = Status::Internal("not run");
    std::vector<RawRecord> records;
  } run{path};
  auto body = [](void* arg) -> void* {
    auto* r = static_cast<Run*>(arg);
    ReadOptions options;
    options.chunk_bytes = 7;
    options.max_depth = 100;
    r->layout = ReadAegisFile(r->path, options, [r](RawRecord& rec) {
      r->records.push_back(rec);
      return Status::OK();
    });
    return nullptr;
  };
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 << 10), 0);
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attr, body, &run), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);

  ASSERT_TRUE(run.layout.ok()) << run.layout.error();
  EXPECT_EQ(run.layout->unknown_keys, std::vector<std::string>{"x"});
  ASSERT_EQ(run.records.size(), 1u);
  // The payload opens at depth 4 (top, events, the event): 97 levels kept.
  std::optional<std::string_view> payload = run.records[0].Get("payload");
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(*payload,
            std::string(97, '[') + "0" + std::string(97, ']'));
  // The record after the cut is read as it is.
  EXPECT_EQ(run.records[0].Get("s"), std::optional<std::string_view>(
                                         R"("[{")"));
}

// The cut keeps the file's length, so a structural error past it still
// names the file's own byte offset.
TEST_F(ReaderTest, AnErrorAfterACutNamesTheFilesOffset) {
  const std::string text = R"({"version":1,"x":[[[[1]]]],"sessions":[}]})";
  records_.clear();
  ReadOptions options;
  options.max_depth = 2;
  Result<FileLayout> layout = ReadAegisFile(
      Write(text), options, [](RawRecord&) { return Status::OK(); });
  ASSERT_FALSE(layout.ok());
  const std::string msg(layout.error().message());
  EXPECT_NE(msg.find("invalid JSON at byte 39"), std::string::npos) << msg;
}

}  // namespace
}  // namespace acpstore::aegis
