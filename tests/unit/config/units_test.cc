#include "base/units.h"

#include <gtest/gtest.h>

namespace gridprobe::config {
namespace {

TEST(ParseDurationTest, ReadsEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(ParseDuration("1.5s"), absl::Milliseconds(1500));
  EXPECT_EQ(ParseDuration("2m"), absl::Minutes(2));
  EXPECT_EQ(ParseDuration("1h"), absl::Hours(1));
  EXPECT_EQ(ParseDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(ParseDuration("100us"), absl::Microseconds(100));
  EXPECT_EQ(ParseDuration("100\xC2\xB5s"), absl::Microseconds(100));
  EXPECT_EQ(ParseDuration("500ns"), absl::Nanoseconds(500));
  EXPECT_EQ(ParseDuration("16.7ms"), absl::Microseconds(16700));
  EXPECT_EQ(ParseDuration("7d"), absl::Hours(7 * 24));  // retention ages
  EXPECT_EQ(ParseDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(ParseDuration(" 5s "), absl::Seconds(5));
}

TEST(ParseDurationTest, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "10", "1.5", "ms", "-1s", "1e3ms", "1 s", "1sec", "inf", "nans",
                          "0x10s", "1.s.", "5w", "1000000h", "50000d", ".s"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
}

TEST(ParseSizeTest, ReadsBinaryAndDecimalUnits) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("64KiB"), 65536u);
  EXPECT_EQ(ParseSize("1MiB"), 1048576u);
  EXPECT_EQ(ParseSize("1.5MiB"), 1572864u);
  EXPECT_EQ(ParseSize("2GiB"), 2147483648u);
  EXPECT_EQ(ParseSize("10kB"), 10000u);
  EXPECT_EQ(ParseSize("3MB"), 3000000u);
  EXPECT_EQ(ParseSize("12B"), 12u);
  EXPECT_EQ(ParseSize("0"), 0u);
}

TEST(ParseSizeTest, RejectsWhatIsNotASize) {
  for (const char* bad : {"", "1.5", "KiB", "-4", "64kib", "64 apples", "1e6", "64K", "2EiB"}) {
    EXPECT_EQ(ParseSize(bad), std::nullopt) << bad;
  }
}

TEST(FormatTest, WritesTheShortestTextThatReadsBack) {
  EXPECT_EQ(FormatConfigDuration(absl::Microseconds(16700)), "16.7ms");
  EXPECT_EQ(FormatConfigDuration(absl::Hours(1)), "1h");
  EXPECT_EQ(FormatConfigDuration(absl::Seconds(90)), "1.5m");
  EXPECT_EQ(FormatConfigDuration(absl::Nanoseconds(1234567)), "1234.567us");
  EXPECT_EQ(FormatConfigDuration(absl::Nanoseconds(7)), "7ns");
  EXPECT_EQ(FormatConfigDuration(absl::ZeroDuration()), "0");
  EXPECT_EQ(FormatConfigSize(65536), "64KiB");
  EXPECT_EQ(FormatConfigSize(1572864), "1.5MiB");
  EXPECT_EQ(FormatConfigSize(1000), "1000");
  for (int64_t ns :
       std::vector<int64_t>{1, 999, 1000, 16700000, 33300000, 1234567891, 3600000000000}) {
    EXPECT_EQ(ParseDuration(FormatConfigDuration(absl::Nanoseconds(ns))), absl::Nanoseconds(ns))
        << ns;
  }
  for (uint64_t bytes : std::vector<uint64_t>{1, 1023, 1024, 131072, 1000000, uint64_t{5} << 40}) {
    EXPECT_EQ(ParseSize(FormatConfigSize(bytes)), bytes) << bytes;
  }
}

}  // namespace
}  // namespace gridprobe::config
