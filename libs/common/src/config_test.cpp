#include "common/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sn::config {
namespace {

TEST(EnvReader, UsesFallbackAndRecordsIt) {
    ::unsetenv("SN_TEST_PORT");
    EnvReader env;
    EXPECT_EQ(env.Int("SN_TEST_PORT", 8080, 1, 65535), 8080);
    EXPECT_EQ(env.Effective().at("SN_TEST_PORT").as_int64(), 8080);
}

TEST(EnvReader, RejectsOutOfRangeAndGarbage) {
    EnvReader env;
    ::setenv("SN_TEST_PORT", "70000", 1);
    EXPECT_THROW((void)env.Int("SN_TEST_PORT", 8080, 1, 65535), ConfigError);
    ::setenv("SN_TEST_PORT", "80a", 1);
    EXPECT_THROW((void)env.Int("SN_TEST_PORT", 8080, 1, 65535), ConfigError);
    ::setenv("SN_TEST_FLAG", "maybe", 1);
    EXPECT_THROW((void)env.Bool("SN_TEST_FLAG", true), ConfigError);
}

TEST(EnvReader, MasksSecretsAndUrlPasswords) {
    ::setenv("SN_TEST_URL", "amqp://guest:hunter2@127.0.0.1:5672/", 1);
    ::setenv("SN_TEST_SECRET", "hunter2", 1);
    EnvReader env;
    EXPECT_EQ(env.String("SN_TEST_URL", ""), "amqp://guest:hunter2@127.0.0.1:5672/");
    EXPECT_EQ(env.Secret("SN_TEST_SECRET", ""), "hunter2");
    EXPECT_EQ(env.Effective().at("SN_TEST_URL").as_string(), "amqp://guest:***@127.0.0.1:5672/");
    EXPECT_EQ(env.Effective().at("SN_TEST_SECRET").as_string(), "***");
}

TEST(MaskUrlPassword, MasksEveryUrlOfAList) {
    EXPECT_EQ(MaskUrlPassword("amqp://dialogs:s1@127.0.0.31:5672/,amqp://dialogs:s2@127.0.0.32:5672/,amqp://x@h/"),
              "amqp://dialogs:***@127.0.0.31:5672/,amqp://dialogs:***@127.0.0.32:5672/,amqp://x@h/");
}

TEST(MaskUrlPassword, LeavesUrlsWithoutPasswordAlone) {
    EXPECT_EQ(MaskUrlPassword("http://127.0.0.1:8081"), "http://127.0.0.1:8081");
    EXPECT_EQ(MaskUrlPassword("host=x port=1"), "host=x port=1");
}

}  // namespace
}  // namespace sn::config
