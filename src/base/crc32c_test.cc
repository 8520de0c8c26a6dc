// Tests of CRC32C against published vectors and of the two implementations
// against each other.

#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace acpstore::base::crc32c {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Value(ascending), 0x46DD794Eu);
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) descending[i] = static_cast<char>(31 - i);
  EXPECT_EQ(Value(descending), 0x113FDB5Cu);
  EXPECT_EQ(Value(""), 0u);
}

TEST(Crc32cTest, ExtendEqualsValueOfConcatenation) {
  const std::string a = "hello ", b = "world";
  EXPECT_EQ(Extend(Value(a), b.data(), b.size()), Value(a + b));
}

TEST(Crc32cTest, MaskRoundTripsAndChangesTheValue) {
  const uint32_t crc = Value("foo");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
}

// x86 only: elsewhere there is no hardware path to compare with. On x86 a
// CPU without SSE4.2 fails rather than skips, so a run that never tested
// the path the store takes cannot pass.
#if defined(__x86_64__) || defined(__i386__)
TEST(Crc32cTest, SoftwareMatchesHardwareOnRandomData) {
  ASSERT_TRUE(HardwareAvailable()) << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(42);
  std::string data(4096 + 13, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  // Every length and misalignment around the 8-byte stride, plus big ones.
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; len + start <= data.size();
         len += (len < 64 ? 1 : 509)) {
      const uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(ExtendSoftware(seed, data.data() + start, len),
                ExtendHardware(seed, data.data() + start, len))
          << "start " << start << " len " << len;
    }
  }
}

// Inputs of three 256-byte stripes or more are folded by three chains and
// joined (crc32c.cc): every length around one, two and many stripe blocks,
// at every alignment, with random seeds, agrees with the software path.
TEST(Crc32cTest, SoftwareMatchesHardwareAcrossStripeBlocks) {
  ASSERT_TRUE(HardwareAvailable()) << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(7);
  std::string data(8 * 768 + 64, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 700; len + start <= data.size();
         len += (len % 768 > 740 || len % 768 < 30) ? 1 : 37) {
      const uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(ExtendSoftware(seed, data.data() + start, len),
                ExtendHardware(seed, data.data() + start, len))
          << "start " << start << " len " << len;
    }
  }
  // All zeros and all ones, where a wrong join would cancel out least.
  for (char fill : {'\0', '\xff'}) {
    const std::string same(5000, fill);
    EXPECT_EQ(ExtendSoftware(0, same.data(), same.size()),
              ExtendHardware(0, same.data(), same.size()));
  }
}
#endif

TEST(Crc32cTest, SoftwarePathMatchesKnownVector) {
  EXPECT_EQ(ExtendSoftware(0, "123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace acpstore::base::crc32c
