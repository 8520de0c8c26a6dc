// Tests for Status: wire names, details, copies and the printed form.

#include "acpstore/status.h"

#include <gtest/gtest.h>

#include "acpstore/result.h"

namespace acpstore {
namespace {

TEST(StatusTest, DefaultIsOkAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_TRUE(s.details().empty());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, OkCodeWithMessageIsStillOk) {
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, WireNamesAreSnakeCase) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(StatusCodeName(StatusCode::kConflict), "conflict");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidTransition),
            "invalid_transition");
  EXPECT_EQ(StatusCodeName(StatusCode::kSeqConflict), "seq_conflict");
  EXPECT_EQ(StatusCodeName(StatusCode::kIdempotencyConflict),
            "idempotency_conflict");
  EXPECT_EQ(StatusCodeName(StatusCode::kStaleLease), "stale_lease");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyPaused), "already_paused");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotPaused), "not_paused");
  EXPECT_EQ(StatusCodeName(StatusCode::kPayloadTooLarge), "payload_too_large");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "unavailable");
  EXPECT_EQ(StatusCodeName(StatusCode::kInsufficientStorage),
            "insufficient_storage");
  EXPECT_EQ(StatusCodeName(StatusCode::kDataLoss), "data_loss");
  EXPECT_EQ(StatusCodeName(StatusCode::kCorruption), "corruption");
  EXPECT_EQ(StatusCodeName(StatusCode::kIoError), "io_error");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "internal");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "unauthenticated");
  EXPECT_EQ(StatusCodeName(StatusCode::kForbidden), "forbidden");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted),
            "too_many_requests");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotImplemented), "not_implemented");
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  Status s = Status::SeqConflict("expected lastSeq 3 but it is 4");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kSeqConflict);
  EXPECT_EQ(s.message(), "expected lastSeq 3 but it is 4");
  EXPECT_EQ(Status::DataLoss("x").code(), StatusCode::kDataLoss);
  EXPECT_EQ(Status::ResourceExhausted("x").code(),
            StatusCode::kResourceExhausted);
}

TEST(StatusTest, DetailsChainAndPrint) {
  Status s = Status::SeqConflict("expected lastSeq 3 but it is 4")
                 .With("lastSeq", int64_t{4});
  const StatusDetail* d = s.Detail("lastSeq");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(std::get<int64_t>(d->value), 4);
  EXPECT_EQ(s.Detail("missing"), nullptr);
  EXPECT_EQ(s.ToString(),
            "seq_conflict: expected lastSeq 3 but it is 4 [lastSeq=4]");
}

TEST(StatusTest, StringLiteralDetailIsAString) {
  Status s = Status::InvalidArgument("bad").With("field", "payload");
  ASSERT_NE(s.Detail("field"), nullptr);
  EXPECT_EQ(std::get<std::string>(s.Detail("field")->value), "payload");
}

TEST(StatusTest, SameDetailKeyReplacesValue) {
  Status s = Status::InvalidArgument("bad");
  s.With("field", "a").With("field", "b").With("n", int64_t{1});
  ASSERT_EQ(s.details().size(), 2u);
  EXPECT_EQ(std::get<std::string>(s.Detail("field")->value), "b");
  EXPECT_EQ(s.ToString(), "invalid_argument: bad [field=b, n=1]");
}

TEST(StatusTest, WithOnOkHasNoEffect) {
  Status s;
  s.With("field", "x");
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(s.details().empty());
}

TEST(StatusTest, CopyIsDeep) {
  Status a = Status::NotFound("session s1").With("id", "s1");
  Status b = a;
  b.With("id", "changed");
  EXPECT_EQ(std::get<std::string>(a.Detail("id")->value), "s1");
  EXPECT_EQ(std::get<std::string>(b.Detail("id")->value), "changed");
  Status c;
  c = a;
  EXPECT_EQ(c.code(), StatusCode::kNotFound);
  EXPECT_EQ(c.message(), "session s1");
  c = Status::OK();
  EXPECT_TRUE(c.ok());
  EXPECT_FALSE(a.ok());
}

TEST(StatusTest, MoveLeavesTargetWithState) {
  Status a = Status::Conflict("dup");
  Status b = std::move(a);
  EXPECT_EQ(b.code(), StatusCode::kConflict);
}

TEST(StatusTest, StreamsToString) {
  std::ostringstream os;
  os << Status::Internal("boom");
  EXPECT_EQ(os.str(), "internal: boom");
}

Status FailIfNegative(int x) {
  if (x < 0) return Status::InvalidArgument("negative");
  return Status::OK();
}

Status Chain(int x) {
  ACPSTORE_RETURN_IF_ERROR(FailIfNegative(x));
  return Status::NotFound("reached the end");
}

TEST(StatusTest, ReturnIfErrorPropagates) {
  EXPECT_EQ(Chain(-1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Chain(1).code(), StatusCode::kNotFound);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ACPSTORE_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ResultCarriesValueOrStatus) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Quarter(4).status().ok());
}

}  // namespace
}  // namespace acpstore
