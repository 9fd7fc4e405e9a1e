#include "handlers/posts.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace backend {
namespace {

using sn::http::HttpError;

TEST(ParsePostText, AcceptsOneToTenThousandCharacters) {
    EXPECT_EQ(ParsePostText(R"({"text":"x"})"), "x");
    const std::string longest(kMaxPostChars, 'y');
    EXPECT_EQ(ParsePostText(R"({"text":")" + longest + R"("})"), longest);
    EXPECT_THROW((void)ParsePostText(R"({"text":")" + longest + R"(y"})"), HttpError);
    EXPECT_THROW((void)ParsePostText(R"({"text":""})"), HttpError);
    EXPECT_THROW((void)ParsePostText(R"({"text":5})"), HttpError);
    EXPECT_THROW((void)ParsePostText(R"({})"), HttpError);
    EXPECT_THROW((void)ParsePostText("{"), HttpError);
}

TEST(ParsePostEdit, NeedsAUuidAndText) {
    const auto edit = ParsePostEdit(R"({"id":"1D535FD6-7521-4CB1-AA6D-031BE7123C4D","text":"new"})");
    EXPECT_EQ(edit.id, "1d535fd6-7521-4cb1-aa6d-031be7123c4d");
    EXPECT_EQ(edit.text, "new");
    EXPECT_THROW((void)ParsePostEdit(R"({"id":"nope","text":"new"})"), HttpError);
    EXPECT_THROW((void)ParsePostEdit(R"({"text":"new"})"), HttpError);
}

TEST(PostJson, HasTheContractFields) {
    sn::JsonWriter writer;
    WriteJson(writer, Post{"p", "a", "t", 1'700'000'000'123'456});
    const auto json = boost::json::parse(std::move(writer).Take()).as_object();
    EXPECT_EQ(json.at("id"), "p");
    EXPECT_EQ(json.at("author_user_id"), "a");
    EXPECT_EQ(json.at("text"), "t");
    EXPECT_EQ(json.at("created_at"), "2023-11-14T22:13:20.123456Z");
}

}  // namespace
}  // namespace backend
