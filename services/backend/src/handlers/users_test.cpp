#include "handlers/users.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace backend {
namespace {

using sn::http::HttpError;

TEST(ParseNewUser, AcceptsAValidProfile) {
    const auto user = ParseNewUser(
        R"({"first_name":"Иван","second_name":"Петров","birthdate":"1990-05-17","city":"Москва","password":"12345678"})");
    EXPECT_EQ(user.first_name, "Иван");
    EXPECT_EQ(user.birthdate, "1990-05-17");
    EXPECT_EQ(user.biography, "");
}

TEST(ParseNewUser, RejectsEachBadField) {
    const char* bad[] = {
        R"({"second_name":"P","birthdate":"1990-05-17","password":"12345678"})",
        R"({"first_name":5,"second_name":"P","birthdate":"1990-05-17","password":"12345678"})",
        R"({"first_name":"I","second_name":"P","birthdate":"1990-02-30","password":"12345678"})",
        R"({"first_name":"I","second_name":"P","birthdate":"1990-05-17","password":"short"})",
        R"({"first_name":"I","second_name":"P","birthdate":"1990-05-17","password":"12345678","city":[]})",
        R"(["not an object"])",
        R"({"first_name":)",
    };
    for (const char* body : bad) {
        EXPECT_THROW((void)ParseNewUser(body), HttpError) << body;
    }
}

TEST(UserJson, NeverCarriesThePassword) {
    sn::JsonWriter writer;
    WriteJson(writer, User{"id", "I", "P", "1990-05-17", "", ""});
    const auto json = boost::json::parse(std::move(writer).Take()).as_object();
    EXPECT_EQ(json.size(), 6U);
    EXPECT_FALSE(json.contains("password"));
    EXPECT_FALSE(json.contains("password_hash"));
}

}  // namespace
}  // namespace backend
