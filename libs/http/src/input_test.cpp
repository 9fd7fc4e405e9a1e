#include "http/input.hpp"

#include <gtest/gtest.h>

namespace sn::http::input {
namespace {

Status StatusOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const HttpError& e) {
        return e.status();
    }
    return Status::ok;
}

TEST(ParseObject, RejectsMalformedAndNonObjects) {
    EXPECT_EQ(StatusOf([] { (void)ParseObject("{"); }), Status::bad_request);
    EXPECT_EQ(StatusOf([] { (void)ParseObject("[1]"); }), Status::bad_request);
    EXPECT_EQ(StatusOf([] { (void)ParseObject("\"\xff\""); }), Status::bad_request);
    EXPECT_EQ(ParseObject(R"({"a":1})").at("a").as_int64(), 1);
}

TEST(RequiredString, ChecksPresenceTypeAndLengthInCharacters) {
    const auto obj = ParseObject(R"({"name":"Иван","n":5,"empty":""})");
    EXPECT_EQ(RequiredString(obj, "name", 1, 4), "Иван");
    EXPECT_EQ(StatusOf([&] { (void)RequiredString(obj, "name", 1, 3); }), Status::bad_request);
    EXPECT_EQ(StatusOf([&] { (void)RequiredString(obj, "n", 1, 3); }), Status::bad_request);
    EXPECT_EQ(StatusOf([&] { (void)RequiredString(obj, "missing", 1, 3); }), Status::bad_request);
    EXPECT_EQ(StatusOf([&] { (void)RequiredString(obj, "empty", 1, 3); }), Status::bad_request);
    EXPECT_EQ(OptionalString(obj, "missing", 3, "x"), "x");
}

TEST(RequiredString, RejectsNulCharacters) {
    const auto obj = ParseObject(R"({"name":"a\u0000b"})");
    EXPECT_EQ(StatusOf([&] { (void)RequiredString(obj, "name", 1, 10); }), Status::bad_request);
}

TEST(BirthDate, AcceptsRealPastDatesOnly) {
    EXPECT_EQ(BirthDate("2017-02-01", "birthdate"), "2017-02-01");
    EXPECT_EQ(StatusOf([] { (void)BirthDate("2023-02-30", "birthdate"); }), Status::bad_request);
    EXPECT_EQ(StatusOf([] { (void)BirthDate("1899-12-31", "birthdate"); }), Status::bad_request);
    EXPECT_EQ(StatusOf([] { (void)BirthDate("3000-01-01", "birthdate"); }), Status::bad_request);
    EXPECT_EQ(StatusOf([] { (void)BirthDate("2017-2-01", "birthdate"); }), Status::bad_request);
    EXPECT_EQ(StatusOf([] { (void)BirthDate("2017-02-0x", "birthdate"); }), Status::bad_request);
}

TEST(Uuid, NormalisesOrRejects) {
    EXPECT_EQ(Uuid("E4D2E6B0-CDE2-42C5-AAC3-0B8316F21E58", "id"), "e4d2e6b0-cde2-42c5-aac3-0b8316f21e58");
    EXPECT_EQ(StatusOf([] { (void)Uuid("42", "id"); }), Status::bad_request);
}

TEST(Query, ParsesIntegersAndStrings) {
    Request req{Verb::get, "/user/search?first_name=%D0%98&limit=5&bad=%FF", 11};
    Context ctx{req, "rid", {}, {}, {}};
    EXPECT_EQ(QueryInt(ctx, "limit", 100, 1, 1000), 5);
    EXPECT_EQ(QueryInt(ctx, "absent", 100, 1, 1000), 100);
    EXPECT_EQ(StatusOf([&] { (void)QueryInt(ctx, "first_name", 1, 1, 10); }), Status::bad_request);
    EXPECT_EQ(QueryString(ctx, "first_name", 1, 10), "И");
    EXPECT_EQ(StatusOf([&] { (void)QueryString(ctx, "bad", 1, 10); }), Status::bad_request);
    EXPECT_EQ(StatusOf([&] { (void)QueryString(ctx, "absent", 1, 10); }), Status::bad_request);
}

}  // namespace
}  // namespace sn::http::input
